from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from territoires import importation


class Command(BaseCommand):
    help = (
        "Charge des territoires depuis la liste officielle ANCT "
        "(insee_com;lib_com;id_ti;lib_ti) ou le fichier des territoires connus."
    )

    def add_arguments(self, parser):
        parser.add_argument("fichier", type=Path)
        parser.add_argument(
            "--phase", default="2023-2027", help="Phase de la liste ANCT (défaut : 2023-2027)."
        )

    def handle(self, *args, fichier: Path, phase: str, **options):
        if not fichier.exists():
            raise CommandError(f"Fichier introuvable : {fichier}")
        try:
            format_ = importation.detecter_format(fichier)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if format_ == "anct":
            rapport = importation.importer_territoires_anct(fichier, phase_code=phase)
        else:
            rapport = importation.importer_territoires_connus(fichier)
        self.stdout.write(str(rapport))
