"""What runs inside the LiteLLM proxy process: the callback its config loads.

hook.py is the thin CustomLogger (render.REQUEST_LOGGER names its instance);
it delegates to pure modules, tested without a proxy: failures.py,
cooldowns.py, routing.py, request_line.py. internals/ is the one place that
touches LiteLLM's internals. Nothing here imports LiteLLM at package import:
the local mode imports request_line.LOGGER_NAME.
"""
