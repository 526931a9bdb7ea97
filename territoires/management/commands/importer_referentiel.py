import time

from django.core.management.base import BaseCommand

from territoires import importation


class Command(BaseCommand):
    help = (
        "Charge régions, départements, EPCI, communes, phases et axes depuis fixtures/ "
        "(idempotent : met à jour, ne supprime jamais, marque obsolète ce qui a disparu)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--epcicom", help="Autre fichier BANATIC epcicom.csv à charger.")

    def handle(self, *args, **options):
        debut = time.perf_counter()
        progression = options["verbosity"] >= 1
        rapports = importation.importer_regions_departements()
        kwargs = {"progression": progression}
        if options.get("epcicom"):
            kwargs["chemin"] = options["epcicom"]
        rapports += importation.importer_epci_communes(**kwargs)
        rapports.append(importation.importer_phases_axes())
        for rapport in rapports:
            self.stdout.write(str(rapport))
        self.stdout.write(
            self.style.SUCCESS(f"Référentiel chargé en {time.perf_counter() - debut:.1f} s.")
        )
