from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from territoires import demo


class Command(BaseCommand):
    help = "Crée les comptes et les données de démonstration (jamais hors DEBUG ; idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, seed: int, **options):
        if not settings.DEBUG:
            raise CommandError("Les données de démonstration ne sont jamais créées hors DEBUG.")
        # The demo's notifications stay in memory instead of flooding the console.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            resultat = demo.charger(seed=seed)
        self.stdout.write(
            f"{len(demo.COMPTES)} comptes de démonstration, "
            f"{len(resultat['projets'])} nouveaux dossiers."
        )
