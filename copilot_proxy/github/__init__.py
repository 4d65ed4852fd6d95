"""The HTTP clients of GitHub and Copilot: the OAuth device flow, the Copilot key
exchange and the account's usage. Shared by the login service, the operator and the
local mode; pure parsing next to each call (docs/upstream.md)."""
