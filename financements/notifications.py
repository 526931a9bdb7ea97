"""E-mails to a dossier's leads on money events (aide engaged, signed, each payment), as
background tasks enqueued once the money transaction commits.

`financements.services` calls the `planifier_*` helpers inside its transaction; the task
re-reads the rows by id and writes to the leads of the dossier's territory.
"""

import logging
from functools import partial

from django.core.mail import send_mail
from django.db import transaction
from django_tasks import task

from commun.formats import euros
from projets.notifications import adresse, porteurs

logger = logging.getLogger(__name__)

EVENEMENTS = {
    "engagee": "engagée",
    "conventionnee": "conventionnée (convention signée)",
}


def planifier_aide(*, aide, evenement: str) -> None:
    transaction.on_commit(partial(notifier_aide.enqueue, aide_id=aide.pk, evenement=evenement))


def planifier_versement(*, versement) -> None:
    transaction.on_commit(partial(notifier_versement.enqueue, versement_id=versement.pk))


def _lien(projet) -> str:
    from django.urls import reverse

    return adresse(reverse("dossier_detail", args=[projet.reference]) + "#aides")


@task()
def notifier_aide(aide_id: int, evenement: str) -> None:
    from .models import Aide

    aide = (
        Aide.objects.select_related("projet__territoire", "enveloppe__dispositif")
        .filter(pk=aide_id)
        .first()
    )
    if aide is None or evenement not in EVENEMENTS:
        return
    projet = aide.projet
    destinataires = porteurs(projet)
    if not destinataires:
        return
    date = ""
    if evenement == "conventionnee" and aide.date_convention:
        date = f" le {aide.date_convention:%d/%m/%Y}"
    send_mail(
        f"[Territoires d'industrie] {projet.reference} : aide {EVENEMENTS[evenement]}",
        f"L'aide de {euros(aide.montant)} au titre de « {aide.enveloppe.dispositif} » pour "
        f"votre dossier {projet.reference} « {projet.titre} » est "
        f"{EVENEMENTS[evenement]}{date}.\n\n{_lien(projet)}\n",
        None,
        destinataires,
    )


@task()
def notifier_versement(versement_id: int) -> None:
    from django.db.models import Sum

    from .models import Versement

    versement = (
        Versement.objects.select_related("aide__projet__territoire", "aide__enveloppe__dispositif")
        .filter(pk=versement_id)
        .first()
    )
    if versement is None:
        return
    aide, projet = versement.aide, versement.aide.projet
    destinataires = porteurs(projet)
    if not destinataires:
        return
    verse = aide.versements.aggregate(t=Sum("montant"))["t"]
    send_mail(
        f"[Territoires d'industrie] {projet.reference} : versement de {euros(versement.montant)}",
        f"Un versement de {euros(versement.montant)} a été effectué le "
        f"{versement.date:%d/%m/%Y} sur l'aide « {aide.enveloppe.dispositif} » de votre "
        f"dossier {projet.reference} « {projet.titre} ». Versé à ce jour : {euros(verse)} "
        f"sur {euros(aide.montant)} ; reste à verser : {euros(aide.montant - verse)}.\n\n"
        f"{_lien(projet)}\n",
        None,
        destinataires,
    )
