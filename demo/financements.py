"""Demo money: envelopes for the demo régions, aides at every status, payments."""

from datetime import date
from decimal import Decimal

from django.db.models import Sum

from financements import services
from financements.models import Dispositif, Enveloppe
from projets.models import Projet, Statut
from territoires.models import Region


def charger_financements(rng, comptes) -> None:
    if Enveloppe.objects.exists():
        return
    national = comptes["national"]
    rebond = Dispositif.objects.get(code="rebond-industriel")
    ingenierie = Dispositif.objects.get(code="ingenierie-ti")
    montants = {"84": Decimal("12000000.00"), "76": Decimal("9000000.00")}
    for code, montant in montants.items():
        region = Region.objects.get(code=code)
        for annee in (2024, 2025):
            services.enveloppe_allouer(
                user=national, dispositif=rebond, region=region, annee=annee, montant=montant
            )
        services.enveloppe_allouer(
            user=national,
            dispositif=ingenierie,
            region=region,
            annee=2025,
            montant=Decimal("400000.00"),
        )
    projets = (
        Projet.objects.filter(statut__in=[Statut.RETENU, Statut.EN_COURS, Statut.REALISE])
        .select_related("commune__departement", "territoire")
        .order_by("reference")
    )
    for index, projet in enumerate(projets):
        region_id = projet.commune.departement.region_id
        agent = comptes["region-ara"] if region_id == "84" else comptes["region-occitanie"]
        annee = 2024 if index % 2 else 2025
        enveloppe = Enveloppe.objects.get(dispositif=rebond, region_id=region_id, annee=annee)
        montant = min(projet.aide_demandee, projet.montant_investissement)
        aide = services.aide_proposer(
            user=agent,
            enveloppe=enveloppe,
            projet=projet,
            montant=montant,
            nature=rng.choice(["subvention", "subvention", "avance_remboursable"]),
            reference_decision=f"DEC-{projet.reference}",
        )
        palier = index % 5  # proposed, engaged, under convention, partly paid, settled
        if palier == 0:
            continue
        try:
            services.aide_engager(user=agent, aide=aide, date_decision=date(annee, 6, 15))
        except services.OperationRefusee:
            continue  # envelope full: the aide stays proposed
        if palier >= 2:
            services.aide_conventionner(user=agent, aide=aide, date_convention=date(annee, 9, 1))
        if palier == 3:
            services.versement_enregistrer(
                user=agent,
                aide=aide,
                montant=(aide.montant * Decimal("0.3")),
                date_versement=date(annee, 11, 10),
                reference=f"VIR-{aide.pk:05d}-1",
            )
        if palier == 4:
            services.versement_enregistrer(
                user=agent,
                aide=aide,
                montant=aide.montant,
                date_versement=date(annee, 12, 1),
                reference=f"VIR-{aide.pk:05d}-S",
            )
    # One envelope close to full, as officers see it near the end of a year.
    enveloppe = Enveloppe.objects.get(dispositif=rebond, region_id="84", annee=2025)
    engage = enveloppe.aides.engagees().aggregate(t=Sum("montant"))["t"] or Decimal(0)
    cible = (engage / Decimal("0.96")).quantize(Decimal("0.01"))
    if engage and cible < enveloppe.montant:
        services.enveloppe_allouer(
            user=national, dispositif=rebond, region=enveloppe.region, annee=2025, montant=cible
        )
