from django.core.management.base import BaseCommand, CommandError

from outils.generation import generer
from territoires.models import Intercommunalite, Phase


class Command(BaseCommand):
    help = (
        "Génère un jeu de données synthétique à l'échelle du programme (183 territoires sur "
        "les vrais EPCI, dossiers, enveloppes, aides, versements, historique), en masse."
    )

    def add_arguments(self, parser):
        parser.add_argument("--projets", type=int, default=2000, help="nombre de dossiers")
        parser.add_argument("--seed", type=int, default=1, help="graine (déterministe)")

    def handle(self, *args, projets: int, seed: int, **options):
        if projets < 1:
            raise CommandError("--projets doit être un entier positif.")
        if not Intercommunalite.objects.exists() or not Phase.objects.exists():
            raise CommandError("Chargez d'abord le référentiel : manage.py importer_referentiel")
        resultat = generer(projets=projets, seed=seed)
        self.stdout.write(
            f"{resultat['territoires_crees']} territoires créés, {resultat['projets']} dossiers, "
            f"{resultat['enveloppes']} enveloppes, {resultat['aides']} aides, "
            f"{resultat['versements']} versements en {resultat['secondes']:.1f} s."
        )
