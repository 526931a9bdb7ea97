"""The only writer of the deferred back-office exports (« Mes exports »).

A deferred export moves en_attente → en_cours → pret | echec through the
`export_differe_*` functions only; gestion.exports holds the task that builds the file.
The model stays in `comptes` (its table and admin URL are unchanged).
"""

import logging
import tempfile
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from commun.exports import ecrire
from commun.formats import date_fr, date_heure, milliers
from commun.taches import reprise
from comptes.models import ExportDiffere

from .exports import AccesRetire, queryset_du_proprietaire

logger = logging.getLogger(__name__)

DUREE_EXPORT = timedelta(days=7)


@transaction.atomic
def export_differe_demander(
    *, user, ressource: str, intitule: str, format_: str, filtres: str, lignes: int
) -> ExportDiffere:
    """Record the export of a filtered changelist and enqueue its preparation once the
    transaction commits (the task gets the id only and re-reads everything)."""
    maintenant = timezone.now()
    export = ExportDiffere(
        user=user,
        ressource=ressource,
        intitule=intitule[:100],
        format=format_,
        filtres=filtres,
        lignes=lignes,
        cree_le=maintenant,
        expire_le=maintenant + DUREE_EXPORT,
    )
    export.full_clean()
    export.save()
    transaction.on_commit(partial(preparer_export.enqueue, export_id=export.pk))
    return export


def export_differe_commencer(*, export: ExportDiffere) -> bool:
    """en_attente → en_cours, at most once: False when the export is gone or another
    worker already took it (one conditional UPDATE, no lock needed)."""
    return bool(
        ExportDiffere.objects.filter(pk=export.pk, statut=ExportDiffere.Statut.EN_ATTENTE).update(
            statut=ExportDiffere.Statut.EN_COURS
        )
    )


def _verrouiller_export(export: ExportDiffere) -> ExportDiffere:
    export = ExportDiffere.objects.select_for_update().get(pk=export.pk)
    if export.statut != ExportDiffere.Statut.EN_COURS:
        raise ValidationError("Cet export n'est pas en préparation.")
    return export


@transaction.atomic
def export_differe_terminer(*, export: ExportDiffere, fichier, lignes: int) -> ExportDiffere:
    """en_cours → pret: store the file (default storage, under exports/, never served
    publicly) and e-mail the owner once committed."""
    export = _verrouiller_export(export)
    export.fichier.save(f"{export.uuid}.{export.format}", fichier, save=False)
    export.statut = ExportDiffere.Statut.PRET
    export.lignes = lignes
    export.erreur = ""
    export.termine_le = timezone.now()
    try:
        export.full_clean()
        export.save(update_fields=["fichier", "statut", "lignes", "erreur", "termine_le"])
    except Exception:
        export.fichier.delete(save=False)
        raise
    transaction.on_commit(partial(_avertir, export_id=export.pk))
    return export


@transaction.atomic
def export_differe_echouer(*, export: ExportDiffere, erreur: str) -> ExportDiffere:
    """en_attente | en_cours → echec, with the reason shown to the owner (no technical
    detail: the error itself goes to the logs)."""
    export = ExportDiffere.objects.select_for_update().get(pk=export.pk)
    if export.statut not in (ExportDiffere.Statut.EN_ATTENTE, ExportDiffere.Statut.EN_COURS):
        raise ValidationError("Cet export est déjà terminé.")
    if export.fichier:
        export.fichier.delete(save=False)
    export.statut = ExportDiffere.Statut.ECHEC
    export.erreur = erreur[:255]
    export.termine_le = timezone.now()
    export.full_clean()
    export.save(update_fields=["fichier", "statut", "erreur", "termine_le"])
    transaction.on_commit(partial(_avertir, export_id=export.pk))
    return export


def export_differe_purger() -> int:
    """Delete expired exports, whatever their status, file first (a row left without
    its file is deleted at the next run); return how many were deleted."""
    nombre = 0
    for export in ExportDiffere.objects.expires().order_by("pk").iterator():
        if export.fichier:
            export.fichier.delete(save=False)
        export.delete()
        nombre += 1
    return nombre


