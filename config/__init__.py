"""Wiring only: settings, root URLs, WSGI/ASGI and the database router."""
