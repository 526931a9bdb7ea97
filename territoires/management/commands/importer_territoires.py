from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from territoires import importation


def _date(valeur: str) -> date:
    try:
        return date.fromisoformat(valeur)
    except ValueError as exc:
        raise CommandError(f"Date invalide « {valeur} » : attendu AAAA-MM-JJ.") from exc


class Command(BaseCommand):
    help = (
        "Charge des territoires depuis la liste officielle ANCT "
        "(insee_com;lib_com;id_ti;lib_ti) ou le fichier des territoires connus. "
        "Pour la liste ANCT, calcule et affiche les différences avec les données "
        "enregistrées pour la phase, puis les applique (entrées et sorties datées, "
        "rien n'est supprimé) ; --simulation les affiche sans rien écrire."
    )

    def add_arguments(self, parser):
        parser.add_argument("fichier", type=Path)
        parser.add_argument(
            "--phase", default="2023-2027", help="Phase de la liste ANCT (défaut : 2023-2027)."
        )
        parser.add_argument(
            "--simulation",
            action="store_true",
            help="Affiche les différences sans rien enregistrer.",
        )
        parser.add_argument(
            "--date",
            dest="date_fichier",
            help="Date (millésime) de la liste, AAAA-MM-JJ ; défaut : date du fichier.",
        )
        parser.add_argument(
            "--extrait",
            action="store_true",
            help="Le fichier n'est qu'un extrait : les compositions restent « partielles ».",
        )

    def handle(self, *args, fichier: Path, phase: str, **options):
        if not fichier.exists():
            raise CommandError(f"Fichier introuvable : {fichier}")
        try:
            format_ = importation.detecter_format(fichier)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if format_ == "anct":
            from territoires.models import Phase

            if not Phase.objects.filter(code=phase).exists():
                raise CommandError(f"Phase inconnue : « {phase} ».")
            rapport = importation.importer_territoires_anct(
                fichier,
                phase_code=phase,
                simulation=options["simulation"],
                date_fichier=_date(options["date_fichier"]) if options["date_fichier"] else None,
                extrait=options["extrait"],
            )
            self.stdout.write(str(rapport))
            if options["simulation"]:
                self.stdout.write("Simulation : rien n'a été enregistré.")
        else:
            if options["simulation"]:
                raise CommandError("--simulation ne s'applique qu'à la liste officielle ANCT.")
            rapport = importation.importer_territoires_connus(fichier)
            self.stdout.write(str(rapport))
