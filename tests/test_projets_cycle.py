"""Issue 3: the dossier lifecycle, the only way a status changes."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from projets import services
from projets.models import Message, Projet, Statut, TransitionProjet
from projets.services import TRANSITIONS, TransitionRefusee

# Transitions that lead from brouillon to each state (performed by allowed actors).
CHEMINS = {
    "brouillon": [],
    "depose": ["deposer"],
    "en_instruction": ["deposer", "instruire"],
    "a_completer": ["deposer", "instruire", "demander_complements"],
    "retenu": ["deposer", "instruire", "retenir"],
    "en_cours": ["deposer", "instruire", "retenir", "demarrer"],
    "refuse": ["deposer", "instruire", "refuser"],
    "sans_suite": ["deposer", "instruire", "classer_sans_suite"],
    "realise": ["deposer", "instruire", "retenir", "demarrer", "achever"],
    "abandonne": ["abandonner"],
}
PORTEUR = {"deposer", "repondre", "abandonner"}


def amener(projet, statut, personas):
    for nom in CHEMINS[statut]:
        acteur = personas["porteur-adn"] if nom in PORTEUR else personas["region-ara"]
        services.projet_transitionner(
            projet=projet, transition=nom, user=acteur, commentaire="motif"
        )
    projet.refresh_from_db()
    assert projet.statut == statut
    return projet


def etat(projet):
    projet.refresh_from_db()
    return (
        projet.statut,
        projet.transitions.count(),
        projet.history.count(),
        projet.depose_le,
        projet.decide_le,
    )


AUTORISES = {
    "porteur": {"porteur-adn"},
    "agent": {"region-ara", "national"},
}
PERSONAS = [
    "porteur-adn",
    "porteur-ales",
    "region-ara",
    "region-occitanie",
    "prefecture-07",
    "national",
    "partenaire-bpi",
]
CAS = [
    (nom, source, persona)
    for nom, regle in TRANSITIONS.items()
    for source in sorted(regle.sources)
    if source != "abandonne"
    for persona in PERSONAS
    if nom != "abandonner" or source in ("brouillon", "en_instruction", "retenu")
]


@pytest.mark.parametrize(("transition", "source", "persona"), CAS)
def test_matrice_des_transitions(projet_adn, personas, transition, source, persona):
    projet = amener(projet_adn, source, personas)
    regle = TRANSITIONS[transition]
    autorise = persona in AUTORISES[regle.acteur.value]
    avant = etat(projet)
    if autorise:
        services.projet_transitionner(
            projet=projet,
            transition=transition,
            user=personas[persona],
            commentaire="Motif détaillé",
        )
        apres = etat(projet)
        assert apres[0] == regle.cible
        assert apres[1] == avant[1] + 1 and apres[2] == avant[2] + 1
        derniere = projet.transitions.last()
        assert (derniere.statut_avant, derniere.statut_apres) == (source, regle.cible)
        assert derniere.auteur == personas[persona]
    else:
        with pytest.raises(TransitionRefusee, match="pas habilité"):
            services.projet_transitionner(
                projet=projet, transition=transition, user=personas[persona], commentaire="Motif"
            )
        assert etat(projet) == avant


ETATS = list(CHEMINS)


@pytest.mark.parametrize(
    ("transition", "source"),
    [(t, s) for t in TRANSITIONS for s in ETATS if s not in TRANSITIONS[t].sources],
)
def test_mauvais_etat_refuse_sans_rien_changer(projet_adn, personas, transition, source):
    projet = amener(projet_adn, source, personas)
    acteur = personas["porteur-adn"] if transition in PORTEUR else personas["national"]
    avant = etat(projet)
    with pytest.raises(TransitionRefusee) as erreur:
        services.projet_transitionner(
            projet=projet, transition=transition, user=acteur, commentaire="Motif"
        )
    assert "Impossible" in erreur.value.messages[0]
    assert etat(projet) == avant


@pytest.mark.parametrize(
    "transition", [n for n, r in TRANSITIONS.items() if r.commentaire_obligatoire]
)
def test_commentaire_obligatoire(projet_adn, personas, transition):
    regle = TRANSITIONS[transition]
    source = (
        sorted(regle.sources - {"brouillon"})[0] if transition != "abandonner" else ("brouillon")
    )
    projet = amener(projet_adn, source, personas)
    acteur = personas["porteur-adn"] if transition in PORTEUR else personas["region-ara"]
    avant = etat(projet)
    with pytest.raises(TransitionRefusee, match="motif ou un message est obligatoire"):
        services.projet_transitionner(
            projet=projet, transition=transition, user=acteur, commentaire="   "
        )
    assert etat(projet) == avant


def test_transition_inconnue(projet_adn, personas):
    with pytest.raises(TransitionRefusee, match="Action inconnue"):
        services.projet_transitionner(
            projet=projet_adn, transition="valider", user=personas["national"]
        )


def test_depot_incomplet_refuse_avec_la_liste(projet_adn, personas):
    Projet.objects.filter(pk=projet_adn.pk).update(
        porteur_siret="", montant_investissement=None, aide_demandee=None
    )
    projet_adn.axes.clear()
    projet_adn.pieces_jointes.all().delete()
    avant = etat(projet_adn)
    with pytest.raises(TransitionRefusee) as erreur:
        services.projet_transitionner(
            projet=projet_adn, transition="deposer", user=personas["porteur-adn"]
        )
    message = erreur.value.messages[0]
    for manque in (
        "le SIRET du porteur",
        "le montant d'investissement",
        "au moins un axe prioritaire",
        "au moins une pièce jointe",
    ):
        assert manque in message
    assert etat(projet_adn) == avant


def test_horodatages_instructeur_et_message(projet_adn, personas):
    projet = amener(projet_adn, "depose", personas)
    premier_depot = projet.depose_le
    assert premier_depot is not None and projet.decide_le is None
    services.projet_transitionner(
        projet=projet, transition="instruire", user=personas["region-ara"]
    )
    projet.refresh_from_db()
    assert projet.instructeur == personas["region-ara"]
    services.projet_transitionner(
        projet=projet,
        transition="demander_complements",
        user=personas["region-ara"],
        commentaire="Joindre le Kbis.",
    )
    message = Message.objects.get(projet=projet)
    assert message.demande_complements and message.texte == "Joindre le Kbis."
    services.projet_transitionner(
        projet=projet,
        transition="repondre",
        user=personas["porteur-adn"],
        commentaire="Kbis joint.",
    )
    projet.refresh_from_db()
    # Back to the same officer's queue, « en instruction », flagged as answered.
    assert projet.statut == "en_instruction" and projet.depose_le == premier_depot
    assert projet.instructeur == personas["region-ara"] and projet.complete_le is not None
    assert projet.messages.count() == 2
    services.projet_transitionner(
        projet=projet,
        transition="retenir",
        user=personas["national"],
        commentaire="Retenu en revue.",
    )
    projet.refresh_from_db()
    assert projet.decide_le is not None
    assert projet.complete_le is None  # the officer acted on the answer
    assert projet.instructeur == personas["region-ara"]  # the first instructor stays
    assert list(
        TransitionProjet.objects.filter(projet=projet).values_list("statut_apres", flat=True)
    ) == ["depose", "en_instruction", "a_completer", "en_instruction", "retenu"]


def test_un_seul_jeu_de_libelles(projet_adn, personas):
    """One set of labels, defined with the lifecycle, for every door."""
    projet = amener(projet_adn, "a_completer", personas)
    assert projet.get_statut_display() == "À compléter"
    assert not hasattr(projet, "libelle_statut_porteur")
    assert Projet(statut=Statut.RETENU).get_statut_display() == "Retenu"


def test_reference_format_et_sequence(monde, personas):
    porteur = personas["porteur-adn"]
    un = services.projet_creer(
        user=porteur,
        territoire=monde["adn"],
        phase=monde["phase"],
        titre="Un",
        commune=monde["commune_07"],
    )
    deux = services.projet_creer(
        user=porteur, territoire=monde["adn"], phase=monde["phase"], titre="Deux"
    )
    assert un.reference.startswith("TI-84-") and len(un.reference) == len("TI-84-2026-00001")
    assert int(deux.reference[-5:]) == int(un.reference[-5:]) + 1
    ales = services.projet_creer(
        user=personas["porteur-ales"], territoire=monde["ales"], phase=monde["phase"], titre="Alès"
    )
    assert ales.reference.startswith("TI-76-") and ales.reference.endswith("00001")


def test_reference_jamais_reutilisee(projet_adn, personas, monde):
    reference = projet_adn.reference
    services.projet_transitionner(
        projet=projet_adn,
        transition="abandonner",
        user=personas["porteur-adn"],
        commentaire="Renonce",
    )
    nouveau = services.projet_creer(
        user=personas["porteur-adn"], territoire=monde["adn"], phase=monde["phase"], titre="Autre"
    )
    assert nouveau.reference != reference


def test_axes_limites_a_la_phase(monde, personas):
    from tests.factories import AxeFactory, PhaseFactory

    ancienne = PhaseFactory(
        code="2018-2022", nom="Phase 1", date_debut="2018-11-22", date_fin="2022-12-31"
    )
    axe_ancien = AxeFactory(phase=ancienne, code="attirer", nom="Attirer")
    with pytest.raises(ValidationError, match="phase du dossier"):
        services.projet_creer(
            user=personas["porteur-adn"],
            territoire=monde["adn"],
            phase=monde["phase"],
            axes=[axe_ancien],
            titre="X",
        )
    assert not Projet.objects.exists()


def test_commune_hors_territoire_refusee(monde, personas):
    with pytest.raises(ValidationError, match="n'appartient pas au territoire"):
        services.projet_creer(
            user=personas["porteur-adn"],
            territoire=monde["adn"],
            phase=monde["phase"],
            titre="X",
            commune=monde["commune_30"],
        )
    assert not Projet.objects.exists()


def test_creation_hors_perimetre_refusee(monde, personas):
    for persona in ("porteur-ales", "prefecture-07", "partenaire-bpi", "region-occitanie"):
        with pytest.raises(PermissionDenied):
            services.projet_creer(
                user=personas[persona], territoire=monde["adn"], phase=monde["phase"], titre="X"
            )
    assert not Projet.objects.exists()


def test_modification_porteur_seulement_en_brouillon_ou_a_completer(projet_adn, personas):
    porteur = personas["porteur-adn"]
    services.projet_modifier(projet=projet_adn, user=porteur, titre="Nouveau titre")
    projet = amener(projet_adn, "en_instruction", personas)
    with pytest.raises(PermissionDenied, match="n'est plus modifiable"):
        services.projet_modifier(projet=projet, user=porteur, titre="Interdit")
    projet.refresh_from_db()
    assert projet.titre == "Nouveau titre"
    with pytest.raises(PermissionDenied):
        services.projet_modifier(projet=projet, user=personas["porteur-ales"], titre="Autre")


def test_montants_invalides_refuses_en_francais(projet_adn, personas):
    with pytest.raises(ValidationError) as erreur:
        services.projet_modifier(
            projet=projet_adn, user=personas["porteur-adn"], aide_demandee="2000000.00"
        )
    assert "ne peut pas dépasser le montant de l'investissement" in str(erreur.value)
    with pytest.raises(ValidationError, match="négatif"):
        services.projet_modifier(
            projet=projet_adn, user=personas["porteur-adn"], montant_investissement="-1"
        )
    projet_adn.refresh_from_db()
    assert projet_adn.aide_demandee == 200000


def test_historique_des_modifications(projet_adn, personas):
    services.projet_modifier(
        projet=projet_adn, user=personas["porteur-adn"], titre="Titre modifié", emplois_crees=20
    )
    services.projet_transitionner(
        projet=projet_adn, transition="deposer", user=personas["porteur-adn"]
    )
    historique = list(projet_adn.history.order_by("history_date", "history_id"))
    assert len(historique) == 3
    creation, edition, depot = historique
    assert creation.history_type == "+" and creation.history_user == personas["porteur-adn"]
    diff = edition.diff_against(creation)
    assert {c.field for c in diff.changes} == {"titre", "emplois_crees"}
    assert depot.statut == "depose" and depot.history_change_reason == "Statut : Déposer le dossier"
    assert depot.history_user == personas["porteur-adn"]


def test_notifications(projet_adn, personas, mailoutbox, django_capture_on_commit_callbacks):
    for persona in ("region-ara", "national", "porteur-adn"):
        personas[persona].email = f"{persona}@exemple.gouv.fr"
        personas[persona].save()
    with django_capture_on_commit_callbacks(execute=True):
        services.projet_transitionner(
            projet=projet_adn, transition="deposer", user=personas["porteur-adn"]
        )
    destinataires = [set(m.to) for m in mailoutbox]
    assert {"region-ara@exemple.gouv.fr", "national@exemple.gouv.fr"} in destinataires
    assert {"porteur-adn@exemple.gouv.fr"} in destinataires
    # The reader préfecture and the other région are not notified.
    tous = set().union(*destinataires)
    assert not {"prefecture-07@exemple.gouv.fr", "region-occitanie@exemple.gouv.fr"} & tous
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.message_envoyer(
            projet=projet_adn, user=personas["region-ara"], texte="Une question"
        )
    assert [m.to for m in mailoutbox] == [["porteur-adn@exemple.gouv.fr"]]