def lien_mes_exports() -> str:
    return settings.SITE_URL.rstrip("/") + reverse("admin:comptes_exportdiffere_changelist")


def _avertir(*, export_id: int) -> None:
    """E-mail the owner that the export is ready (with its link) or failed. A mail that
    cannot be sent is logged; the export keeps its status."""
    export = ExportDiffere.objects.select_related("user").filter(pk=export_id).first()
    if export is None or not export.user.email:
        return
    demande_le = date_heure(export.cree_le)
    if export.statut == ExportDiffere.Statut.PRET:
        lien = settings.SITE_URL.rstrip("/") + reverse(
            "admin:comptes_exportdiffere_telecharger", args=[export.uuid]
        )
        sujet = f"[Territoires d'industrie] Votre export est prêt : {export.intitule}"
        corps = (
            f"Bonjour,\n\nL'export « {export.intitule} » ({export.get_format_display()}, "
            f"{milliers(export.lignes)} lignes) demandé le {demande_le} est prêt. Il est "
            f"téléchargeable jusqu'au {date_fr(export.expire_le)}, après "
            f"connexion au back-office :\n{lien}\n\nTous vos exports : {lien_mes_exports()}\n"
        )
    else:
        sujet = f"[Territoires d'industrie] Échec de votre export : {export.intitule}"
        corps = (
            f"Bonjour,\n\nL'export « {export.intitule} » demandé le {demande_le} n'a pas "
            f"pu être préparé ({export.erreur}).\n\nTous vos exports : {lien_mes_exports()}\n"
        )
    try:
        send_mail(sujet, corps, None, [export.user.email])
    except Exception:
        logger.exception("Courriel d'export non envoyé (export %s)", export.uuid)


def export_differe_relancer(*, export_id: int) -> None:
    """en_cours → en_attente: the worker preparing it died; the task is run again
    (commun.taches). The half-written file was a temporary file: nothing to clean."""
    ExportDiffere.objects.filter(pk=export_id, statut=ExportDiffere.Statut.EN_COURS).update(
        statut=ExportDiffere.Statut.EN_ATTENTE
    )


def _export_abandonne(raison: str, export_id: int) -> None:
    """The preparation was interrupted too many times: the owner sees why in « Mes
    exports » (and by e-mail)."""
    export = ExportDiffere.objects.filter(pk=export_id).first()
    if export is not None and export.statut in (
        ExportDiffere.Statut.EN_ATTENTE,
        ExportDiffere.Statut.EN_COURS,
    ):
        export_differe_echouer(export=export, erreur=f"{raison} Relancez l'export.")


# Idempotent (the file is written in one transaction at the end, the e-mail once it is
# committed): run again up to three times when a worker dies while preparing it.
@reprise(
    tentatives=3,
    abandon=_export_abandonne,
    relance=lambda export_id: export_differe_relancer(export_id=export_id),
)
@task()
def preparer_export(export_id: int) -> None:
    export = ExportDiffere.objects.select_related("user").filter(pk=export_id).first()
    if export is None or not export_differe_commencer(export=export):
        return  # purged, or already taken by another worker
    try:
        model_admin, queryset = queryset_du_proprietaire(export)
        with tempfile.TemporaryFile() as fichier:
            lignes = ecrire(
                queryset,
                model_admin.colonnes_export,
                export.intitule,
                export.format,
                fichier,
            )
            fichier.seek(0)
            export_differe_terminer(export=export, fichier=File(fichier), lignes=lignes)
    except AccesRetire as refus:
        logger.warning("Export %s refusé : accès retiré à %s", export.uuid, export.user)
        export_differe_echouer(export=export, erreur=str(refus))
    except BaseException:
        # Never left en_cours: the owner sees the failure, the logs the cause, and the
        # task backend records the task as failed.
        logger.exception("Échec de l'export %s (%s)", export.uuid, export.ressource)
        export_differe_echouer(export=export, erreur="Erreur lors de la préparation du fichier.")
        raise
