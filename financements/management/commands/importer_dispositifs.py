from django.core.management.base import BaseCommand

from financements.importation import importer_dispositifs


class Command(BaseCommand):
    help = "Charge les opérateurs et dispositifs de fixtures/programme.json (idempotent)."

    def handle(self, *args, **options):
        self.stdout.write(str(importer_dispositifs()))
