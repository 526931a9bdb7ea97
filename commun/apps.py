from django.apps import AppConfig


class CommunConfig(AppConfig):
    """The shared toolkit (no models): formats, exports, cache, middleware, error views."""

    name = "commun"
    verbose_name = "Outils communs"

    def ready(self):
        from . import checks  # noqa: F401 (registers the system checks)
