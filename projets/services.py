"""State changes on project dossiers. The only module that writes `Projet.statut`.

Every function is keyword-only, validates, and writes inside a transaction;
e-mails leave only once the transaction is committed.
"""

from dataclasses import dataclass
from enum import Enum

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from territoires.models import Habilitation, Territoire
from territoires.perimetre import est_porteur, habilitation_de, peut_instruire

from . import notifications
from .fichiers import verifier_piece_jointe
from .models import (
    ATTESTATION,
    STATUTS_FINAUX,
    STATUTS_MODIFIABLES_PORTEUR,
    CompteurReference,
    Message,
    PieceJointe,
    Projet,
    Statut,
    TransitionProjet,
    zonage_rural_en_vigueur,
)


class TransitionRefusee(ValidationError):
    """An illegal or unauthorised transition; the message is for the user (French)."""


class Acteur(Enum):
    PORTEUR = "porteur"
    AGENT = "agent"


@dataclass(frozen=True)
class Transition:
    nom: str
    libelle: str
    sources: frozenset
    cible: str
    acteur: Acteur
    commentaire_obligatoire: bool = False


_NON_FINAUX = frozenset(set(Statut) - STATUTS_FINAUX)

TRANSITIONS = {
    t.nom: t
    for t in [
        Transition(
            "deposer",
            "Déposer le dossier",
            frozenset({Statut.BROUILLON}),
            Statut.DEPOSE,
            Acteur.PORTEUR,
        ),
        # The completed dossier goes back to the same officer's queue, flagged as answered
        # (`complete_le`), not to « déposé » where anyone would have to take it again.
        Transition(
            "repondre",
            "Renvoyer le dossier complété",
            frozenset({Statut.A_COMPLETER}),
            Statut.EN_INSTRUCTION,
            Acteur.PORTEUR,
        ),
        Transition(
            "abandonner",
            "Abandonner le projet",
            _NON_FINAUX,
            Statut.ABANDONNE,
            Acteur.PORTEUR,
            commentaire_obligatoire=True,
        ),
        Transition(
            "instruire",
            "Prendre en instruction",
            frozenset({Statut.DEPOSE}),
            Statut.EN_INSTRUCTION,
            Acteur.AGENT,
        ),
        Transition(
            "demander_complements",
            "Demander des compléments",
            frozenset({Statut.EN_INSTRUCTION}),
            Statut.A_COMPLETER,
            Acteur.AGENT,
            commentaire_obligatoire=True,
        ),
        Transition(
            "retenir",
            "Retenir",
            frozenset({Statut.EN_INSTRUCTION}),
            Statut.RETENU,
            Acteur.AGENT,
            commentaire_obligatoire=True,
        ),
        Transition(
            "refuser",
            "Refuser",
            frozenset({Statut.EN_INSTRUCTION}),
            Statut.REFUSE,
            Acteur.AGENT,
            commentaire_obligatoire=True,
        ),
        Transition(
            "classer_sans_suite",
            "Classer sans suite",
            frozenset({Statut.EN_INSTRUCTION}),
            Statut.SANS_SUITE,
            Acteur.AGENT,
            commentaire_obligatoire=True,
        ),
        Transition(
            "demarrer",
            "Déclarer le projet démarré",
            frozenset({Statut.RETENU}),
            Statut.EN_COURS,
            Acteur.AGENT,
        ),
        Transition(
            "achever",
            "Déclarer le projet réalisé",
            frozenset({Statut.EN_COURS}),
            Statut.REALISE,
            Acteur.AGENT,
        ),
    ]
}

STATUTS_DECISION = frozenset({Statut.RETENU, Statut.REFUSE, Statut.SANS_SUITE})
# Closing a dossier this way requires that no money is still live on it.
STATUTS_CLOS_SANS_REALISATION = frozenset({Statut.ABANDONNE, Statut.REFUSE, Statut.SANS_SUITE})

