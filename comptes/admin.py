"""Access requests, invitations, grant log and ProConnect profiles in the back-office;
each agent's own deferred exports (« Mes exports »).

Read-only here for administrators (national or regional): decisions are taken on
the pages of `comptes.views` (through `comptes.services`), linked from each request.
"""

from django.contrib import admin
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from commun.exports import TYPES_MIME, nom_de_fichier
from commun.formats import milliers
from comptes.audit import details_lisibles
from gestion.bases import PerimetreAdmin
from territoires import perimetre

from .models import (
    DemandeHabilitation,
    EvenementAudit,
    ExportDiffere,
    Invitation,
    JournalHabilitation,
    ProfilProConnect,
)


class AdministrateursAdmin(PerimetreAdmin):
    """National and regional administrators; each list and object is limited by the
    model's `visibles_par` (comptes.models): a regional administrator never reads
    another région's invitations, journal entries, profiles or decided requests."""

    perimetre = True
    modifiable_par = None

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and perimetre.peut_administrer(
            request.user
        )

    def has_module_permission(self, request):
        return self.has_view_permission(request)


@admin.register(DemandeHabilitation)
class DemandeHabilitationAdmin(AdministrateursAdmin):
    list_display = ["email", "nom", "organisation", "siret", "statut", "cree_le", "decider"]
    list_filter = ["statut"]
    search_fields = ["email", "nom", "organisation", "siret"]
    date_hierarchy = "cree_le"

    @admin.display(description="décision")
    def decider(self, obj):
        if obj.statut != DemandeHabilitation.Statut.EN_ATTENTE:
            return obj.get_statut_display()
        url = reverse("comptes:demande", args=[obj.pk])
        return format_html('<a href="{}">Accorder ou refuser</a>', url)


@admin.register(Invitation)
class InvitationAdmin(AdministrateursAdmin):
    list_display = [
        "email",
        "role",
        "echelon",
        "niveau",
        "invitee_par",
        "cree_le",
        "expire_le",
        "acceptee_le",
    ]
    list_filter = ["role", "echelon"]
    list_select_related = ["invitee_par"]
    search_fields = ["email", "organisation"]
    exclude = ["jeton_empreinte"]


@admin.register(JournalHabilitation)
class JournalHabilitationAdmin(AdministrateursAdmin):
    list_display = ["le", "email", "action", "par", "perimetre"]
    list_filter = ["action"]
    list_select_related = ["par"]
    search_fields = ["email"]
    date_hierarchy = "le"


@admin.register(ProfilProConnect)
class ProfilProConnectAdmin(AdministrateursAdmin):
    list_display = [
        "user",
        "usual_name",
        "given_name",
        "siret",
        "idp_id",
        "acr",
        "derniere_connexion",
    ]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email", "siret", "usual_name"]


@admin.register(EvenementAudit)
class EvenementAuditAdmin(PerimetreAdmin):
    """The audit trail, read-only, for national administrators only."""

    perimetre = False
    modifiable_par = None
    ajout_possible = False
    list_display = ["horodatage", "type", "identifiant", "adresse_ip", "objet", "resume"]
    list_filter = ["type", "horodatage"]
    list_select_related = ["user"]
    search_fields = ["identifiant", "user__username", "user__email", "adresse_ip", "objet"]
    date_hierarchy = "horodatage"
    fields = [
        "horodatage",
        "type",
        "user",
        "identifiant",
        "adresse_ip",
        "user_agent",
        "objet",
        "detail_lisible",
    ]
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return (
            super().has_view_permission(request, obj)
            and perimetre.est_national(request.user)
            and perimetre.peut_administrer(request.user)
        )

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="détails")
    def resume(self, obj):
        texte = " ; ".join(details_lisibles(obj.details))
        return texte if len(texte) <= 200 else texte[:199] + "…"

    @admin.display(description="détails")
    def detail_lisible(self, obj):
        lignes = details_lisibles(obj.details)
        if not lignes:
            return "—"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((ligne,) for ligne in lignes))
        )


@admin.register(ExportDiffere)
class ExportDiffereAdmin(PerimetreAdmin):
    """« Mes exports »: every agent sees its own deferred exports only (anyone else's,
    whatever the view, answers 404), read-only, downloaded while ready and not expired."""

    perimetre = False
    modifiable_par = None
    ajout_possible = False
    # The download link first: the page is read on a laptop, beside the filters.
    list_display = [
        "intitule",
        "statut_affiche",
        "telecharger",
        "nombre_de_lignes",
        "cree_le",
        "expire_le",
    ]
    list_display_links = ["intitule"]
    list_filter = ["statut"]
    fields = [
        "intitule",
        "format",
        "filtres",
        "statut",
        "erreur",
        "lignes",
        "cree_le",
        "termine_le",
        "expire_le",
        "telecharger",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).de(request.user)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Mes exports", **(extra_context or {})})

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        vue = self.admin_site.admin_view(self.vue_telecharger)
        return [
            path("<uuid:uuid>/telecharger/", vue, name="comptes_exportdiffere_telecharger"),
            *super().get_urls(),
        ]

    def vue_telecharger(self, request, uuid):
        export = get_object_or_404(
            ExportDiffere.objects.de(request.user).telechargeables(), uuid=uuid
        )
        reponse = FileResponse(
            export.fichier.open("rb"),
            as_attachment=True,
            filename=nom_de_fichier(export.intitule, export.format, export.termine_le),
            content_type=TYPES_MIME[export.format],
        )
        reponse["X-Content-Type-Options"] = "nosniff"
        return reponse

    @admin.display(description="statut", ordering="statut")
    def statut_affiche(self, obj):
        if obj.statut == ExportDiffere.Statut.PRET and obj.est_expire:
            return "Expiré"
        if obj.statut == ExportDiffere.Statut.ECHEC and obj.erreur:
            return f"Échec : {obj.erreur}"
        return obj.get_statut_display()

    @admin.display(description="lignes", ordering="lignes")
    def nombre_de_lignes(self, obj):
        return milliers(obj.lignes)

    @admin.display(description="fichier")
    def telecharger(self, obj):
        if not obj.est_telechargeable:
            return "—"
        url = reverse("admin:comptes_exportdiffere_telecharger", args=[obj.uuid])
        return format_html('<a href="{}">Télécharger ({})</a>', url, obj.format.upper())
