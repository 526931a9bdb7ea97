from django.core.management.base import BaseCommand

from gestion import services


class Command(BaseCommand):
    help = (
        "Supprime les exports du back-office arrivés à expiration (7 jours), avec leur "
        "fichier, quel que soit leur statut. À lancer chaque jour (cron)."
    )

    def handle(self, *args, **options):
        nombre = services.export_differe_purger()
        self.stdout.write(f"{nombre} export(s) expiré(s) supprimé(s).")