# Checks registered by the money layer above (`financements`, in its AppConfig.ready),
# so that this module never imports it:
# - ARGENT_VIVANT: callables (projet) -> French descriptions of the live aids on it;
# - CONDITIONS_RETENIR: callables (projet) -> French reasons why it cannot be retained.
ARGENT_VIVANT: list = []
CONDITIONS_RETENIR: list = []


def argent_vivant(projet: Projet) -> list[str]:
    return [texte for verifier in ARGENT_VIVANT for texte in verifier(projet)]


CHAMPS_REQUIS_DEPOT = {
    "titre": "l'intitulé du projet",
    "description": "la description",
    "porteur_raison_sociale": "la raison sociale du porteur",
    "porteur_siret": "le SIRET du porteur",
    "porteur_taille": "la taille de l'entreprise",
    "commune": "la commune d'implantation",
    "nature": "la nature du projet",
    "montant_investissement": "le montant d'investissement",
    "aide_demandee": "l'aide demandée",
    "emplois_crees": "les emplois créés",
    "emplois_maintenus": "les emplois maintenus",
    "date_debut_prevue": "la date de début prévue",
}


def _est_porteur_du_territoire(user, territoire) -> bool:
    hab = habilitation_de(user)
    return bool(
        hab
        and hab.role == Habilitation.Role.PORTEUR
        and hab.territoires.filter(pk=territoire.pk).exists()
    )


def _agent_du_perimetre(user, territoire) -> bool:
    return peut_instruire(user) and (
        Territoire.objects.visibles_par(user).filter(pk=territoire.pk).exists()
    )


def peut_instruire_projet(*, user, projet: Projet) -> bool:
    """An instructor whose perimeter holds the dossier's territory."""
    return _agent_du_perimetre(user, projet.territoire)


def peut_declencher(user, projet: Projet, transition: Transition) -> bool:
    if transition.acteur is Acteur.PORTEUR:
        return _est_porteur_du_territoire(user, projet.territoire)
    return _agent_du_perimetre(user, projet.territoire)


def transitions_possibles(*, user, projet: Projet) -> list[Transition]:
    """The transitions `user` may fire now on `projet` (for buttons and menus)."""
    return [
        t
        for t in TRANSITIONS.values()
        if projet.statut in t.sources and peut_declencher(user, projet, t)
    ]


def champs_manquants(projet: Projet) -> list[str]:
    manquants = [
        libelle
        for champ, libelle in CHAMPS_REQUIS_DEPOT.items()
        if getattr(projet, champ) in (None, "")
    ]
    if not projet.axes.exists():
        manquants.append("au moins un axe prioritaire")
    if not projet.pieces_jointes.actives().du_dossier().exists():
        manquants.append("au moins une pièce jointe")
    return manquants


def projet_transitionner(*, projet: Projet, transition: str, user, commentaire: str = "") -> Projet:
    """Fire `transition` on `projet` as `user`; the one way a status changes."""
    regle = TRANSITIONS.get(transition)
    if regle is None:
        raise TransitionRefusee(f"Action inconnue : « {transition} ».", code="inconnue")
    commentaire = (commentaire or "").strip()
    with transaction.atomic():
        verrouille = (
            Projet.objects.select_for_update(of=("self",))
            .select_related("territoire")
            .get(pk=projet.pk)
        )
        if not peut_declencher(user, verrouille, regle):
            raise TransitionRefusee(
                f"Vous n'êtes pas habilité à « {regle.libelle.lower()} » pour ce dossier.",
                code="non_autorise",
            )
        if verrouille.statut not in regle.sources:
            raise TransitionRefusee(
                f"Impossible de « {regle.libelle.lower()} » : le dossier est "
                f"« {verrouille.get_statut_display().lower()} ».",
                code="etat",
            )
        if regle.commentaire_obligatoire and not commentaire:
            raise TransitionRefusee(
                "Un motif ou un message est obligatoire pour cette action.", code="commentaire"
            )
        if regle.nom == "deposer":
            manquants = champs_manquants(verrouille)
            if manquants:
                raise TransitionRefusee(
                    "Le dossier ne peut pas être déposé ; il manque : "
                    + ", ".join(manquants)
                    + ".",
                    code="incomplet",
                )
        if regle.nom == "retenir":
            raisons = [r for condition in CONDITIONS_RETENIR for r in condition(verrouille)]
            if raisons:
                raise TransitionRefusee(raisons, code="conditions")
        if regle.cible in STATUTS_CLOS_SANS_REALISATION:
            vivantes = argent_vivant(verrouille)
            if vivantes and regle.nom == "abandonner":
                _abandon_demander(verrouille, user, commentaire, vivantes)
                projet.refresh_from_db()
                return projet
            if vivantes:
                raise TransitionRefusee(
                    f"Impossible de « {regle.libelle.lower()} » : le dossier porte des aides "
                    f"en cours ({'; '.join(vivantes)}) ; réglez-les d'abord.",
                    code="argent_vivant",
                )
        _appliquer(verrouille, regle, user, commentaire)
    projet.refresh_from_db()
    return projet


