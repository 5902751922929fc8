"""The HTTP service: /health, the JSON API, /metrics and the dashboard.

Handlers read the daemon's latest published view and the history database;
none of them talks to systemd, except the explicit, authenticated actions.
"""
