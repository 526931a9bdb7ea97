"""Issue 4: money invariants, each refused with a French message and nothing changed."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db.models.deletion import ProtectedError

from financements import services
from financements.models import (
    Aide,
    Dispositif,
    Enveloppe,
    Versement,
    projets_avec_financements,
    regions_avec_totaux,
    territoires_avec_totaux,
)
from financements.services import OperationRefusee
from projets import services as projets_services

from . import factories as f

D = Decimal


@pytest.fixture
def dispositif(monde):
    return f.DispositifFactory(
        nom="Rebond industriel", code="rebond", montant_national=D("5000000.00")
    )


@pytest.fixture
def enveloppe(dispositif, personas, monde):
    return services.enveloppe_allouer(
        user=personas["national"],
        dispositif=dispositif,
        region=monde["ara"],
        annee=2026,
        montant="1000000",
    )


def retenir(projet, personas):
    for nom in ("deposer", "instruire", "retenir"):
        acteur = personas["porteur-adn"] if nom == "deposer" else personas["region-ara"]
        projets_services.projet_transitionner(
            projet=projet, transition=nom, user=acteur, commentaire="ok"
        )
    projet.refresh_from_db()
    return projet


@pytest.fixture
def retenu(projet_adn, personas):
    return retenir(projet_adn, personas)


def proposer(enveloppe, projet, personas, montant="100000", **kwargs):
    return services.aide_proposer(
        user=personas["region-ara"],
        enveloppe=enveloppe,
        projet=projet,
        montant=montant,
        nature=kwargs.pop("nature", "subvention"),
        **kwargs,
    )


def etat():
    return (
        list(Enveloppe.objects.order_by("pk").values_list("montant", flat=True)),
        list(Aide.objects.order_by("pk").values_list("statut", "montant")),
        Versement.objects.count(),
    )


def test_enveloppes_plafonnees_par_le_montant_national(dispositif, personas, monde):
    national = personas["national"]
    services.enveloppe_allouer(
        user=national, dispositif=dispositif, region=monde["ara"], annee=2026, montant="3000000"
    )
    avant = etat()
    with pytest.raises(OperationRefusee, match="dépasseraient son montant national"):
        services.enveloppe_allouer(
            user=national,
            dispositif=dispositif,
            region=monde["occ"],
            annee=2026,
            montant="2000000.01",
        )
    assert etat() == avant
    services.enveloppe_allouer(
        user=national, dispositif=dispositif, region=monde["occ"], annee=2026, montant="2000000"
    )
    # Resizing an existing envelope counts only the others.
    services.enveloppe_allouer(
        user=national, dispositif=dispositif, region=monde["ara"], annee=2026, montant="2500000"
    )
    assert Enveloppe.objects.count() == 2


def test_seule_l_equipe_nationale_alloue(dispositif, personas, monde):
    with pytest.raises(PermissionDenied):
        services.enveloppe_allouer(
            user=personas["region-ara"],
            dispositif=dispositif,
            region=monde["ara"],
            annee=2026,
            montant="1",
        )
    assert not Enveloppe.objects.exists()


def test_enveloppe_ne_descend_pas_sous_l_engage(enveloppe, retenu, personas):
    aide = proposer(enveloppe, retenu, personas, "400000")
    services.aide_engager(user=personas["region-ara"], aide=aide)
    avant = etat()
    with pytest.raises(OperationRefusee, match="sous le montant déjà engagé"):
        services.enveloppe_allouer(
            user=personas["national"],
            dispositif=enveloppe.dispositif,
            region=enveloppe.region,
            annee=2026,
            montant="399999.99",
        )
    assert etat() == avant


def test_engagements_plafonnes_par_l_enveloppe(enveloppe, retenu, personas, monde):
    autre = retenir(
        f.ProjetFactory(
            territoire=monde["adn"],
            phase=monde["phase"],
            commune=monde["commune_07"],
            montant_investissement=D("5000000"),
        ),
        personas,
    )
    a1 = proposer(enveloppe, retenu, personas, "600000")
    a2 = proposer(enveloppe, autre, personas, "400000.01")
    services.aide_engager(user=personas["region-ara"], aide=a1)
    avant = etat()
    with pytest.raises(OperationRefusee, match="Enveloppe insuffisante"):
        services.aide_engager(user=personas["region-ara"], aide=a2)
    assert etat() == avant
    # Cancelling frees the amount.
    services.aide_annuler(user=personas["region-ara"], aide=a1, motif="Projet réduit")
    services.aide_engager(user=personas["region-ara"], aide=a2)
    conso = Enveloppe.objects.avec_consommation().get(pk=enveloppe.pk)
    assert conso.montant_engage == D("400000.01")
    assert conso.montant_disponible == D("599999.99")


def test_aides_d_un_dossier_plafonnees_par_l_investissement(enveloppe, retenu, personas):
    proposer(enveloppe, retenu, personas, "900000")
    avant = etat()
    with pytest.raises(OperationRefusee, match="dépasserait son investissement"):
        proposer(enveloppe, retenu, personas, "100000.01")
    assert etat() == avant


@pytest.mark.parametrize("statut", ["brouillon", "depose", "en_instruction", "refuse"])
def test_aide_seulement_sur_dossier_retenu(enveloppe, projet_adn, personas, statut):
    from tests.test_projets_cycle import amener

    projet = amener(projet_adn, statut, personas)
    with pytest.raises(OperationRefusee, match="qu'à un dossier retenu"):
        proposer(enveloppe, projet, personas)
    assert not Aide.objects.exists()


def test_region_de_l_enveloppe_et_du_dossier(dispositif, retenu, personas, monde):
    enveloppe_occ = services.enveloppe_allouer(
        user=personas["national"],
        dispositif=dispositif,
        region=monde["occ"],
        annee=2026,
        montant="10",
    )
    with pytest.raises(OperationRefusee, match="relève de la région Occitanie"):
        services.aide_proposer(
            user=personas["national"],
            enveloppe=enveloppe_occ,
            projet=retenu,
            montant="5",
            nature="subvention",
        )
    assert not Aide.objects.exists()


def test_nature_autorisee_par_le_dispositif(enveloppe, retenu, personas):
    with pytest.raises(OperationRefusee, match="n'autorise pas cette nature"):
        proposer(enveloppe, retenu, personas, nature="pret")
    assert not Aide.objects.exists()


@pytest.mark.parametrize(
    "persona", ["region-occitanie", "prefecture-07", "porteur-adn", "partenaire-bpi"]
)
def test_hors_perimetre_ou_lecteur_refuse(enveloppe, retenu, personas, persona):
    with pytest.raises(PermissionDenied):
        services.aide_proposer(
            user=personas[persona],
            enveloppe=enveloppe,
            projet=retenu,
            montant="10",
            nature="subvention",
        )
    aide = proposer(enveloppe, retenu, personas)
    with pytest.raises(PermissionDenied):
        services.aide_engager(user=personas[persona], aide=aide)
    assert Aide.objects.get().statut == "proposee"


def test_versements_et_solde(enveloppe, retenu, personas):
    agent = personas["region-ara"]
    aide = proposer(enveloppe, retenu, personas, "1000")
    with pytest.raises(OperationRefusee, match="engagée ou conventionnée"):
        services.versement_enregistrer(
            user=agent, aide=aide, montant="1", date_versement=date(2026, 5, 1)
        )
    services.aide_engager(user=agent, aide=aide)
    services.aide_conventionner(
        user=agent,
        aide=aide,
        date_convention=date(2026, 4, 1),
        versement_modalite="unique",
        versement_debut=date(2026, 4, 1),
    )
    services.versement_enregistrer(
        user=agent, aide=aide, montant="400", date_versement=date(2026, 5, 1)
    )
    avant = etat()
    with pytest.raises(OperationRefusee, match="dépasse le reste à verser"):
        services.versement_enregistrer(
            user=agent, aide=aide, montant="600.01", date_versement=date(2026, 6, 1)
        )
    assert etat() == avant
    services.versement_enregistrer(
        user=agent, aide=aide, montant="600", date_versement=date(2026, 6, 1)
    )
    aide.refresh_from_db()
    assert aide.statut == "soldee"
    with pytest.raises(OperationRefusee, match="ne peut pas être annulée"):
        services.aide_annuler(user=agent, aide=aide, motif="Erreur")


def test_annulation_refusee_apres_versement(enveloppe, retenu, personas):
    agent = personas["region-ara"]
    aide = proposer(enveloppe, retenu, personas, "1000")
    services.aide_engager(user=agent, aide=aide)
    services.versement_enregistrer(
        user=agent, aide=aide, montant="10", date_versement=date(2026, 5, 1)
    )
    with pytest.raises(OperationRefusee, match="déjà donné lieu à des versements"):
        services.aide_annuler(user=agent, aide=aide, motif="Erreur")
    with pytest.raises(OperationRefusee, match="motif d'annulation est obligatoire"):
        services.aide_annuler(user=agent, aide=aide, motif=" ")
    assert Aide.objects.get().statut == "engagee"


@pytest.mark.parametrize(
    ("saisie", "attendu"),
    [
        ("0.005", D("0.01")),
        ("10.125", D("10.13")),
        ("10.124", D("10.12")),
        (D("99.995"), D("100.00")),
        ("1e3", D("1000.00")),
    ],
)
def test_arrondi_au_centime(saisie, attendu):
    assert services.montant_euros(saisie) == attendu


@pytest.mark.parametrize("saisie", ["abc", "", None, "-5", "0", "0.004", "NaN", "Infinity"])
def test_montants_refuses(saisie):
    with pytest.raises(OperationRefusee):
        services.montant_euros(saisie)


def test_rien_n_est_supprime(enveloppe, retenu, personas):
    agent = personas["region-ara"]
    aide = proposer(enveloppe, retenu, personas, "1000")
    services.aide_engager(user=agent, aide=aide)
    versement = services.versement_enregistrer(
        user=agent, aide=aide, montant="10", date_versement=date(2026, 5, 1)
    )
    for objet in (enveloppe, aide, retenu, enveloppe.dispositif):
        with pytest.raises(ProtectedError):
            objet.delete()
    with pytest.raises(ProtectedError):
        aide.delete()
    assert Versement.objects.filter(pk=versement.pk).exists()


def test_historique_des_aides(enveloppe, retenu, personas):
    agent = personas["region-ara"]
    aide = proposer(enveloppe, retenu, personas, "1000")
    services.aide_engager(user=agent, aide=aide, reference_decision="DEC-1")
    historique = list(aide.history.order_by("history_date", "history_id"))
    assert [h.statut for h in historique] == ["proposee", "engagee"]
    assert all(h.history_user == agent for h in historique)
    # diff_against compares editable fields; the status is checked above.
    assert {c.field for c in historique[1].diff_against(historique[0]).changes} == {
        "reference_decision",
        "date_decision",
    }
    assert enveloppe.history.count() == 1


@pytest.mark.parametrize("nombre", [2, 20])
def test_indicateurs_calcules_en_base(
    dispositif, personas, monde, nombre, django_assert_max_num_queries
):
    agent = personas["region-ara"]
    attendus = {}
    for i in range(nombre):
        env = services.enveloppe_allouer(
            user=personas["national"],
            dispositif=dispositif,
            region=monde["ara"],
            annee=2030 + i,
            montant="10000",
        )
        projet = retenir(
            f.ProjetFactory(
                territoire=monde["adn"],
                phase=monde["phase"],
                commune=monde["commune_07"],
                montant_investissement=D("50000"),
                aide_demandee=D("10000"),
            ),
            personas,
        )
        proposee = proposer(env, projet, personas, "1000.10")
        engagee = proposer(env, projet, personas, "2000.20")
        conventionnee = proposer(env, projet, personas, "3000.30")
        services.aide_engager(user=agent, aide=engagee)
        services.aide_engager(user=agent, aide=conventionnee)
        services.aide_conventionner(
            user=agent,
            aide=conventionnee,
            date_convention=date(2026, 1, 1),
            versement_modalite="unique",
            versement_debut=date(2026, 1, 1),
        )
        services.versement_enregistrer(
            user=agent, aide=conventionnee, montant="500", date_versement=date(2026, 2, 1)
        )
        assert proposee.statut == "proposee"
        attendus[env.pk] = (D("1000.10"), D("5000.50"), D("3000.30"), D("500"), D("4999.50"))
    with django_assert_max_num_queries(1):
        lignes = list(Enveloppe.objects.avec_consommation())
    for e in lignes:
        assert (
            e.montant_propose,
            e.montant_engage,
            e.montant_conventionne,
            e.montant_verse,
            e.montant_disponible,
        ) == attendus[e.pk]
        assert D(str(e.taux_consommation)) == D("50.0")
    with django_assert_max_num_queries(1):
        d = Dispositif.objects.avec_totaux().get(pk=dispositif.pk)
    assert (d.montant_alloue, d.montant_engage, d.montant_verse) == (
        D("10000") * nombre,
        D("5000.50") * nombre,
        D("500") * nombre,
    )
    with django_assert_max_num_queries(1):
        regions = {r.code: r for r in regions_avec_totaux()}
    assert regions["84"].montant_engage == D("5000.50") * nombre
    assert regions["76"].montant_enveloppes == 0
    with django_assert_max_num_queries(1):
        adn = territoires_avec_totaux().get(pk=monde["adn"].pk)
    assert adn.montant_verse == D("500") * nombre
    with django_assert_max_num_queries(1):
        projets = list(projets_avec_financements())
    for p in projets:
        assert (p.aide_totale, p.aide_engagee, p.aide_versee) == (
            D("6000.60"),
            D("5000.50"),
            D("500"),
        )
        assert D(str(p.effet_levier)) == D("10.00")  # 50,000 / 5,000.50 ≈ 9.9990 → 10.00


def test_convention_exige_son_echeancier(enveloppe, retenu, personas):
    """Issue 17: the convention's payment schedule is set at signature (SCDL
    conditionsVersement / datesPeriodeVersement), never guessed from payments."""
    agent = personas["region-ara"]
    aide = proposer(enveloppe, retenu, personas, "30000")
    services.aide_engager(user=agent, aide=aide)
    with pytest.raises(OperationRefusee, match="échéancier de versement"):
        services.aide_conventionner(user=agent, aide=aide, date_convention=date(2026, 4, 1))
    with pytest.raises(OperationRefusee, match="dernier versement prévu"):
        services.aide_conventionner(
            user=agent,
            aide=aide,
            date_convention=date(2026, 4, 1),
            versement_modalite="echelonne",
            versement_debut=date(2026, 5, 1),
            versement_fin=date(2026, 5, 1),
        )
    aide.refresh_from_db()
    assert (aide.statut, aide.versement_modalite) == ("engagee", "")
    services.aide_conventionner(
        user=agent,
        aide=aide,
        date_convention=date(2026, 4, 1),
        versement_modalite="echelonne",
        versement_debut=date(2026, 5, 1),
        versement_fin=date(2027, 5, 1),
    )
    aide.refresh_from_db()
    assert (aide.statut, aide.versement_debut, aide.versement_fin) == (
        "conventionnee",
        date(2026, 5, 1),
        date(2027, 5, 1),
    )