def _appliquer(verrouille: Projet, regle: Transition, user, commentaire: str) -> None:
    """Write a checked transition on the locked dossier `verrouille`."""
    maintenant = timezone.now()
    champs = {"statut": regle.cible, "modifie_le": maintenant}
    if regle.cible == Statut.DEPOSE and verrouille.depose_le is None:
        champs["depose_le"] = maintenant
    if regle.cible in STATUTS_DECISION:
        champs["decide_le"] = maintenant
    if regle.nom == "instruire" and verrouille.instructeur_id is None:
        champs["instructeur"] = user
    if regle.nom == "repondre":
        champs["complete_le"] = maintenant
        if verrouille.instructeur_id is None:
            champs["instructeur"] = None  # nobody took it: any officer may (dashboard)
    elif regle.acteur is Acteur.AGENT:
        champs["complete_le"] = None  # the officer has acted on the answer
    # Compare-and-set: a concurrent transition that got there first makes this one fail.
    modifies = Projet.objects.filter(pk=verrouille.pk, statut=verrouille.statut).update(**champs)
    if modifies != 1:
        raise TransitionRefusee(
            "Le dossier vient d'être modifié par quelqu'un d'autre ; rechargez la page.",
            code="concurrent",
        )
    TransitionProjet.objects.create(
        projet=verrouille,
        statut_avant=verrouille.statut,
        statut_apres=regle.cible,
        auteur=user,
        commentaire=commentaire,
    )
    if regle.nom == "demander_complements" or (commentaire and regle.nom == "repondre"):
        Message.objects.create(
            projet=verrouille,
            auteur=user,
            texte=commentaire,
            demande_complements=regle.nom == "demander_complements",
            de_porteur=regle.acteur is Acteur.PORTEUR,
        )
    verrouille.refresh_from_db()
    _historiser(verrouille, user, f"Statut : {regle.libelle}")
    notifications.planifier_statut_change(projet=verrouille, transition=regle)


def _abandon_demander(verrouille: Projet, user, commentaire: str, vivantes: list[str]) -> None:
    """A lead abandons a dossier carrying live aid: the status stays, the request is
    recorded for the officer, who settles the aid and then records the abandonment."""
    if verrouille.abandon_demande_le is not None:
        raise TransitionRefusee(
            "L'abandon de ce dossier est déjà demandé ; l'instructeur règle ses aides.",
            code="abandon_deja_demande",
        )
    maintenant = timezone.now()
    Projet.objects.filter(pk=verrouille.pk).update(
        abandon_demande_le=maintenant, modifie_le=maintenant
    )
    message = Message.objects.create(
        projet=verrouille,
        auteur=user,
        texte=f"Demande d'abandon : {commentaire}\nAides à régler : {'; '.join(vivantes)}.",
        de_porteur=True,
    )
    notifications.planifier_message_recu(message=message)  # the officer is told by mail
    verrouille.refresh_from_db()
    _historiser(verrouille, user, "Abandon demandé (aides à régler)")


