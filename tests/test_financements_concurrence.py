"""Issue 4: concurrent commitments on one envelope never overcommit (PostgreSQL row locks)."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from financements import services
from financements.models import Aide, Enveloppe

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
