"""Issue 16: the programme's money rules, declared per dispositif and enforced by the
funding service (refusal in French naming the rule, nothing changed; and the allowed case)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from financements import regles, services
from financements.models import Aide, Enveloppe, RegimeAide, Versement
from financements.services import OperationRefusee
from projets import services as projets_services
from projets.models import AvisRevue, Projet, RevueRegionale, Statut
from territoires.models import Habilitation

from . import factories as f
from .test_financements import etat, retenir

D = Decimal


def nouveau_retenu(monde, personas, *, territoire=None, siret="73282932000074", **kwargs):
    territoire = territoire or monde["adn"]
    commune = monde["commune_07"] if territoire == monde["adn"] else monde["commune_30"]
    return f.ProjetFactory(
        territoire=territoire,
        phase=kwargs.pop("phase", monde["phase"]),
        commune=commune,
        porteur_siret=siret,
        montant_investissement=kwargs.pop("investissement", D("10000000")),
        statut=Statut.RETENU,
        **kwargs,
    )


@pytest.fixture
def rebond(monde):
    """Rebond industriel as in fixtures/programme.json: 2023-2027, laureates only, 2 M€
    per territory, territorial envelopes, de minimis."""
    return f.DispositifFactory(
        nom="Rebond industriel",
        code="rebond-industriel",
        phase=monde["phase"],
        montant_national=D("100000000"),
        laureats_seulement=True,
        plafond_par_territoire=D("2000000"),
        enveloppes_territoriales=True,
        regime_aide=RegimeAide.DE_MINIMIS,
    )


@pytest.fixture
def adn_laureat(monde):
    monde["adn"].laureat_rebond_industriel = True
    monde["adn"].save()
    return monde["adn"]


@pytest.fixture
def enveloppe_adn(rebond, adn_laureat, personas):
    return services.enveloppe_allouer(
        user=personas["national"],
        dispositif=rebond,
        territoire=adn_laureat,
        annee=2026,
        montant="2000000",
    )


@pytest.fixture
def prefecture_26(monde):
    return f.utilisateur(
        "prefecture-26",
        role="agent",
        echelon="departement",
        niveau=Habilitation.Niveau.INSTRUCTEUR,
        departements=[monde["d26"]],
    )


@pytest.fixture
def prefecture_30(monde):
    return f.utilisateur(
        "prefecture-30",
        role="agent",
        echelon="departement",
        niveau=Habilitation.Niveau.INSTRUCTEUR,
        departements=[monde["d30"]],
    )


def proposer(enveloppe, projet, user, montant="100000", **kwargs):
    return services.aide_proposer(
        user=user,
        enveloppe=enveloppe,
        projet=projet,
        montant=montant,
        nature=kwargs.pop("nature", "subvention"),
        **kwargs,
    )


# --- territorial envelopes -------------------------------------------------------------


def test_enveloppe_territoriale_pilotee_par_les_prefectures(enveloppe_adn, monde):
    assert enveloppe_adn.territoire == monde["adn"]
    assert enveloppe_adn.region == monde["ara"]
    assert set(enveloppe_adn.departements_pilotes.values_list("code", flat=True)) == {"07", "26"}
    identifiant = Enveloppe.objects.avec_identifiant().get(pk=enveloppe_adn.pk).identifiant
    assert identifiant == f"rebond-industriel-84-2026-{monde['adn'].slug}"


def test_enveloppe_territoriale_refusee_hors_laureat_ou_sans_territoire(rebond, monde, personas):
    national = personas["national"]
    with pytest.raises(OperationRefusee, match="réservé aux territoires lauréats"):
        services.enveloppe_allouer(
            user=national, dispositif=rebond, territoire=monde["ales"], annee=2026, montant="1"
        )
    with pytest.raises(OperationRefusee, match="allouées par territoire"):
        services.enveloppe_allouer(
            user=national, dispositif=rebond, region=monde["ara"], annee=2026, montant="1"
        )
    assert not Enveloppe.objects.exists()


def test_enveloppes_d_un_territoire_plafonnees(rebond, adn_laureat, personas):
    national = personas["national"]
    services.enveloppe_allouer(
        user=national, dispositif=rebond, territoire=adn_laureat, annee=2025, montant="1500000"
    )
    with pytest.raises(OperationRefusee, match="plafond de 2.*€ par territoire"):
        services.enveloppe_allouer(
            user=national, dispositif=rebond, territoire=adn_laureat, annee=2026, montant="600000"
        )
    assert Enveloppe.objects.count() == 1
    services.enveloppe_allouer(
        user=national, dispositif=rebond, territoire=adn_laureat, annee=2026, montant="500000"
    )
    assert Enveloppe.objects.count() == 2


def test_prefecture_pilote_instruit_l_enveloppe_territoriale(
    enveloppe_adn, monde, personas, prefecture_26, prefecture_30
):
    projet = nouveau_retenu(monde, personas)
    with pytest.raises(PermissionDenied):
        proposer(enveloppe_adn, projet, prefecture_30)
    assert not Aide.objects.exists()
    aide = proposer(enveloppe_adn, projet, prefecture_26)
    services.aide_engager(user=prefecture_26, aide=aide)
    assert Aide.objects.get().statut == "engagee"


def test_enveloppe_territoriale_reservee_a_son_territoire(enveloppe_adn, monde, personas):
    monde["ales"].laureat_rebond_industriel = True
    monde["ales"].save()
    projet = nouveau_retenu(monde, personas, territoire=monde["ales"])
    with pytest.raises(OperationRefusee, match="réservée au territoire « Ardèche-Drôme Nord »"):
        proposer(enveloppe_adn, projet, personas["national"])
    assert not Aide.objects.exists()


# --- dispositif rules -------------------------------------------------------------------


def test_laureats_seulement(rebond, monde, personas):
    """A territorial envelope cannot exist for a non-laureate; the rule is also checked on
    the aid when a territory loses its label after the allocation."""
    monde["adn"].laureat_rebond_industriel = True
    monde["adn"].save()
    enveloppe = services.enveloppe_allouer(
        user=personas["national"], dispositif=rebond, territoire=monde["adn"], annee=2026,
        montant="2000000",
    )  # fmt: skip
    projet = nouveau_retenu(monde, personas)
    monde["adn"].laureat_rebond_industriel = False
    monde["adn"].save()
    with pytest.raises(OperationRefusee) as refus:
        proposer(enveloppe, projet, personas["region-ara"])
    assert (
        "Règle du dispositif « Rebond industriel » : réservé aux territoires lauréats"
        in (refus.value.messages[0])
    )
    assert not Aide.objects.exists()
    monde["adn"].laureat_rebond_industriel = True
    monde["adn"].save()
    assert proposer(enveloppe, projet, personas["region-ara"]).statut == "proposee"


def test_plafond_par_territoire_sur_toute_la_vie_du_dispositif(
    enveloppe_adn, rebond, adn_laureat, monde, personas
):
    agent = personas["region-ara"]
    p1 = nouveau_retenu(monde, personas, siret="73282932000074")
    p2 = nouveau_retenu(monde, personas, siret="55208131766522")
    # De minimis aside (tested below): a different dispositif regime for this test.
    rebond.regime_aide = RegimeAide.HORS_AIDE_ETAT
    rebond.save()
    proposer(enveloppe_adn, p1, agent, "1500000")
    avant = etat()
    with pytest.raises(OperationRefusee, match="plafond de 2.*€ par territoire"):
        proposer(enveloppe_adn, p2, agent, "500000.01")
    assert etat() == avant
    aide = proposer(enveloppe_adn, p2, agent, "500000")
    # A cancelled aid frees the ceiling.
    services.aide_annuler(user=agent, aide=aide, motif="Erreur de saisie")
    proposer(enveloppe_adn, p2, agent, "500000")


def test_phase_financee(monde, personas):
    ancienne = f.PhaseFactory(code="2018-2022", nom="Phase 1", date_debut=date(2018, 11, 22))
    fonds = f.DispositifFactory(nom="Fonds d'accélération", phase=ancienne)
    enveloppe = services.enveloppe_allouer(
        user=personas["national"], dispositif=fonds, region=monde["ara"], annee=2022,
        montant="1000000",
    )  # fmt: skip
    projet = nouveau_retenu(monde, personas)
    with pytest.raises(OperationRefusee, match="il finance les dossiers de la phase Phase 1"):
        proposer(enveloppe, projet, personas["region-ara"])
    assert not Aide.objects.exists()
    ancien = nouveau_retenu(monde, personas, phase=ancienne)
    assert proposer(enveloppe, ancien, personas["region-ara"]).statut == "proposee"


def test_revue_favorable_requise(monde, personas):
    fonds = f.DispositifFactory(
        nom="Fonds d'accélération", phase=monde["phase"], revue_favorable_requise=True
    )
    enveloppe = services.enveloppe_allouer(
        user=personas["national"], dispositif=fonds, region=monde["ara"], annee=2026,
        montant="1000000",
    )  # fmt: skip
    projet = nouveau_retenu(monde, personas)
    revue = RevueRegionale.objects.create(region=monde["ara"], date=date(2026, 1, 15))
    AvisRevue.objects.create(revue=revue, projet=projet, avis="ajourne")
    with pytest.raises(OperationRefusee, match="avis favorable d'une revue régionale"):
        proposer(enveloppe, projet, personas["region-ara"])
    assert not Aide.objects.exists()
    AvisRevue.objects.filter(projet=projet).update(avis="favorable")
    assert proposer(enveloppe, projet, personas["region-ara"]).statut == "proposee"


def test_toutes_les_regles_enfreintes_sont_dites(monde, personas):
    ancienne = f.PhaseFactory(code="2018-2022", nom="Phase 1", date_debut=date(2018, 11, 22))
    fonds = f.DispositifFactory(
        nom="Fonds d'accélération", phase=ancienne, revue_favorable_requise=True
    )
    enveloppe = services.enveloppe_allouer(
        user=personas["national"], dispositif=fonds, region=monde["ara"], annee=2022,
        montant="1000000",
    )  # fmt: skip
    projet = nouveau_retenu(monde, personas)
    refus = regles.refus_aide(
        enveloppe=enveloppe, projet=projet, montant=D("20000000"), nature="pret"
    )
    assert [r.regle for r in refus] == ["nature", "phase", "revue", "projet_depasse"]
    with pytest.raises(OperationRefusee) as exc:
        proposer(enveloppe, projet, personas["region-ara"], "20000000", nature="pret")
    assert len(exc.value.messages) == 4


def test_regles_reverifiees_a_l_engagement(monde, personas):
    fonds = f.DispositifFactory(nom="Fonds", phase=monde["phase"])
    enveloppe = services.enveloppe_allouer(
        user=personas["national"], dispositif=fonds, region=monde["ara"], annee=2026,
        montant="1000000",
    )  # fmt: skip
    projet = nouveau_retenu(monde, personas)
    aide = proposer(enveloppe, projet, personas["region-ara"])
    fonds.revue_favorable_requise = True  # the national team tightens the rules
    fonds.save()
    with pytest.raises(OperationRefusee, match="avis favorable"):
        services.aide_engager(user=personas["region-ara"], aide=aide)
    assert Aide.objects.get().statut == "proposee"


# --- de minimis -------------------------------------------------------------------------


@pytest.fixture
def de_minimis(monde, personas):
    dispositif = f.DispositifFactory(
        nom="Aide de minimis", phase=monde["phase"], regime_aide=RegimeAide.DE_MINIMIS
    )
    ara = services.enveloppe_allouer(
        user=personas["national"], dispositif=dispositif, region=monde["ara"], annee=2026,
        montant="5000000",
    )  # fmt: skip
    autre = f.DispositifFactory(
        nom="Autre aide de minimis", phase=monde["phase"], regime_aide=RegimeAide.DE_MINIMIS
    )
    occ = services.enveloppe_allouer(
        user=personas["national"], dispositif=autre, region=monde["occ"], annee=2026,
        montant="5000000",
    )  # fmt: skip
    return ara, occ


def test_de_minimis_cumule_par_siren_sur_trois_ans_glissants(de_minimis, monde, personas):
    ara, occ = de_minimis
    # Two establishments of the same undertaking (SIREN 732829320), two régions.
    p1 = nouveau_retenu(monde, personas, siret="73282932000074")
    p2 = nouveau_retenu(monde, personas, territoire=monde["ales"], siret="73282932000033")
    proposer(ara, p1, personas["region-ara"], "200000", date_decision=date(2024, 3, 1))
    avant = etat()
    with pytest.raises(OperationRefusee) as refus:
        proposer(occ, p2, personas["national"], "100000.01", date_decision=date(2026, 2, 1))
    message = refus.value.messages[0]
    assert "Règlement (UE) 2023/2831 (de minimis)" in message
    assert "SIREN 732829320" in message
    assert "300\u202f000,01\xa0€" in message
    assert f"{p1.reference} (Aide de minimis, 200\u202f000,00\xa0€, 01/03/2024)" in message
    assert etat() == avant
    # Exactly the ceiling is allowed.
    proposer(occ, p2, personas["national"], "100000", date_decision=date(2026, 2, 1))
    # Three years later, the 2024 aid no longer counts.
    p3 = nouveau_retenu(monde, personas, siret="73282932000074")
    proposer(ara, p3, personas["region-ara"], "200000", date_decision=date(2027, 3, 2))


def test_de_minimis_une_aide_future_compte_aussi(de_minimis, monde, personas):
    """Any rolling window containing the new aid counts, not only the one ending on it."""
    ara, _ = de_minimis
    p1 = nouveau_retenu(monde, personas)
    proposer(ara, p1, personas["region-ara"], "250000", date_decision=date(2026, 6, 1))
    with pytest.raises(OperationRefusee, match="de minimis"):
        proposer(ara, p1, personas["region-ara"], "60000", date_decision=date(2025, 1, 1))


def test_de_minimis_aides_annulees_non_comptees_autres_regimes_non_plus(
    de_minimis, monde, personas
):
    ara, _ = de_minimis
    projet = nouveau_retenu(monde, personas)
    aide = proposer(ara, projet, personas["region-ara"], "300000")
    services.aide_annuler(user=personas["region-ara"], aide=aide, motif="Erreur")
    hors = f.DispositifFactory(nom="RGEC", phase=monde["phase"], regime_aide=RegimeAide.RGEC)
    enveloppe = services.enveloppe_allouer(
        user=personas["national"], dispositif=hors, region=monde["ara"], annee=2026,
        montant="5000000",
    )  # fmt: skip
    proposer(enveloppe, projet, personas["region-ara"], "900000")
    assert proposer(ara, projet, personas["region-ara"], "300000").statut == "proposee"
    total, comptees = regles.cumul_de_minimis("732829320", date.today())
    assert total == D("300000.00") and len(comptees) == 1


def test_de_minimis_sans_siret(de_minimis, monde, personas):
    ara, _ = de_minimis
    projet = nouveau_retenu(monde, personas)
    Projet.objects.filter(pk=projet.pk).update(porteur_siret="")
    with pytest.raises(OperationRefusee, match="le SIRET du porteur est nécessaire"):
        proposer(ara, projet, personas["region-ara"])
    assert not Aide.objects.exists()


def test_attribuant_par_defaut_et_cofinancement_region(monde, personas):
    etat_ = f.OperateurFactory(nom="Direction générale des entreprises", type="etat", siret="")
    region = f.OperateurFactory()  # Région Auvergne-Rhône-Alpes
    fonds = f.DispositifFactory(nom="Fonds", phase=monde["phase"], operateur=etat_)
    enveloppe = services.enveloppe_allouer(
        user=personas["national"], dispositif=fonds, region=monde["ara"], annee=2026,
        montant="1000000",
    )  # fmt: skip
    projet = nouveau_retenu(monde, personas)
    aide_etat = proposer(enveloppe, projet, personas["region-ara"])
    aide_region = proposer(enveloppe, projet, personas["region-ara"], attribuant=region)
    assert aide_etat.attribuant == etat_
    assert aide_region.attribuant == region


# --- correction of a proposed amount (issue 20) -----------------------------------------


def test_correction_du_montant_propose(monde, personas):
    fonds = f.DispositifFactory(nom="Fonds", phase=monde["phase"])
    enveloppe = services.enveloppe_allouer(
        user=personas["national"], dispositif=fonds, region=monde["ara"], annee=2026,
        montant="1000000",
    )  # fmt: skip
    projet = nouveau_retenu(monde, personas, investissement=D("500000"))
    agent = personas["region-ara"]
    aide = proposer(enveloppe, projet, agent, "20000")
    with pytest.raises(OperationRefusee, match="motif de la correction"):
        services.aide_corriger_montant(user=agent, aide=aide, montant="200000", motif="")
    with pytest.raises(OperationRefusee, match="dépasserait son investissement"):
        services.aide_corriger_montant(user=agent, aide=aide, montant="500000.01", motif="x")
    services.aide_corriger_montant(user=agent, aide=aide, montant="200000", motif="Faute de frappe")
    aide.refresh_from_db()
    assert aide.montant == D("200000.00")
    derniere = aide.history.first()
    assert derniere.history_change_reason == "Correction du montant : Faute de frappe"
    assert derniere.history_user == agent
    services.aide_engager(user=agent, aide=aide)
    with pytest.raises(OperationRefusee, match="Seul le montant d'une aide proposée"):
        services.aide_corriger_montant(user=agent, aide=aide, montant="1000", motif="x")
    assert Aide.objects.get().montant == D("200000.00")


# --- dossier and aid lifecycles agree ---------------------------------------------------


@pytest.fixture
def dossier_aide(monde, personas, projet_adn):
    """Ardèche-Drôme Nord's retained dossier with an aid under convention, 30 % paid."""
    from .test_financements import retenir

    fonds = f.DispositifFactory(nom="Fonds", phase=monde["phase"])
    enveloppe = services.enveloppe_allouer(
        user=personas["national"], dispositif=fonds, region=monde["ara"], annee=2026,
        montant="1000000",
    )  # fmt: skip
    projet = retenir(projet_adn, personas)
    agent = personas["region-ara"]
    aide = proposer(enveloppe, projet, agent, "100000")
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
    proposee = proposer(enveloppe, projet, agent, "50000")
    return projet, aide, proposee, enveloppe


