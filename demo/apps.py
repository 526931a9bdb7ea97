from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo accounts, binômes, dossiers and money, written through the services."""

    name = "demo"
    verbose_name = "Démonstration"
