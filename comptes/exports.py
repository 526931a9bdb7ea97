"""Deferred back-office exports: the background task that builds the file.

`PerimetreAdmin.vue_export` (config.admin) answers directly up to EXPORT_SEUIL_DIFFERE
rows; above, it records an `ExportDiffere` (comptes.services) whose preparation is
enqueued on commit with the export's id only. The task re-reads the export, rebuilds
the changelist its owner saw (same admin filters and search, same perimeter, as of
now), writes the file with the direct export's writer (config.exports) and stores it.
"""

import logging
import tempfile

from django.apps import apps
from django.contrib import admin
from django.core.files import File
from django.test import RequestFactory
from django.urls import reverse
from django_tasks import task

from config.exports import ecrire

from .models import ExportDiffere

logger = logging.getLogger(__name__)


class AccesRetire(Exception):
    """The owner may no longer read this changelist."""


def _admin_de(ressource: str):
    """The model admin of `ressource` (app_label.model_name), if it exports."""
    modele = apps.get_model(ressource)
    model_admin = admin.site._registry.get(modele)
    if model_admin is None or not getattr(model_admin, "colonnes_export", None):
        raise LookupError(f"No back-office export for {ressource!r}")
    return model_admin


def requete_du_proprietaire(export: ExportDiffere, model_admin):
    """A GET of the changelist with the stored filters, made by the export's owner."""
    opts = model_admin.model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    requete = RequestFactory().get(f"{url}?{export.filtres}" if export.filtres else url)
    requete.user = export.user
    return requete


def queryset_du_proprietaire(export: ExportDiffere):
    """(model admin, rows of the changelist as the owner would see it now).

    Raise AccesRetire when the owner lost the back-office or this list (inactive
    account, habilitation removed or changed)."""
    model_admin = _admin_de(export.ressource)
    requete = requete_du_proprietaire(export, model_admin)
    if not (
        model_admin.admin_site.has_permission(requete) and model_admin.has_view_permission(requete)
    ):
        raise AccesRetire("Votre accès à cette liste a été retiré.")
    liste = model_admin.get_changelist_instance(requete)
    return model_admin, liste.get_queryset(requete).order_by("pk")


@task()
def preparer_export(export_id: int) -> None:
    from . import services

    export = ExportDiffere.objects.select_related("user").filter(pk=export_id).first()
    if export is None or not services.export_differe_commencer(export=export):
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
            services.export_differe_terminer(export=export, fichier=File(fichier), lignes=lignes)
    except AccesRetire as refus:
        logger.warning("Export %s refusé : accès retiré à %s", export.uuid, export.user)
        services.export_differe_echouer(export=export, erreur=str(refus))
    except BaseException:
        # Never left en_cours: the owner sees the failure, the logs the cause, and the
        # task backend records the task as failed.
        logger.exception("Échec de l'export %s (%s)", export.uuid, export.ressource)
        services.export_differe_echouer(
            export=export, erreur="Erreur lors de la préparation du fichier."
        )
        raise