def projet_abandon_constater(*, projet: Projet, user, commentaire: str = "") -> Projet:
    """The officer records the abandonment a lead asked for, once no aid is live on the
    dossier (`financements.services.projet_abandon_regler` settles them first)."""
    regle = TRANSITIONS["abandonner"]
    with transaction.atomic():
        verrouille = (
            Projet.objects.select_for_update(of=("self",))
            .select_related("territoire")
            .get(pk=projet.pk)
        )
        if not _agent_du_perimetre(user, verrouille.territoire):
            raise TransitionRefusee(
                "Vous n'êtes pas habilité à constater l'abandon de ce dossier.",
                code="non_autorise",
            )
        if verrouille.abandon_demande_le is None or verrouille.statut not in regle.sources:
            raise TransitionRefusee(
                "Aucune demande d'abandon en attente sur ce dossier.", code="etat"
            )
        vivantes = argent_vivant(verrouille)
        if vivantes:
            raise TransitionRefusee(
                f"Le dossier porte encore des aides en cours ({'; '.join(vivantes)}).",
                code="argent_vivant",
            )
        _appliquer(
            verrouille,
            regle,
            user,
            (commentaire or "").strip() or "Abandon demandé par le porteur, aides réglées.",
        )
    projet.refresh_from_db()
    return projet


def _historiser(projet: Projet, user, raison: str) -> None:
    """Record the current state in the dossier's history (a queryset update bypasses save())."""
    Projet.history.bulk_history_create(
        [projet], update=True, default_user=user, default_change_reason=raison
    )


def _prochaine_reference(region_code: str, annee: int) -> str:
    """Next reference for a région and year; callers hold a transaction."""
    for _ in range(3):
        modifies = CompteurReference.objects.filter(region_id=region_code, annee=annee).update(
            dernier=F("dernier") + 1
        )
        if modifies:
            break
        try:
            with transaction.atomic():
                CompteurReference.objects.create(region_id=region_code, annee=annee, dernier=1)
            break
        except IntegrityError:
            continue  # created concurrently: increment it
    numero = CompteurReference.objects.get(region_id=region_code, annee=annee).dernier
    return f"TI-{region_code}-{annee}-{numero:05d}"


CHAMPS_MODIFIABLES = (
    "titre",
    "description",
    "nature",
    "porteur_raison_sociale",
    "porteur_siret",
    "porteur_taille",
    "contact_nom",
    "contact_email",
    "contact_telephone",
    "commune",
    "montant_investissement",
    "aide_demandee",
    "emplois_crees",
    "emplois_maintenus",
    "co2_evite",
    "zone_qpv",
    "zone_zrr",
    "zone_frr",
    "zone_afr",
    "zone_acv",
    "date_debut_prevue",
    "date_fin_prevue",
)


CHAMPS_ZONES = ("zone_qpv", "zone_zrr", "zone_frr", "zone_afr", "zone_acv")


def date_zonage_apres(avant: Projet, apres: Projet):
    """The zoning date once `apres`'s zones are saved: today when they are declared
    (creation, or any zone changed), else the one already recorded."""
    if avant.pk is None or any(
        getattr(avant, champ) != getattr(apres, champ) for champ in CHAMPS_ZONES
    ):
        return timezone.localdate()
    return avant.date_zonage


def verifier_zones(projet: Projet) -> None:
    """ZRR until 30 June 2024, FRR from 1 July 2024 (the zoning in force at `date_zonage`);
    the messages are the model constraints' own."""
    contraintes = {c.name: c for c in Projet._meta.constraints}
    if projet.date_zonage is None:
        return
    if projet.zone_zrr and zonage_rural_en_vigueur(projet.date_zonage) == "frr":
        raise ValidationError(
            {"zone_zrr": contraintes["projet_zrr_avant_frr"].violation_error_message}
        )
    if projet.zone_frr and zonage_rural_en_vigueur(projet.date_zonage) == "zrr":
        raise ValidationError(
            {"zone_frr": contraintes["projet_frr_depuis_juillet_2024"].violation_error_message}
        )


