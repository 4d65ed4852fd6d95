"""The GitHub device-flow login service that fills a CopilotProxy's token store.

Functional core (device_flow, copilot, login, security, the pure parts of the
stores) and a thin shell (manager: background logins; app: FastAPI routes).
"""
