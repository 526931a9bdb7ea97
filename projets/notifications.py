"""E-mails sent after dossier events, as background tasks enqueued on commit.

projets.services calls the `planifier_*` helpers inside its transaction: once it commits,
a task is enqueued with primitive arguments only (ids, status); the task re-reads the
dossier and sends the mail. With the default in-process backend the task runs at once.
"""

import logging
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django_tasks import task

from territoires.models import Habilitation, Territoire

logger = logging.getLogger(__name__)


def adresse(chemin: str) -> str:
    """An absolute link for an e-mail: every link starts with the one SITE_URL setting."""
    return settings.SITE_URL.rstrip("/") + chemin


def _lien(projet) -> str:
    """The dossier's page on the portal (for its leads)."""
    try:
        chemin = reverse("dossier_detail", args=[projet.reference])
    except NoReverseMatch:
        chemin = "/"
    return adresse(chemin)


def _lien_gestion(projet) -> str:
    """The dossier's page in the back-office (for officers)."""
    try:
        chemin = reverse("admin:projets_projet_change", args=[projet.pk])
    except NoReverseMatch:
        chemin = "/admin/"
    return adresse(chemin)


def _instructeurs_du_dossier(projet) -> list[str]:
    """The dossier's officer when it has one (and can still read mail), else every
    instructor of its perimeter."""
    instructeur = projet.instructeur
    if instructeur is not None and instructeur.is_active and instructeur.email:
        return [instructeur.email]
    return [u.email for u in instructeurs_du_perimetre(projet)]


def instructeurs_du_perimetre(projet):
    """Active officers of instructor level whose perimeter includes the dossier."""
    User = get_user_model()
    candidats = (
        User.objects.filter(
            is_active=True,
            habilitation__role=Habilitation.Role.AGENT,
            habilitation__niveau__gte=Habilitation.Niveau.INSTRUCTEUR,
        )
        .exclude(email="")
        .select_related("habilitation")
    )
    return [
        u
        for u in candidats
        if Territoire.objects.visibles_par(u).filter(pk=projet.territoire_id).exists()
    ]


def porteurs(projet):
    User = get_user_model()
    return list(
        User.objects.filter(
            is_active=True,
            habilitation__role=Habilitation.Role.PORTEUR,
            habilitation__territoires=projet.territoire_id,
        )
        .exclude(email="")
        .values_list("email", flat=True)
    )


def planifier_statut_change(*, projet, transition) -> None:
    transaction.on_commit(
        partial(
            notifier_statut_change.enqueue,
            projet_id=projet.pk,
            cible=str(transition.cible),
            transition=transition.nom,
        )
    )


def planifier_message_recu(*, message) -> None:
    transaction.on_commit(partial(notifier_message_recu.enqueue, message_id=message.pk))


@task()
def notifier_statut_change(projet_id: int, cible: str, transition: str = "") -> None:
    from .models import Projet

    projet = Projet.objects.select_related("territoire", "instructeur").filter(pk=projet_id).first()
    if projet is None:
        return
    # The mail describes this transition, even if a later one has already happened.
    projet.statut = cible
    try:
        statut_change(projet=projet, cible=cible, transition=transition)
    except Exception:
        logger.exception("Notification de statut non envoyée (dossier %s)", projet.reference)
        raise


@task()
def notifier_message_recu(message_id: int) -> None:
    from .models import Message

    message = (
        Message.objects.select_related("projet__territoire", "projet__instructeur")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return
    try:
        message_recu(message=message)
    except Exception:
        logger.exception(
            "Notification de message non envoyée (dossier %s)", message.projet.reference
        )
        raise


def statut_change(*, projet, cible: str, transition: str = "") -> None:
    from .models import Statut

    if cible == Statut.DEPOSE:
        destinataires = [u.email for u in instructeurs_du_perimetre(projet)]
        sujet = f"[Territoires d'industrie] Dossier déposé : {projet.reference}"
        corps = (
            f"Le dossier {projet.reference} « {projet.titre} » du territoire "
            f"{projet.territoire} vient d'être déposé.\n\n{_lien_gestion(projet)}\n"
        )
        if destinataires:
            send_mail(sujet, corps, None, destinataires)
    elif transition == "repondre":
        destinataires = _instructeurs_du_dossier(projet)
        if destinataires:
            send_mail(
                f"[Territoires d'industrie] Compléments reçus : {projet.reference}",
                f"Le porteur a renvoyé le dossier {projet.reference} « {projet.titre} » "
                "complété. Il est de retour dans votre file, « en instruction ».\n\n"
                f"{_lien_gestion(projet)}\n",
                None,
                destinataires,
            )
    destinataires = porteurs(projet)
    if destinataires:
        send_mail(
            f"[Territoires d'industrie] {projet.reference} : {projet.get_statut_display()}",
            f"Le statut de votre dossier {projet.reference} « {projet.titre} » est désormais : "
            f"{projet.get_statut_display()}.\n\n{_lien(projet)}\n",
            None,
            destinataires,
        )


def message_recu(*, message) -> None:
    projet = message.projet
    if message.de_porteur:
        destinataires, lien = _instructeurs_du_dossier(projet), _lien_gestion(projet)
        auteur = "Le porteur du projet"
    else:
        destinataires, lien = porteurs(projet), _lien(projet) + "#messages"
        auteur = "L'équipe d'instruction"
    if destinataires:
        send_mail(
            f"[Territoires d'industrie] Nouveau message sur le dossier {projet.reference}",
            f"{auteur} a écrit un message sur le dossier {projet.reference} "
            f"« {projet.titre} ». Lisez-le et répondez sur le dossier :\n\n{lien}\n",
            None,
            destinataires,
        )