def verifier_axes(projet: Projet, axes) -> None:
    hors_phase = [axe for axe in axes if axe.phase_id != projet.phase_id]
    if hors_phase:
        raise ValidationError(
            {"axes": f"Les axes choisis doivent appartenir à la phase du dossier ({projet.phase})."}
        )


def verifier_commune(projet: Projet) -> None:
    """The location must lie inside the territory's extent (rule of `territoires`)."""
    if projet.commune_id is None:
        return
    refus = projet.territoire.refus_commune(projet.commune, projet.phase)
    if refus:
        raise ValidationError({"commune": refus})


def verifier_phase(projet: Projet) -> None:
    """A dossier is created only for a phase its territory is labelled for."""
    refus = projet.territoire.refus_phase(projet.phase)
    if refus:
        raise ValidationError({"phase": refus})


def projet_creer(*, user, territoire: Territoire, phase, axes=(), **donnees) -> Projet:
    """Create a draft dossier for `territoire` with a fresh reference."""
    if not (_est_porteur_du_territoire(user, territoire) or _agent_du_perimetre(user, territoire)):
        raise PermissionDenied("Vous ne pouvez pas créer de dossier pour ce territoire.")
    inconnus = set(donnees) - set(CHAMPS_MODIFIABLES)
    if inconnus:
        raise ValueError(f"Champs non modifiables : {sorted(inconnus)}")
    with transaction.atomic():
        projet = Projet(territoire=territoire, phase=phase, deposant=user, **donnees)
        projet.date_zonage = timezone.localdate()  # zoning in force when declared
        verifier_zones(projet)
        projet.full_clean(exclude=["reference"])
        verifier_phase(projet)
        verifier_commune(projet)
        verifier_axes(projet, axes)
        region = (
            projet.commune.departement.region_id
            if projet.commune_id
            else (territoire.region_pilote_id)
        )
        projet.reference = _prochaine_reference(region, timezone.localdate().year)
        projet._history_user = user
        projet.save()
        projet.axes.set(axes)
    return projet


def projet_modifier(*, projet: Projet, user, axes=None, **donnees) -> Projet:
    """Edit a dossier's fields: the lead in draft / complements, an officer of the perimeter
    while it is not decided."""
    inconnus = set(donnees) - set(CHAMPS_MODIFIABLES)
    if inconnus:
        raise ValueError(f"Champs non modifiables : {sorted(inconnus)}")
    with transaction.atomic():
        projet = Projet.objects.select_for_update(of=("self",)).get(pk=projet.pk)
        if _est_porteur_du_territoire(user, projet.territoire):
            if projet.statut not in STATUTS_MODIFIABLES_PORTEUR:
                raise PermissionDenied(
                    "Ce dossier n'est plus modifiable : il est "
                    f"« {projet.get_statut_display().lower()} »."
                )
        elif not _agent_du_perimetre(user, projet.territoire) or projet.est_final:
            raise PermissionDenied("Vous ne pouvez pas modifier ce dossier.")
        avant = Projet(pk=projet.pk, **{c: getattr(projet, c) for c in CHAMPS_ZONES})
        avant.date_zonage = projet.date_zonage
        for champ, valeur in donnees.items():
            setattr(projet, champ, valeur)
        projet.date_zonage = date_zonage_apres(avant, projet)
        verifier_zones(projet)
        projet.full_clean()
        verifier_commune(projet)
        if axes is not None:
            verifier_axes(projet, axes)
        projet._history_user = user
        projet.save()
        if axes is not None:
            projet.axes.set(axes)
    return projet


def _verifier_acces_porteur_ou_agent(user, projet: Projet) -> None:
    if not (
        _est_porteur_du_territoire(user, projet.territoire)
        or _agent_du_perimetre(user, projet.territoire)
    ):
        raise PermissionDenied("Vous n'avez pas accès à ce dossier.")


