"""The login service's HTTP routes, one router per resource; `app.create_app` includes them.

- page.py: the login page at /github (and / redirecting there);
- monitoring.py: /healthz, /readyz, /metrics;
- session.py: /api/session, unlocking the page with the admin credential;
- proxies.py: /api/proxies, what is served, starting a sign-in, signing out;
- logins.py: /api/logins/{id}, one sign-in in progress (read, cancel).
"""
