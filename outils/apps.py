from django.apps import AppConfig


class OutilsConfig(AppConfig):
    """Development and measurement commands (synthetic data, benchmark, resilience)."""

    name = "outils"
    verbose_name = "Outils de développement"
