from django.core.management.base import BaseCommand

from outils.bench import mesurer


class Command(BaseCommand):
    help = (
        "Mesure l'API, le back-office, l'export CSV et les statistiques sur la base "
        "courante (voir docs/performance.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repetitions", type=int, default=30)
        parser.add_argument(
            "--charge",
            action="store_true",
            help="ajoute un test de charge gunicorn + wrk sur 127.0.0.1",
        )
        parser.add_argument("--duree-charge", type=int, default=60)

    def handle(self, *args, repetitions, charge, duree_charge, **options):
        mesurer(
            repetitions=repetitions,
            charge=charge,
            duree_charge=duree_charge,
            sortie=self.stdout.write,
        )