def projet_deposer(*, projet: Projet, user, attestation: bool, commentaire: str = "") -> Projet:
    """The lead submits a draft (« deposer ») or sends back a completed dossier
    (« repondre »), certifying on honour the information; the certification is recorded
    with its date and author in the same transaction as the transition."""
    transition = "repondre" if projet.statut == Statut.A_COMPLETER else "deposer"
    if not attestation:
        raise TransitionRefusee(
            f"Cochez l'attestation sur l'honneur pour transmettre le dossier : « {ATTESTATION} »",
            code="attestation",
        )
    with transaction.atomic():
        projet = projet_transitionner(
            projet=projet, transition=transition, user=user, commentaire=commentaire
        )
        Projet.objects.filter(pk=projet.pk).update(atteste_le=timezone.now(), atteste_par=user)
        projet.refresh_from_db()
        _historiser(projet, user, "Attestation sur l'honneur")
    return projet


def _verifier_piece_modifiable_par_porteur(user, projet: Projet) -> None:
    if est_porteur(user) and projet.statut not in STATUTS_MODIFIABLES_PORTEUR:
        raise PermissionDenied(
            "Les pièces de ce dossier ne sont plus modifiables : il est "
            f"« {projet.get_statut_display().lower()} »."
        )


def _nouvelle_piece(
    *, projet: Projet, user, fichier, type_mime: str, type: str, message=None
) -> PieceJointe:
    """Store a file whose content `verifier_piece_jointe` accepted (format, size,
    antivirus: checked before the transaction, a scan may take seconds)."""
    piece = PieceJointe(
        projet=projet,
        type=type,
        nom_original=(fichier.name or "fichier")[:200],
        type_mime=type_mime,
        taille=fichier.size,
        depose_par=user,
        message=message,
    )
    piece.full_clean(exclude=["fichier", "message"])
    fichier.seek(0)
    piece.fichier.save("piece", fichier, save=False)
    piece.save()
    return piece


def piece_jointe_ajouter(*, projet: Projet, user, fichier, type: str) -> PieceJointe:
    """Attach a file after checking its content, size and the dossier's state."""
    _verifier_acces_porteur_ou_agent(user, projet)
    if est_porteur(user) and projet.statut not in STATUTS_MODIFIABLES_PORTEUR:
        raise PermissionDenied("On ne peut plus ajouter de pièce à ce dossier.")
    type_mime = verifier_piece_jointe(fichier)
    with transaction.atomic():
        return _nouvelle_piece(
            projet=projet, user=user, fichier=fichier, type_mime=type_mime, type=type
        )


def _piece_du_porteur(piece: PieceJointe, user) -> PieceJointe:
    """Lock `piece` for a lead's withdrawal or replacement, or refuse in French."""
    return _piece_du_porteur_sans_verrou(
        PieceJointe.objects.select_for_update(of=("self",))
        .select_related("projet__territoire")
        .get(pk=piece.pk),
        user,
    )


def _piece_du_porteur_sans_verrou(piece: PieceJointe, user) -> PieceJointe:
    projet = piece.projet
    if not _est_porteur_du_territoire(user, projet.territoire):
        raise PermissionDenied("Seul le porteur du dossier peut retirer ou remplacer ses pièces.")
    _verifier_piece_modifiable_par_porteur(user, projet)
    if piece.message_id is not None:
        raise PermissionDenied("Une pièce jointe à un message ne peut pas être retirée.")
    if piece.est_retiree:
        raise ValidationError("Cette pièce a déjà été retirée ou remplacée.", code="retiree")
    return piece


def piece_jointe_retirer(*, piece: PieceJointe, user) -> PieceJointe:
    """The lead withdraws an attachment of a draft or « à compléter » dossier. The row and
    the file are kept (the dossier's history), they are no longer part of the dossier."""
    with transaction.atomic():
        piece = _piece_du_porteur(piece, user)
        piece.retiree_le = timezone.now()
        piece.retiree_par = user
        piece.full_clean(exclude=["fichier", "message"])
        piece.save(update_fields=["retiree_le", "retiree_par"])
    return piece


