from django.apps import AppConfig


class ComptesConfig(AppConfig):
    name = "comptes"
    verbose_name = "Comptes et habilitations"

    def ready(self):
        from django.contrib import admin
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from . import signaux  # noqa: F401 - connects the audit trail's receivers

        # Second-factor devices are not edited in the back-office (rights there come from
        # perimeters, not Django permissions): `manage.py reinitialiser_double_authentification`.
        for modele in (TOTPDevice, StaticDevice):
            if admin.site.is_registered(modele):
                admin.site.unregister(modele)
