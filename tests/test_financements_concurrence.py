"""Issue 4: concurrent commitments on one envelope never overcommit (PostgreSQL row locks)."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from financements import services
from financements.models import TOTAUX_ENVELOPPE, Aide, Enveloppe, totaux_calcules

from . import factories as f
from .test_financements import retenir
from .test_projets_concurrence import _en_parallele

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_vingt_engagements_simultanes_sur_une_enveloppe(monde, personas):
    national, agent = personas["national"], personas["region-ara"]
    dispositif = f.DispositifFactory(montant_national=Decimal("10000000"))
    enveloppe = services.enveloppe_allouer(
        user=national, dispositif=dispositif, region=monde["ara"], annee=2026, montant="100000"
    )
    aides = []
    for _ in range(20):
        projet = retenir(
            f.ProjetFactory(
                territoire=monde["adn"], phase=monde["phase"], commune=monde["commune_07"]
            ),
            personas,
        )
        aides.append(
            services.aide_proposer(
                user=agent,
                enveloppe=enveloppe,
                projet=projet,
                montant="12345.67",
                nature="subvention",
            )
        )
    resultats = _en_parallele(
        [lambda a=a: services.aide_engager(user=agent, aide=a) for a in aides]
    )
    gagnants = [r for r in resultats if r[0] == "ok"]
    perdants = [r for r in resultats if r[0] == "erreur"]
    # 100,000 / 12,345.67 → at most 8 fit.
    assert len(gagnants) == 8
    assert all(isinstance(e, services.OperationRefusee) for _, e in perdants), perdants
    assert all("Enveloppe insuffisante" in e.messages[0] for _, e in perdants)
    engage = Aide.objects.engagees().filter(enveloppe=enveloppe).aggregate(t=Sum("montant"))["t"]
    assert engage == Decimal("98765.36") <= Enveloppe.objects.get(pk=enveloppe.pk).montant
    # The maintained totals followed every concurrent commitment (issue 22).
    tenus = Enveloppe.objects.values_list(*TOTAUX_ENVELOPPE).get(pk=enveloppe.pk)
    assert dict(zip(TOTAUX_ENVELOPPE, tenus, strict=True)) == totaux_calcules()[enveloppe.pk]
    assert tenus[1] == engage


def test_vingt_propositions_simultanees_sous_le_plafond_territorial(monde, personas):
    """Issue 16: Rebond industriel's 2 M€ per territory holds under 20 parallel proposals
    on different dossiers of one laureate territory (the territory row is locked)."""
    from financements.models import RegimeAide

    national, agent = personas["national"], personas["region-ara"]
    monde["adn"].laureat_rebond_industriel = True
    monde["adn"].save()
    rebond = f.DispositifFactory(
        phase=monde["phase"],
        montant_national=Decimal("100000000"),
        laureats_seulement=True,
        plafond_par_territoire=Decimal("2000000"),
        enveloppes_territoriales=True,
        regime_aide=RegimeAide.HORS_AIDE_ETAT,
    )
    enveloppe = services.enveloppe_allouer(
        user=national, dispositif=rebond, territoire=monde["adn"], annee=2026, montant="2000000"
    )
    projets = [
        f.ProjetFactory(
            territoire=monde["adn"],
            phase=monde["phase"],
            commune=monde["commune_07"],
            statut="retenu",
            montant_investissement=Decimal("5000000"),
        )
        for _ in range(20)
    ]
    resultats = _en_parallele(
        [
            lambda p=p: services.aide_proposer(
                user=agent, enveloppe=enveloppe, projet=p, montant="300000", nature="subvention"
            )
            for p in projets
        ]
    )
    gagnants = [r for r in resultats if r[0] == "ok"]
    perdants = [r for r in resultats if r[0] == "erreur"]
    # 2,000,000 / 300,000 → at most 6 fit.
    assert len(gagnants) == 6
    assert all(isinstance(e, services.OperationRefusee) for _, e in perdants), perdants
    assert all("par territoire" in e.messages[0] for _, e in perdants)
    total = (
        Aide.objects.actives()
        .filter(projet__territoire=monde["adn"])
        .aggregate(t=Sum("montant"))["t"]
    )
    assert total == Decimal("1800000.00")
    tenus = {
        pk: dict(zip(TOTAUX_ENVELOPPE, v, strict=True))
        for pk, *v in Enveloppe.objects.values_list("pk", *TOTAUX_ENVELOPPE)
    }
    assert tenus == totaux_calcules()


def test_de_minimis_tenu_sous_propositions_simultanees(monde, personas):
    """Ten parallel proposals for one undertaking (same SIREN, ten dossiers): the de
    minimis ceiling holds (the undertaking's dossiers are locked in a stable order)."""
    from financements.models import RegimeAide

    national, agent = personas["national"], personas["region-ara"]
    dispositif = f.DispositifFactory(
        phase=monde["phase"],
        montant_national=Decimal("100000000"),
        regime_aide=RegimeAide.DE_MINIMIS,
    )
    enveloppe = services.enveloppe_allouer(
        user=national, dispositif=dispositif, region=monde["ara"], annee=2026, montant="5000000"
    )
    projets = [
        f.ProjetFactory(
            territoire=monde["adn"],
            phase=monde["phase"],
            commune=monde["commune_07"],
            statut="retenu",
            porteur_siret="73282932000074",
        )
        for _ in range(10)
    ]
    resultats = _en_parallele(
        [
            lambda p=p: services.aide_proposer(
                user=agent, enveloppe=enveloppe, projet=p, montant="70000", nature="subvention"
            )
            for p in projets
        ]
    )
    assert len([r for r in resultats if r[0] == "ok"]) == 4  # 4 × 70,000 ≤ 300,000
    perdants = [e for statut, e in resultats if statut == "erreur"]
    assert all("de minimis" in e.messages[0] for e in perdants), perdants
