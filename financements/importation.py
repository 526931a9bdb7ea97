"""Idempotent loader of operators and dispositifs from fixtures/programme.json."""

import json

from django.db import transaction

from territoires.importation import FICHIER_PROGRAMME, Rapport
from territoires.models import Phase

from .models import Dispositif, Operateur


def importer_dispositifs(chemin=FICHIER_PROGRAMME) -> Rapport:
    rapport = Rapport("Opérateurs et dispositifs")
    programme = json.loads(chemin.read_text(encoding="utf-8"))
    with transaction.atomic():
        for donnees in programme["operateurs"]:
            rapport.lus += 1
            _, cree = Operateur.objects.update_or_create(
                nom=donnees["nom"],
                defaults={k: donnees[k] for k in ("sigle", "type", "siret")},
            )
            rapport.nouveaux += cree
        for donnees in programme["dispositifs"]:
            rapport.lus += 1
            valeurs = {
                "nom": donnees["nom"],
                "description": donnees["description"],
                "operateur": Operateur.objects.get(nom=donnees["operateur"]),
                "phase": Phase.objects.get(code=donnees["phase"]) if donnees["phase"] else None,
                "natures": donnees["natures"],
                "montant_national": donnees["montant_national"],
                "date_debut": donnees["date_debut"],
                "date_fin": donnees["date_fin"],
                **{
                    champ: valeur
                    for champ, valeur in donnees.get("regles", {}).items()
                    if not champ.startswith("_")
                },
            }
            dispositif = Dispositif.objects.filter(code=donnees["code"]).first()
            if dispositif is None:
                nouveau = Dispositif(code=donnees["code"], **valeurs)
                nouveau.full_clean()
                nouveau.save()
                rapport.nouveaux += 1
                continue
            avant = {k: getattr(dispositif, k) for k in valeurs}
            for champ, valeur in valeurs.items():
                setattr(dispositif, champ, valeur)
            dispositif.full_clean()
            if any(str(avant[k]) != str(getattr(dispositif, k)) for k in valeurs):
                dispositif.save()
                rapport.mis_a_jour += 1
    return rapport
