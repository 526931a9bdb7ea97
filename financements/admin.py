"""Back-office of money: every write calls financements.services; refusals show in French."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from commun.exports import EUROS
from commun.formats import pourcentage
from gestion.bases import LectureSeuleInline, PerimetreAdmin, colonne_euros

from . import services
from .models import Aide, Dispositif, Enveloppe, NatureAide, Operateur, Versement

COLONNES_AIDES = [
    ("dossier", "projet__reference"),
    ("intitulé", "projet__titre"),
    ("bénéficiaire", "projet__porteur_raison_sociale"),
    ("SIRET", "projet__porteur_siret"),
    ("dispositif", "enveloppe__dispositif__nom"),
    ("région", "enveloppe__region__nom"),
    ("année", "enveloppe__annee"),
    ("montant", "montant", EUROS),
    ("nature", "nature", dict(NatureAide.choices)),
    ("code nature", "nature"),
    ("statut", "statut", dict(Aide.Statut.choices)),
    ("code statut", "statut"),
    ("référence de décision", "reference_decision"),
    ("date de décision", "date_decision"),
    ("date de convention", "date_convention"),
]


@admin.register(Operateur)
class OperateurAdmin(PerimetreAdmin):
    perimetre = False
    modifiable_par = "national"
    list_display = ["nom", "sigle", "type", "siret"]
    list_filter = ["type"]
    search_fields = ["nom", "sigle", "siret"]


@admin.register(Dispositif)
class DispositifAdmin(PerimetreAdmin, SimpleHistoryAdmin):
    perimetre = False
    modifiable_par = "national"
    list_display = [
        "nom",
        "operateur",
        "phase",
        "montant_national_euros",
        "montant_alloue",
        "montant_engage",
        "montant_verse",
    ]
    list_filter = ["phase", "operateur"]
    list_select_related = ["operateur", "phase"]
    search_fields = ["nom", "code"]
    readonly_fields = ["montant_alloue", "montant_engage", "montant_verse"]
    prepopulated_fields = {"code": ["nom"]}

    montant_national_euros = colonne_euros("montant_national", "montant national")
    montant_alloue = colonne_euros("montant_alloue", "alloué aux régions")
    montant_engage = colonne_euros("montant_engage", "engagé")
    montant_verse = colonne_euros("montant_verse", "versé")

    def get_queryset(self, request):
        return super().get_queryset(request).avec_totaux()


class EnveloppeForm(forms.ModelForm):
    class Meta:
        model = Enveloppe
        fields = ["dispositif", "region", "annee", "montant"]


@admin.register(Enveloppe)
class EnveloppeAdmin(PerimetreAdmin, SimpleHistoryAdmin):
    form = EnveloppeForm
    modifiable_par = "national"
    # Six columns: readable at 1280 px beside the open filter panel (proposed and
    # contracted amounts are on the envelope's page).
    list_display = [
        "__str__",
        "montant_euros",
        "montant_engage",
        "montant_verse",
        "montant_disponible",
        "consommation",
    ]
    list_filter = ["dispositif", "region", "annee"]
    list_select_related = ["dispositif", "region"]
    search_fields = ["dispositif__nom", "region__nom"]
    readonly_fields = [
        "montant_propose",
        "montant_engage",
        "montant_conventionne",
        "montant_verse",
        "montant_disponible",
        "consommation",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).avec_consommation()

    def get_readonly_fields(self, request, obj=None):
        champs = list(super().get_readonly_fields(request, obj))
        return champs + (["dispositif", "region", "annee"] if obj else [])

    montant_euros = colonne_euros("montant", "montant")
    montant_propose = colonne_euros("montant_propose", "proposé")
    montant_engage = colonne_euros("montant_engage", "engagé")
    montant_conventionne = colonne_euros("montant_conventionne", "conventionné")
    montant_verse = colonne_euros("montant_verse", "versé")
    montant_disponible = colonne_euros("montant_disponible", "disponible")

    @admin.display(description="consommation", ordering="taux_consommation")
    def consommation(self, obj):
        taux = obj.taux_consommation or 0
        return format_html(
            '<span class="nombre"><progress max="100" value="{}" aria-hidden="true"></progress>'
            " {}</span>",
            int(taux),
            pourcentage(taux),
        )

    def save_model(self, request, obj, form, change):
        cree = services.enveloppe_allouer(
            user=request.user,
            dispositif=obj.dispositif,
            region=obj.region,
            annee=obj.annee,
            montant=form.cleaned_data["montant"],
        )
        obj.pk = cree.pk
        obj._state.adding = False


class VersementInline(LectureSeuleInline):
    model = Versement
    fields = ["date", "montant", "reference", "cree_le"]
    readonly_fields = fields


class AideCreationForm(forms.ModelForm):
    class Meta:
        model = Aide
        fields = ["enveloppe", "projet", "montant", "nature", "reference_decision", "date_decision"]


class DateForm(forms.Form):
    date_convention = forms.DateField(label="Date de la convention (AAAA-MM-JJ)")


class MotifForm(forms.Form):
    motif = forms.CharField(label="Motif d'annulation", widget=forms.Textarea(attrs={"rows": 3}))


class VersementForm(forms.Form):
    montant = forms.DecimalField(label="Montant (€)", max_digits=14, decimal_places=2)
    date_versement = forms.DateField(label="Date du versement (AAAA-MM-JJ)")
    reference = forms.CharField(label="Référence", required=False, max_length=100)


OPERATIONS = {
    # name: (label, form, service call)
    "engager": ("Engager", None, lambda user, aide, d: services.aide_engager(user=user, aide=aide)),
    "conventionner": (
        "Conventionner",
        DateForm,
        lambda user, aide, d: services.aide_conventionner(
            user=user, aide=aide, date_convention=d["date_convention"]
        ),
    ),
    "annuler": (
        "Annuler l'aide",
        MotifForm,
        lambda user, aide, d: services.aide_annuler(user=user, aide=aide, motif=d["motif"]),
    ),
    "verser": (
        "Enregistrer un versement",
        VersementForm,
        lambda user, aide, d: services.versement_enregistrer(
            user=user,
            aide=aide,
            montant=d["montant"],
            date_versement=d["date_versement"],
            reference=d["reference"],
        ),
    ),
}


@admin.register(Aide)
class AideAdmin(PerimetreAdmin, SimpleHistoryAdmin):
    change_form_template = "admin/financements/aide/change_form.html"
    change_list_template = "admin/financements/aide/change_list.html"
    colonnes_export = COLONNES_AIDES
    # Seven columns, readable at 1280 px beside the open filter panel.
    list_display = [
        "dossier",
        "enveloppe",
        "montant_euros",
        "nature",
        "statut",
        "montant_verse",
        "date_convention",
    ]
    list_display_links = ["dossier"]
    list_filter = [
        "statut",
        "nature",
        "enveloppe__dispositif",
        "enveloppe__region",
        "enveloppe__annee",
        "enveloppe__dispositif__operateur",
        "date_decision",
    ]
    list_select_related = ["projet", "enveloppe__dispositif", "enveloppe__region"]
    search_fields = [
        "projet__reference",
        "projet__titre",
        "projet__porteur_raison_sociale",
        "projet__porteur_siret",
        "reference_decision",
    ]
    autocomplete_fields = ["projet", "enveloppe"]
    # No date hierarchy nor total count: both scan every aid at each display.
    show_full_result_count = False
    inlines = [VersementInline]
    # Once proposed, an aide changes only through the operations (buttons).
    readonly_fields = [
        "enveloppe",
        "projet",
        "montant",
        "nature",
        "statut",
        "montant_verse",
        "reference_decision",
        "date_decision",
        "date_convention",
        "motif_annulation",
        "cree_le",
        "modifie_le",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).avec_verse()

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AideCreationForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        if obj is None:
            return AideCreationForm.Meta.fields
        return super().get_fields(request, obj)

    montant_euros = colonne_euros("montant", "montant")
    montant_verse = colonne_euros("montant_verse", "versé")

    @admin.display(description="dossier", ordering="projet__reference")
    def dossier(self, obj):
        return obj.projet.reference

    def save_model(self, request, obj, form, change):
        if change:
            return  # every field is read-only once proposed
        cree = services.aide_proposer(
            user=request.user,
            enveloppe=obj.enveloppe,
            projet=obj.projet,
            montant=obj.montant,
            nature=obj.nature,
            reference_decision=obj.reference_decision,
            date_decision=obj.date_decision,
        )
        obj.pk = cree.pk
        obj._state.adding = False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.has_change_permission(request, obj):
            context["operations"] = [(nom, libelle) for nom, (libelle, *_) in OPERATIONS.items()]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        vue = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/operation/<str:nom>/",
                vue(self.vue_operation),
                name="financements_aide_operation",
            ),
            *super().get_urls(),
        ]

    def vue_operation(self, request, pk, nom):
        aide = get_object_or_404(self.get_queryset(request), pk=pk)
        if nom not in OPERATIONS or not self.has_change_permission(request, aide):
            raise PermissionDenied
        libelle, classe_form, appel = OPERATIONS[nom]
        retour = reverse("admin:financements_aide_change", args=[aide.pk])
        formulaire = classe_form(request.POST or None) if classe_form else None
        if request.method == "POST" and (formulaire is None or formulaire.is_valid()):
            try:
                appel(request.user, aide, formulaire.cleaned_data if formulaire else {})
            except (ValidationError, PermissionDenied) as refus:
                texte = refus.messages[0] if isinstance(refus, ValidationError) else str(refus)
                messages.error(request, texte)
            else:
                messages.success(request, f"{libelle} : fait.")
            return HttpResponseRedirect(retour)
        return TemplateResponse(
            request,
            "admin/financements/aide/operation.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "aide": aide,
                "libelle": libelle,
                "form": formulaire,
                "retour": retour,
                "title": f"{libelle} — {aide}",
            },
        )


@admin.register(Versement)
class VersementAdmin(PerimetreAdmin, SimpleHistoryAdmin):
    list_display = ["__str__", "aide", "montant_euros", "date", "reference"]
    montant_euros = colonne_euros("montant", "montant")
    list_select_related = ["aide__projet", "aide__enveloppe__dispositif", "aide__enveloppe__region"]
    search_fields = ["reference", "aide__projet__reference"]
    date_hierarchy = "date"
    modifiable_par = None
