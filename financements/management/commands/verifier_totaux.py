from django.core.management.base import BaseCommand, CommandError

from commun.formats import euros
from financements.models import TOTAUX_ENVELOPPE, Enveloppe, totaux_calcules


class Command(BaseCommand):
    help = (
        "Recalcule les totaux de chaque enveloppe (proposé, engagé, conventionné, versé) "
        "depuis ses aides et versements et les compare aux totaux tenus ; --corriger "
        "réécrit les écarts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--corriger", action="store_true", help="réécrire les totaux qui diffèrent"
        )

    def handle(self, *args, **options):
        tenus = {
            pk: dict(zip(TOTAUX_ENVELOPPE, valeurs, strict=True))
            for pk, *valeurs in Enveloppe.objects.values_list("pk", *TOTAUX_ENVELOPPE)
        }
        ecarts = []
        for pk, calcules in totaux_calcules().items():
            for champ, valeur in calcules.items():
                if tenus[pk][champ] != valeur:
                    ecarts.append(
                        f"enveloppe {pk} : {champ} tenu {euros(tenus[pk][champ])}, "
                        f"recalculé {euros(valeur)}"
                    )
        for ligne in ecarts:
            self.stdout.write(ligne)
        if ecarts and options["corriger"]:
            n = Enveloppe.objects.recalculer_totaux()
            self.stdout.write(f"{n} enveloppe(s) corrigée(s).")
            return
        if ecarts:
            raise CommandError(f"{len(ecarts)} écart(s) entre les totaux tenus et recalculés.")
        self.stdout.write(f"{len(tenus)} enveloppe(s) : totaux conformes.")
