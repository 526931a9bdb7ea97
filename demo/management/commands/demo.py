from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from demo import donnees as demo


class Command(BaseCommand):
    help = "Crée les comptes et les données de démonstration (jamais hors DEBUG ; idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, seed: int, **options):
        if not settings.DEBUG:
            raise CommandError("Les données de démonstration ne sont jamais créées hors DEBUG.")
        manque = demo.prerequis_manquants()
        if manque:
            raise CommandError(f"{demo.PREREQUIS} Manque : {', '.join(manque)}.")
        # The demo's notifications stay in memory instead of flooding the console.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            resultat = demo.charger(seed=seed)
        self.stdout.write(
            f"{len(demo.COMPTES)} comptes de démonstration, "
            f"{len(resultat['projets'])} nouveaux dossiers."
        )
