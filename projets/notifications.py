"""E-mails sent after dossier events (called on commit by projets.services)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import NoReverseMatch, reverse

from territoires.models import Habilitation, Territoire


def _lien(projet) -> str:
    try:
        chemin = reverse("dossier_detail", args=[projet.reference])
    except NoReverseMatch:
        chemin = "/"
    return settings.SITE_URL.rstrip("/") + chemin


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


def _porteurs(projet):
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


def statut_change(*, projet, transition) -> None:
    from .models import Statut

    if transition.cible == Statut.DEPOSE:
        destinataires = [u.email for u in instructeurs_du_perimetre(projet)]
        sujet = f"[Territoires d'industrie] Dossier déposé : {projet.reference}"
        corps = (
            f"Le dossier {projet.reference} « {projet.titre} » du territoire "
            f"{projet.territoire} vient d'être déposé.\n\n{_lien(projet)}\n"
        )
        if destinataires:
            send_mail(sujet, corps, None, destinataires)
    destinataires = _porteurs(projet)
    if destinataires:
        send_mail(
            f"[Territoires d'industrie] {projet.reference} : {projet.libelle_statut_porteur}",
            f"Le statut de votre dossier {projet.reference} « {projet.titre} » est désormais : "
            f"{projet.libelle_statut_porteur}.\n\n{_lien(projet)}\n",
            None,
            destinataires,
        )


def message_recu(*, message) -> None:
    projet = message.projet
    if Habilitation.objects.filter(user=message.auteur_id, role=Habilitation.Role.PORTEUR).exists():
        destinataires = [u.email for u in instructeurs_du_perimetre(projet)]
    else:
        destinataires = _porteurs(projet)
    if destinataires:
        send_mail(
            f"[Territoires d'industrie] Nouveau message sur le dossier {projet.reference}",
            f"Un nouveau message a été déposé sur le dossier {projet.reference} "
            f"« {projet.titre} ».\n\n{_lien(projet)}\n",
            None,
            destinataires,
        )
