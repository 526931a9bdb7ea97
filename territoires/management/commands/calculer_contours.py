from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from territoires import contours


class Command(BaseCommand):
    help = (
        "Calcule les contours de la carte des territoires (/carte/) : régions, "
        "départements et, pour chaque territoire et chaque phase, l'union de ses "
        "intercommunalités (ou de ses départements déclarés si sa composition est "
        "inconnue). Idempotente ; à relancer après chaque import de territoires."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--contours",
            dest="dossier",
            type=Path,
            default=contours.DOSSIER_CONTOURS,
            help="Dossier des fichiers GeoJSON (défaut : fixtures/contours/).",
        )
        parser.add_argument(
            "--declares",
            type=Path,
            default=contours.FICHIER_DECLARES,
            help="Fichier des territoires connus (colonne « departements »).",
        )

    def handle(self, *args, dossier: Path, declares: Path, **options):
        for nom in ("epci-contours", "departements-contours", "regions-contours"):
            if not (dossier / f"{nom}.geojson").exists():
                raise CommandError(f"Fichier introuvable : {dossier / nom}.geojson")
        self.stdout.write(str(contours.calculer_contours(dossier, declares)))