def test_abandon_d_un_dossier_aide_devient_une_demande(dossier_aide, personas):
    projet, aide, _, _ = dossier_aide
    projets_services.projet_transitionner(
        projet=projet, transition="abandonner", user=personas["porteur-adn"],
        commentaire="Le site est vendu.",
    )  # fmt: skip
    projet.refresh_from_db()
    assert projet.statut == Statut.RETENU
    assert projet.abandon_demande_le is not None
    assert "Demande d'abandon : Le site est vendu." in projet.messages.get().texte
    # Payments stop once the abandonment is asked.
    with pytest.raises(OperationRefusee, match="Aucun versement"):
        services.versement_enregistrer(
            user=personas["region-ara"], aide=aide, montant="1", date_versement=date(2026, 6, 1)
        )
    assert Versement.objects.count() == 1
    with pytest.raises(projets_services.TransitionRefusee, match="déjà demandé"):
        projets_services.projet_transitionner(
            projet=projet, transition="abandonner", user=personas["porteur-adn"], commentaire="x"
        )


def test_l_instructeur_regle_l_abandon(dossier_aide, personas):
    projet, aide, proposee, enveloppe = dossier_aide
    agent = personas["region-ara"]
    with pytest.raises(OperationRefusee, match="Aucune demande d'abandon"):
        services.projet_abandon_regler(
            user=agent, projet=projet, date_ordre_reversement=date(2026, 7, 1)
        )
    projets_services.projet_transitionner(
        projet=projet, transition="abandonner", user=personas["porteur-adn"], commentaire="x"
    )
    with pytest.raises(PermissionDenied):
        services.projet_abandon_regler(
            user=personas["region-occitanie"], projet=projet,
            date_ordre_reversement=date(2026, 7, 1),
        )  # fmt: skip
    assert Projet.objects.get(pk=projet.pk).statut == Statut.RETENU
    services.projet_abandon_regler(
        user=agent, projet=projet, date_ordre_reversement=date(2026, 7, 1), commentaire="Vendu"
    )
    projet.refresh_from_db()
    aide.refresh_from_db()
    proposee.refresh_from_db()
    assert projet.statut == Statut.ABANDONNE
    assert projet.transitions.last().auteur == agent
    assert proposee.statut == "annulee"
    assert aide.statut == "resiliee"
    # Every euro accounted: 100,000 = 30,000 paid (to recover) + 70,000 released.
    assert (aide.montant, aide.montant_libere, aide.montant_a_reverser) == (
        D("30000.00"),
        D("70000.00"),
        D("30000.00"),
    )
    assert aide.date_ordre_reversement == date(2026, 7, 1)
    conso = Enveloppe.objects.avec_consommation().get(pk=enveloppe.pk)
    assert conso.montant_engage == D("30000.00") == conso.montant_verse
    with pytest.raises(OperationRefusee):
        services.versement_enregistrer(
            user=agent, aide=aide, montant="1", date_versement=date(2026, 8, 1)
        )


