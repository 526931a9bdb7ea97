"""Issue 22: the envelopes' maintained totals equal the recomputed sums after every money
operation of the funding service, and a command recomputes and compares them."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from financements import services
from financements.models import (
    TOTAUX_ENVELOPPE,
    Dispositif,
    Enveloppe,
    regions_avec_totaux,
    totaux_calcules,
)
from financements.services import OperationRefusee
from projets import services as projets_services

from . import factories as f

D = Decimal


def tenus():
    return {
        pk: dict(zip(TOTAUX_ENVELOPPE, valeurs, strict=True))
        for pk, *valeurs in Enveloppe.objects.order_by("pk").values_list("pk", *TOTAUX_ENVELOPPE)
    }


def verifier(**attendus):
    """Maintained totals == recomputed sums; and the first envelope holds `attendus`."""
    assert tenus() == totaux_calcules()
    premiere = Enveloppe.objects.order_by("pk").first()
    for champ, valeur in attendus.items():
        assert getattr(premiere, champ) == D(valeur), champ


def retenir(projet, personas):
    for nom in ("deposer", "instruire", "retenir"):
        acteur = personas["porteur-adn"] if nom == "deposer" else personas["region-ara"]
        projets_services.projet_transitionner(
            projet=projet, transition=nom, user=acteur, commentaire="ok"
        )
    projet.refresh_from_db()
    return projet


@pytest.fixture
def enveloppe(personas, monde):
    dispositif = f.DispositifFactory(
        nom="Rebond industriel", code="rebond", montant_national=D("5000000.00")
    )
    return services.enveloppe_allouer(
        user=personas["national"],
        dispositif=dispositif,
        region=monde["ara"],
        annee=2026,
        montant="1000000",
    )


def nouveau_retenu(monde, personas):
    return retenir(
        f.ProjetFactory(
            territoire=monde["adn"],
            phase=monde["phase"],
            commune=monde["commune_07"],
            montant_investissement=D("5000000"),
        ),
        personas,
    )


def test_totaux_tenus_a_chaque_operation(enveloppe, monde, personas):
    agent = personas["region-ara"]
    verifier(total_propose="0", total_engage="0", total_conventionne="0", total_verse="0")

    def proposer(projet, montant):
        return services.aide_proposer(
            user=agent, enveloppe=enveloppe, projet=projet, montant=montant, nature="subvention"
        )

    p1, p2, p3 = (nouveau_retenu(monde, personas) for _ in range(3))
    a1 = proposer(p1, "100000")
    verifier(total_propose="100000")
    services.aide_corriger_montant(user=agent, aide=a1, montant="120000", motif="Coquille")
    verifier(total_propose="120000")
    services.aide_engager(user=agent, aide=a1)
    verifier(total_propose="0", total_engage="120000")
    # A refused operation moves nothing.
    with pytest.raises(OperationRefusee):
        services.aide_corriger_montant(user=agent, aide=a1, montant="1", motif="x")
    verifier(total_propose="0", total_engage="120000")
    services.aide_conventionner(
        user=agent,
        aide=a1,
        date_convention=date(2026, 3, 1),
        versement_modalite="unique",
        versement_debut=date(2026, 3, 1),
    )
    verifier(total_engage="120000", total_conventionne="120000")
    services.versement_enregistrer(
        user=agent, aide=a1, montant="20000", date_versement=date(2026, 4, 1)
    )
    verifier(total_verse="20000")
    with pytest.raises(OperationRefusee):
        services.versement_enregistrer(
            user=agent, aide=a1, montant="100000.01", date_versement=date(2026, 4, 2)
        )
    verifier(total_verse="20000")
    # The last payment settles the aide (still engaged and under convention).
    services.versement_enregistrer(
        user=agent, aide=a1, montant="100000", date_versement=date(2026, 5, 1)
    )
    verifier(total_engage="120000", total_conventionne="120000", total_verse="120000")

    # Cancelling a proposed, an engaged and a contracted aide.
    a2 = proposer(p2, "50000")
    services.aide_annuler(user=agent, aide=a2, motif="Doublon")
    verifier(total_propose="0")
    a2 = proposer(p2, "60000")
    services.aide_engager(user=agent, aide=a2)
    verifier(total_engage="180000")
    services.aide_annuler(user=agent, aide=a2, motif="Projet réduit")
    verifier(total_engage="120000")
    a3 = proposer(p3, "70000")
    services.aide_engager(user=agent, aide=a3)
    services.aide_conventionner(
        user=agent,
        aide=a3,
        date_convention=date(2026, 3, 1),
        versement_modalite="unique",
        versement_debut=date(2026, 3, 1),
    )
    verifier(total_engage="190000", total_conventionne="190000")
    services.aide_annuler(user=agent, aide=a3, motif="Renonciation")
    verifier(total_engage="120000", total_conventionne="120000", total_verse="120000")

    # A payment straight on an engaged aide (no convention yet) that settles it.
    a3 = proposer(p3, "10000")
    services.aide_engager(user=agent, aide=a3)
    services.versement_enregistrer(
        user=agent, aide=a3, montant="10000", date_versement=date(2026, 6, 1)
    )
    verifier(total_engage="130000", total_conventionne="130000", total_verse="130000")


def test_totaux_tenus_au_reglement_d_un_abandon(enveloppe, monde, personas):
    agent = personas["region-ara"]
    projet = nouveau_retenu(monde, personas)

    def proposer(montant):
        return services.aide_proposer(
            user=agent, enveloppe=enveloppe, projet=projet, montant=montant, nature="subvention"
        )

    aide = proposer("100000")
    services.aide_engager(user=agent, aide=aide)
    services.aide_conventionner(
        user=agent,
        aide=aide,
        date_convention=date(2026, 4, 1),
        versement_modalite="unique",
        versement_debut=date(2026, 4, 1),
    )
    services.versement_enregistrer(
        user=agent, aide=aide, montant="30000", date_versement=date(2026, 5, 1)
    )
    proposer("50000")
    verifier(
        total_propose="50000",
        total_engage="100000",
        total_conventionne="100000",
        total_verse="30000",
    )
    projets_services.projet_transitionner(
        projet=projet, transition="abandonner", user=personas["porteur-adn"], commentaire="x"
    )
    services.projet_abandon_regler(
        user=agent, projet=projet, date_ordre_reversement=date(2026, 7, 1), commentaire="Vendu"
    )
    # Résiliée: what was paid stays engaged (to recover), the rest returns to the envelope.
    verifier(total_propose="0", total_engage="30000", total_conventionne="0", total_verse="30000")
    conso = Enveloppe.objects.avec_consommation().get(pk=enveloppe.pk)
    assert conso.montant_disponible == D("970000.00")
    assert conso.taux_consommation == D("3.0")


def test_les_lectures_lisent_les_totaux(enveloppe, monde, personas, django_assert_num_queries):
    """avec_consommation, dispositifs and régions read the maintained columns: a total
    written on the row (and nothing else) is what they show."""
    Enveloppe.objects.filter(pk=enveloppe.pk).update(total_engage=D("42.00"), total_verse=D("7"))
    with django_assert_num_queries(1):
        conso = Enveloppe.objects.avec_consommation().get(pk=enveloppe.pk)
    assert (conso.montant_engage, conso.montant_verse) == (D("42.00"), D("7.00"))
    assert conso.montant_disponible == D("999958.00")
    d = Dispositif.objects.avec_totaux().get(pk=enveloppe.dispositif_id)
    assert (d.montant_alloue, d.montant_engage, d.montant_verse) == (
        D("1000000.00"),
        D("42.00"),
        D("7.00"),
    )
    region = regions_avec_totaux().get(pk=monde["ara"].pk)
    assert region.montant_engage == D("42.00")


def test_commande_verifier_totaux(enveloppe, monde, personas, capsys):
    agent = personas["region-ara"]
    aide = services.aide_proposer(
        user=agent,
        enveloppe=enveloppe,
        projet=nouveau_retenu(monde, personas),
        montant="1000",
        nature="subvention",
    )
    services.aide_engager(user=agent, aide=aide)
    call_command("verifier_totaux")
    assert "1 enveloppe(s) : totaux conformes." in capsys.readouterr().out
    # A total drifted (a write outside the service): refused, named, nothing rewritten.
    Enveloppe.objects.filter(pk=enveloppe.pk).update(total_engage=D("1.00"))
    with pytest.raises(CommandError, match="1 écart"):
        call_command("verifier_totaux")
    assert "total_engage tenu 1,00" in capsys.readouterr().out
    assert Enveloppe.objects.get(pk=enveloppe.pk).total_engage == D("1.00")
    call_command("verifier_totaux", "--corriger")
    assert Enveloppe.objects.get(pk=enveloppe.pk).total_engage == D("1000.00")
    call_command("verifier_totaux")
