"""Access requests, invitations, grant log and ProConnect profiles in the back-office.

Read-only here for administrators (national or regional): decisions are taken on
the pages of `comptes.views` (through `comptes.services`), linked from each request.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from config.admin import PerimetreAdmin
from territoires import perimetre

from .models import (
    DemandeHabilitation,
    EvenementAudit,
    Invitation,
    JournalHabilitation,
    ProfilProConnect,
)


class AdministrateursAdmin(PerimetreAdmin):
    perimetre = False
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
        "details",
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
        return ", ".join(f"{cle} : {valeur}" for cle, valeur in obj.details.items())[:200]