def test_abandon_sans_aide_vivante_reste_direct(monde, personas, projet_adn):
    from .test_financements import retenir

    projet = retenir(projet_adn, personas)
    projets_services.projet_transitionner(
        projet=projet, transition="abandonner", user=personas["porteur-adn"], commentaire="x"
    )
    assert Projet.objects.get(pk=projet.pk).statut == Statut.ABANDONNE


def test_retenir_exige_un_avis_favorable_si_tous_les_dispositifs_l_exigent(monde, personas):
    ancienne = f.PhaseFactory(code="2018-2022", nom="Phase 1", date_debut=date(2018, 11, 22))
    f.DispositifFactory(nom="Fonds d'accélération", phase=ancienne, revue_favorable_requise=True)
    projet = f.ProjetFactory(
        territoire=monde["adn"], phase=ancienne, commune=monde["commune_07"], statut="depose"
    )
    agent = personas["region-ara"]
    projets_services.projet_transitionner(projet=projet, transition="instruire", user=agent)
    with pytest.raises(projets_services.TransitionRefusee, match="avis favorable"):
        projets_services.projet_transitionner(
            projet=projet, transition="retenir", user=agent, commentaire="ok"
        )
    assert Projet.objects.get(pk=projet.pk).statut == Statut.EN_INSTRUCTION
    revue = RevueRegionale.objects.create(region=monde["ara"], date=date(2021, 3, 1))
    AvisRevue.objects.create(revue=revue, projet=projet, avis="favorable")
    projets_services.projet_transitionner(
        projet=projet, transition="retenir", user=agent, commentaire="ok"
    )
    assert Projet.objects.get(pk=projet.pk).statut == Statut.RETENU


def test_revue_n_inscrit_que_les_dossiers_de_sa_region(monde, personas):
    from django.core.exceptions import ValidationError

    projet = f.ProjetFactory(territoire=monde["ales"], commune=monde["commune_30"])
    revue = RevueRegionale(region=monde["ara"], date=date(2026, 1, 1))
    revue.save()
    avis = AvisRevue(revue=revue, projet=projet, avis="favorable")
    with pytest.raises(ValidationError, match="Seuls les dossiers de la région"):
        avis.full_clean()
    assert retenir  # imported helper used by other tests


def test_le_portail_annonce_la_demande_d_abandon(client, dossier_aide, personas):
    projet, *_ = dossier_aide
    client.force_login(personas["porteur-adn"])
    reponse = client.post(
        reverse("dossier_abandonner", args=[projet.reference]),
        {"commentaire": "Le site est vendu."},
        follow=True,
    )
    assert "Votre demande d&#x27;abandon est transmise" in reponse.text
    assert Projet.objects.get(pk=projet.pk).statut == Statut.RETENU
