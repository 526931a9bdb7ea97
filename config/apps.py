from django.contrib.admin.apps import AdminConfig


class GestionAdminConfig(AdminConfig):
    """The back-office site replaces Django's default admin site."""

    default_site = "config.admin.SiteGestion"