def piece_jointe_remplacer(*, piece: PieceJointe, user, fichier) -> PieceJointe:
    """The lead replaces an attachment by a new file of the same kind (checked like any
    upload); the old one is kept, withdrawn and linked to its replacement."""
    _piece_du_porteur_sans_verrou(piece, user)  # refuse before scanning the file
    type_mime = verifier_piece_jointe(fichier)
    with transaction.atomic():
        ancienne = _piece_du_porteur(piece, user)
        nouvelle = _nouvelle_piece(
            projet=ancienne.projet,
            user=user,
            fichier=fichier,
            type_mime=type_mime,
            type=ancienne.type,
        )
        ancienne.retiree_le = timezone.now()
        ancienne.retiree_par = user
        ancienne.remplacee_par = nouvelle
        ancienne.full_clean(exclude=["fichier", "message"])
        ancienne.save(update_fields=["retiree_le", "retiree_par", "remplacee_par"])
    return nouvelle


def message_envoyer(
    *, projet: Projet, user, texte: str, fichier=None, type_piece: str = PieceJointe.Type.AUTRE
) -> Message:
    """A message on a dossier, from its lead (portal) or an officer of its perimeter
    (back-office), optionally with one attachment checked like the dossier's; the other
    side is told by e-mail once committed."""
    _verifier_acces_porteur_ou_agent(user, projet)
    texte = (texte or "").strip()
    if not texte:
        raise ValidationError({"texte": "Le message est vide."})
    if projet.est_final:
        raise PermissionDenied(
            f"Ce dossier est « {projet.get_statut_display().lower()} » : il n'accepte plus "
            "de message."
        )
    type_mime = verifier_piece_jointe(fichier) if fichier is not None else None
    with transaction.atomic():
        message = Message(
            projet=projet,
            auteur=user,
            texte=texte,
            de_porteur=_est_porteur_du_territoire(user, projet.territoire),
        )
        message.full_clean()
        message.save()
        if fichier is not None:
            _nouvelle_piece(
                projet=projet,
                user=user,
                fichier=fichier,
                type_mime=type_mime,
                type=type_piece,
                message=message,
            )
        notifications.planifier_message_recu(message=message)
    return message


def revue_creer(
    *,
    user,
    region,
    date,
    conseil_regional: str,
    prefecture_region: str,
    intitule: str = "",
    membres_presents: str = "",
):
    """Record a regional acceleration review, held by the Région and the préfecture de
    région; only an instructor of that région records it."""
    from territoires.perimetre import regions_visibles

    from .models import RevueRegionale

    if not peut_instruire(user) or not regions_visibles(user).filter(pk=region.pk).exists():
        raise PermissionDenied("Cette revue sort de votre périmètre.")
    with transaction.atomic():
        revue = RevueRegionale(
            region=region,
            date=date,
            intitule=intitule,
            conseil_regional=conseil_regional,
            prefecture_region=prefecture_region,
            membres_presents=membres_presents,
        )
        revue.full_clean()
        revue._history_user = user
        revue.save()
    return revue


def revue_avis_enregistrer(*, user, revue, projet: Projet, avis: str, commentaire: str = ""):
    """Put `projet` on `revue`'s agenda with its opinion (or change the opinion)."""
    from .models import AvisRevue

    if not _agent_du_perimetre(user, projet.territoire):
        raise PermissionDenied("Ce dossier sort de votre périmètre.")
    with transaction.atomic():
        ligne = AvisRevue.objects.filter(revue=revue, projet=projet).first() or AvisRevue(
            revue=revue, projet=projet
        )
        ligne.avis = avis
        ligne.commentaire = commentaire
        ligne.full_clean()
        ligne.save()
    return ligne


def messages_marquer_lus(*, projet: Projet, user) -> int:
    """`user` opened the dossier: the other side's messages become read. Leads read the
    officers' messages; officers who may instruct read the leads' (a reader's visit does
    not mark them read). Returns how many were marked."""
    if _est_porteur_du_territoire(user, projet.territoire):
        de_porteur = False
    elif _agent_du_perimetre(user, projet.territoire):
        de_porteur = True
    else:
        return 0
    return Message.objects.filter(projet=projet, de_porteur=de_porteur, lu_le__isnull=True).update(
        lu_le=timezone.now()
    )
