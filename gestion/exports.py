"""Deferred back-office exports: rebuild the changelist an export's owner saw.

`PerimetreAdmin.vue_export` (gestion.site) answers directly up to EXPORT_SEUIL_DIFFERE
rows; above, it records an `ExportDiffere` (gestion.services) whose preparation is
enqueued on commit with the export's id only. The task (gestion.services.preparer_export)
re-reads the export, rebuilds here the changelist its owner saw (same admin filters and
search, same perimeter, as of now), writes the file with the direct export's writer
(commun.exports) and stores it.
"""

from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from comptes.models import ExportDiffere


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
