from django.core.management.base import BaseCommand

from api import services


class Command(BaseCommand):
    help = (
        "Webhooks : transforme les nouveaux changements du flux en livraisons pour chaque "
        "abonnement actif et met en file les livraisons dues (premières tentatives et "
        "nouvelles tentatives après attente). À lancer chaque minute (cron ou minuteur)."
    )

    def handle(self, *args, **options):
        resultat = services.webhooks_distribuer()
        self.stdout.write(
            f"{resultat['creees']} livraison(s) créée(s), {resultat['envoyees']} mise(s) en file."
        )
