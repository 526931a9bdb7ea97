from django.apps import AppConfig


class CommunConfig(AppConfig):
    """The shared toolkit (no models): formats, exports, cache, middleware, error views,
    the French search engine (its PostgreSQL text-search configuration is a migration)."""

    name = "commun"
    verbose_name = "Outils communs"

    def ready(self):
        # Registers the SQLite `ti_sans_accents` function on every new connection.
        from . import (
            checks,  # noqa: F401 (registers the system checks)
            recherche,  # noqa: F401
        )
