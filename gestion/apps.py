from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class GestionConfig(AppConfig):
    """The back-office door (admin site, perimeter base, dashboard, deferred exports)."""

    default = True
    name = "gestion"
    verbose_name = "Gestion"


class GestionAdminConfig(admin_apps.AdminConfig):
    """The back-office site replaces Django's default admin site."""

    default = False
    default_site = "gestion.site.SiteGestion"
