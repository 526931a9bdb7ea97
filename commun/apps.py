from django.apps import AppConfig


class CommunConfig(AppConfig):
    """The shared toolkit (no models): formats, exports, cache, middleware, error views."""

    name = "commun"
    verbose_name = "Outils communs"
