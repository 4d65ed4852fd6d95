"""The GitHub device-flow login service that fills a CopilotProxy's token store.

Functional core: device_flow.py and copilot.py (GitHub's answers), login_flow.py
(one login as a state machine), security.py, views.py, and the token Secret's
format (copilot_proxy.core.token_secret). Thin shell: manager.py (logins polling
in the background), stores/ (Secrets or files), deps.py and routes/ (FastAPI),
app.py (assembles them; `serve`).
"""
