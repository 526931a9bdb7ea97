from django.core.management.base import BaseCommand, CommandError

from outils.resilience import scenario


class Command(BaseCommand):
    help = (
        "Coupe PostgreSQL pendant une charge (base temporaire, port 5499) et vérifie les "
        "réponses 503, la reprise sans redémarrage et l'intégrité des écritures."
    )

    def add_arguments(self, parser):
        parser.add_argument("--avant", type=int, default=10)
        parser.add_argument("--panne", type=int, default=15)
        parser.add_argument("--reprise", type=int, default=20)
        parser.add_argument("--connexions", type=int, default=32)

    def handle(self, *args, avant, panne, reprise, connexions, **options):
        resume = scenario(avant, panne, reprise, connexions, sortie=self.stdout.write)
        erreurs_500 = sum(n for cle, n in resume["compteurs"].items() if " 500" in cle)
        if erreurs_500 or resume["confirmes_absents"] or resume["sans_historique"]:
            raise CommandError("Résilience : des réponses 500 ou des écritures incohérentes.")
