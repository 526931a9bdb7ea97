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

    def ready(self):
        super().ready()
        _afficher_les_decimaux_en_francais()


def _afficher_les_decimaux_en_francais():
    """Every decimal the back-office shows by itself (read-only fields, list columns of a
    model field) reads like the rest: « 200 000,00 € » for an amount (a field whose label
    says « € »), « 12,5 » otherwise — Django would write « 200000,00 » (its thousands
    separator is off so that integers such as years and ids stay plain)."""
    from django.contrib.admin import helpers, utils
    from django.contrib.admin.templatetags import admin_list
    from django.db import models

    from commun.formats import euros, nombre

    origine = utils.display_for_field
    if getattr(origine, "en_francais", False):
        return

    def display_for_field(value, field, empty_value_display, *args, **kwargs):
        if isinstance(field, models.DecimalField) and value is not None and not field.choices:
            if "€" in str(field.verbose_name):
                return euros(value)
            return nombre(value, field.decimal_places)
        return origine(value, field, empty_value_display, *args, **kwargs)

    display_for_field.en_francais = True
    for module in (utils, helpers, admin_list):
        module.display_for_field = display_for_field
