"""Partner tokens in the back-office: national administrators issue and revoke them.

The secret is shown once, on the page that follows the creation; only its SHA-256
digest and an 8-character prefix are stored.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse

from gestion.bases import PerimetreAdmin
from territoires import perimetre

from . import services
from .models import CHOIX_EVENEMENTS, AbonnementWebhook, JetonPartenaire, LivraisonWebhook
from .services import ROLES_TITULAIRES


class EtatFilter(admin.SimpleListFilter):
    title = "état"
    parameter_name = "etat"

    def lookups(self, request, model_admin):
        return [("valide", "Valide"), ("revoque", "Révoqué")]

    def queryset(self, request, queryset):
        if self.value() == "valide":
            return queryset.valides()
        if self.value() == "revoque":
            return queryset.filter(revoque_le__isnull=False)
        return queryset


@admin.register(JetonPartenaire)
class JetonPartenaireAdmin(PerimetreAdmin):
    perimetre = False
    modifiable_par = "national"
    list_display = [
        "nom",
        "user",
        "niveau",
        "prefixe",
        "etat",
        "cree_le",
        "expire_le",
        "derniere_utilisation_le",
    ]
    list_filter = [EtatFilter, "niveau"]
    list_select_related = ["user"]
    search_fields = ["nom", "prefixe", "user__username", "user__email"]
    fields = [
        "user",
        "nom",
        "niveau",
        "expire_le",
        "prefixe",
        "cree_le",
        "cree_par",
        "revoque_le",
        "revoque_par",
        "derniere_utilisation_le",
    ]
    actions = ["revoquer"]

    def _equipe_nationale(self, request) -> bool:
        return perimetre.est_national(request.user) and perimetre.peut_administrer(request.user)

    def has_module_permission(self, request):
        return super().has_module_permission(request) and self._equipe_nationale(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._equipe_nationale(request)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return [
                "prefixe",
                "cree_le",
                "cree_par",
                "revoque_le",
                "revoque_par",
                "derniere_utilisation_le",
            ]
        return self.fields

    def get_fields(self, request, obj=None):
        return ["user", "nom", "niveau", "expire_le"] if obj is None else self.fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(is_active=True, habilitation__role__in=ROLES_TITULAIRES)
                .order_by("username")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="état")
    def etat(self, jeton):
        if jeton.est_revoque:
            return "révoqué"
        if jeton.est_expire:
            return "expiré"
        return "valide"

    def save_model(self, request, obj, form, change):
        if change:
            return  # A token is never edited: revoke it and issue another one.
        obj._secret = services.jeton_emettre(par=request.user, jeton=obj)

    def response_add(self, request, obj, post_url_continue=None):
        reponse = TemplateResponse(
            request,
            "admin/api/jeton_cree.html",
            {
                **self.admin_site.each_context(request),
                "title": "Jeton créé",
                "jeton": obj,
                "secret": obj._secret,
                "opts": self.model._meta,
            },
        )
        reponse["Cache-Control"] = "no-store"
        return reponse

    @admin.action(description="Révoquer les jetons sélectionnés")
    def revoquer(self, request, queryset):
        for jeton in queryset.filter(revoque_le__isnull=True):
            services.jeton_revoquer(par=request.user, jeton=jeton)
        self.message_user(request, "Jetons révoqués.", messages.SUCCESS)


class WebhookNationalMixin:
    """Webhook subscriptions and deliveries: the national team only, like tokens."""

    perimetre = False

    def _equipe_nationale(self, request) -> bool:
        return perimetre.est_national(request.user) and perimetre.peut_administrer(request.user)

    def has_module_permission(self, request):
        return super().has_module_permission(request) and self._equipe_nationale(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._equipe_nationale(request)


@admin.register(AbonnementWebhook)
class AbonnementWebhookAdmin(WebhookNationalMixin, PerimetreAdmin):
    modifiable_par = "national"
    list_display = ["url", "jeton", "actif", "echecs_consecutifs", "cree_le", "desactive_le"]
    list_filter = ["actif"]
    list_select_related = ["jeton__user"]
    search_fields = ["url", "jeton__nom", "jeton__user__username"]
    autocomplete_fields = []
    fields = [
        "jeton",
        "url",
        "evenements",
        "actif",
        "echecs_consecutifs",
        "cree_le",
        "desactive_le",
        "motif_desactivation",
    ]

    def get_fields(self, request, obj=None):
        return ["jeton", "url", "evenements"] if obj is None else self.fields

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "url":
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None and "evenements" in form.base_fields:
            form.base_fields["evenements"].help_text = (
                "Liste JSON parmi : " + ", ".join(CHOIX_EVENEMENTS) + "."
            )
        return form

    def save_model(self, request, obj, form, change):
        if change:
            return  # Changes go through the services (deactivation, a new subscription).
        abonnement, secret = services.abonnement_creer(
            par=request.user, jeton=obj.jeton, url=obj.url, evenements=obj.evenements
        )
        obj.pk = abonnement.pk
        self.message_user(
            request,
            f"Secret de signature (affiché une seule fois, à transmettre au partenaire) : {secret}",
            messages.WARNING,
        )


@admin.register(LivraisonWebhook)
class LivraisonWebhookAdmin(WebhookNationalMixin, PerimetreAdmin):
    modifiable_par = None
    ajout_possible = False
    list_display = [
        "identifiant",
        "abonnement",
        "evenement",
        "statut",
        "tentatives",
        "code_http",
        "derniere_erreur",
        "prochaine_tentative",
        "cree_le",
        "livree_le",
    ]
    list_filter = ["statut", "evenement"]
    list_select_related = ["abonnement__jeton"]
    search_fields = ["identifiant", "abonnement__url"]
    readonly_fields = [
        "abonnement",
        "identifiant",
        "evenement",
        "corps",
        "statut",
        "tentatives",
        "code_http",
        "derniere_erreur",
        "prochaine_tentative",
        "cree_le",
        "livree_le",
    ]
