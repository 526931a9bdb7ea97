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
from commun.formats import euros, pourcentage
from gestion.bases import LectureSeuleInline, PerimetreAdmin, colonne_euros
from territoires import perimetre as perimetres

from . import services
from .models import (
    PLAFOND_DE_MINIMIS,
    Aide,
    AideNonPubliee,
    Dispositif,
    Enveloppe,
    ModaliteVersement,
    NatureAide,
    Operateur,
    Versement,
)

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
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "nom",
                    "code",
                    "description",
                    "operateur",
                    "montant_national",
                    "date_debut",
                    "date_fin",
                    "id_dispositif_scdl",
                    "notification_ue",
                ]
            },
        ),
        (
            "Règles du programme (vérifiées à chaque proposition, engagement et signature)",
            {
                "fields": [
                    "phase",
                    "natures",
                    "laureats_seulement",
                    "plafond_par_territoire",
                    "enveloppes_territoriales",
                    "revue_favorable_requise",
                    "regime_aide",
                    "numero_sa",
                ]
            },
        ),
        ("Consommation", {"fields": ["montant_alloue", "montant_engage", "montant_verse"]}),
    ]

    montant_national_euros = colonne_euros("montant_national", "montant national")
    montant_alloue = colonne_euros("montant_alloue", "alloué aux régions")
    montant_engage = colonne_euros("montant_engage", "engagé")
    montant_verse = colonne_euros("montant_verse", "versé")

    def get_queryset(self, request):
        return super().get_queryset(request).avec_totaux()


class EnveloppeForm(forms.ModelForm):
    class Meta:
        model = Enveloppe
        fields = ["dispositif", "region", "territoire", "annee", "montant"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "region" in self.fields:
            self.fields["region"].required = False
            self.fields[
                "region"
            ].help_text = (
                "Enveloppe territoriale : laissez vide, c'est la région pilote du territoire."
            )

    def clean(self):
        donnees = super().clean()
        if "region" in self.fields and not donnees.get("region") and not donnees.get("territoire"):
            self.add_error("region", "Choisissez la région (ou le territoire).")
        return donnees

    def _post_clean(self):
        # The service checks the rules and the uniqueness (territorial or regional).
        if self.instance.pk is None and getattr(self, "cleaned_data", {}).get("territoire"):
            self.instance.region = self.cleaned_data["territoire"].region_pilote
        super()._post_clean()


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
    list_filter = ["dispositif", "region", "annee", ("territoire", admin.EmptyFieldListFilter)]
    list_select_related = ["dispositif", "region", "territoire"]
    search_fields = ["dispositif__nom", "dispositif__code", "region__nom", "territoire__nom"]
    autocomplete_fields = ["territoire"]
    readonly_fields = [
        "departements_pilotes_affiches",
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
        return champs + (["dispositif", "region", "territoire", "annee"] if obj else [])

    def get_search_results(self, request, queryset, search_term):
        """Words match the dispositif, the région or the territory; a year matches the
        year (« rebond 2025 auvergne »), each word narrowing the results."""
        from django.db.models import Q

        for mot in search_term.split():
            if mot.isdigit() and len(mot) == 4:
                queryset = queryset.filter(annee=int(mot))
            else:
                queryset = queryset.filter(
                    Q(dispositif__nom__icontains=mot)
                    | Q(dispositif__code__icontains=mot)
                    | Q(region__nom__icontains=mot)
                    | Q(territoire__nom__icontains=mot)
                )
        return queryset, False

    @admin.display(description="départements pilotes")
    def departements_pilotes_affiches(self, obj):
        if obj is None or obj.territoire_id is None:
            return "—"
        return ", ".join(str(d) for d in obj.departements_pilotes.all()) or "—"

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
            region=None if obj.territoire_id else obj.region,
            territoire=obj.territoire,
            annee=obj.annee,
            montant=form.cleaned_data["montant"],
        )
        obj.pk = cree.pk
        obj._state.adding = False


class VersementInline(LectureSeuleInline):
    model = Versement
    fields = ["date", "montant", "reference", "cree_le"]
    readonly_fields = fields


def champ_date(label: str) -> forms.DateField:
    """A date field with the browser's date picker (no script: CSP-friendly)."""
    return forms.DateField(
        label=label,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )


class AideCreationForm(forms.ModelForm):
    class Meta:
        model = Aide
        fields = [
            "projet",
            "enveloppe",
            "montant",
            "nature",
            "attribuant",
            "reference_decision",
            "date_decision",
        ]
        widgets = {
            "date_decision": forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        }


class ConventionForm(forms.Form):
    date_convention = champ_date("Date de la convention")
    versement_modalite = forms.ChoiceField(
        label="Conditions de versement prévues par la convention",
        choices=ModaliteVersement.choices,
    )
    versement_debut = champ_date("Versement prévu le (ou premier versement prévu le)")
    versement_fin = champ_date("Dernier versement prévu le (versements échelonnés)")
    versement_fin.required = False


class MotifForm(forms.Form):
    motif = forms.CharField(label="Motif d'annulation", widget=forms.Textarea(attrs={"rows": 3}))


class CorrectionForm(forms.Form):
    montant = forms.DecimalField(label="Montant corrigé (€)", max_digits=14, decimal_places=2)
    motif = forms.CharField(
        label="Motif de la correction", widget=forms.Textarea(attrs={"rows": 2}), max_length=500
    )


class ReglementAbandonForm(forms.Form):
    date_ordre_reversement = champ_date("Date de l'ordre de reversement")
    commentaire = forms.CharField(
        label="Commentaire", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class VersementForm(forms.Form):
    montant = forms.DecimalField(label="Montant (€)", max_digits=14, decimal_places=2)
    date_versement = champ_date("Date du versement")
    reference = forms.CharField(label="Référence", required=False, max_length=100)


OPERATIONS = {
    # name: (label, form, service call)
    "engager": ("Engager", None, lambda user, aide, d: services.aide_engager(user=user, aide=aide)),
    "corriger": (
        "Corriger le montant",
        CorrectionForm,
        lambda user, aide, d: services.aide_corriger_montant(
            user=user, aide=aide, montant=d["montant"], motif=d["motif"]
        ),
    ),
    "conventionner": (
        "Conventionner",
        ConventionForm,
        lambda user, aide, d: services.aide_conventionner(
            user=user,
            aide=aide,
            date_convention=d["date_convention"],
            versement_modalite=d["versement_modalite"],
            versement_debut=d["versement_debut"],
            versement_fin=d["versement_fin"],
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


# The operations each aid state allows (the others are neither shown nor accepted).
OPERATIONS_PAR_STATUT = {
    Aide.Statut.PROPOSEE: ("engager", "corriger", "annuler"),
    Aide.Statut.ENGAGEE: ("conventionner", "verser", "annuler"),
    Aide.Statut.CONVENTIONNEE: ("verser", "annuler"),
}


def operations_possibles(aide: Aide) -> list[str]:
    noms = OPERATIONS_PAR_STATUT.get(aide.statut, ())
    if "annuler" in noms and getattr(aide, "montant_verse", None):
        noms = tuple(n for n in noms if n != "annuler")  # paid: settle, never cancel
    return list(noms)


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
        "attribuant",
        "cumul_de_minimis",
        "reference_decision",
        "date_decision",
        "date_convention",
        "versement_modalite",
        "versement_debut",
        "versement_fin",
        "motif_annulation",
        "montant_libere",
        "montant_a_reverser",
        "date_ordre_reversement",
        "cree_le",
        "modifie_le",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).avec_verse()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # no payment before the aid exists

    def get_autocomplete_fields(self, request):
        # Aid entry from a dossier: the fitting envelopes are few, offered as a list.
        if "projet" in request.GET:
            return ["projet"]
        return self.autocomplete_fields

    def _projet_prerempli(self, request):
        from projets.models import Projet

        try:
            pk = int(request.GET.get("projet", ""))
        except ValueError:
            return None
        return (
            Projet.objects.visibles_par(request.user)
            .select_related("territoire", "commune__departement", "phase")
            .filter(pk=pk)
            .first()
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        from projets.models import Projet

        if db_field.name == "projet":
            kwargs["queryset"] = Projet.objects.visibles_par(request.user).filter(
                statut__in=services.STATUTS_PROJET_FINANCABLES
            )
        if db_field.name == "enveloppe":
            projet = self._projet_prerempli(request)
            if projet is not None:
                kwargs["queryset"] = Enveloppe.objects.visibles_par(request.user).pour_projet(
                    projet
                )
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "projet":
            field.error_messages["invalid_choice"] = (
                "Ce dossier ne peut pas recevoir d'aide : seuls les dossiers retenus, en cours "
                "ou réalisés de votre périmètre sont proposés."
            )
        return field

    @admin.display(description="cumul de minimis de l'entreprise (3 ans glissants)")
    def cumul_de_minimis(self, obj):
        from .regles import cumul_de_minimis, date_octroi, siren_du_porteur

        if obj is None or obj.enveloppe.dispositif.regime_aide != "de_minimis":
            return "— (aide hors régime de minimis)"
        siren = siren_du_porteur(obj.projet)
        total, aides = cumul_de_minimis(siren, date_octroi(obj))
        return (
            f"{euros(total)} sur {euros(PLAFOND_DE_MINIMIS)} pour le SIREN {siren} "
            f"({len(aides)} aide(s) comptée(s), dont celle-ci si elle n'est pas annulée)"
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AideCreationForm
        return super().get_form(request, obj, change, **kwargs)

    CHAMPS_RESILIATION = ("montant_libere", "montant_a_reverser", "date_ordre_reversement")

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        if obj is None:
            return AideCreationForm.Meta.fields
        champs = super().get_fields(request, obj)
        if obj.statut != Aide.Statut.RESILIEE:
            champs = [c for c in champs if c not in self.CHAMPS_RESILIATION]
        if obj.statut not in (Aide.Statut.ANNULEE, Aide.Statut.RESILIEE):
            champs = [c for c in champs if c != "motif_annulation"]
        return champs

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
            attribuant=obj.attribuant,
        )
        obj.pk = cree.pk
        obj._state.adding = False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.has_change_permission(request, obj):
            context["operations"] = [(nom, OPERATIONS[nom][0]) for nom in operations_possibles(obj)]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        vue = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/operation/<str:nom>/",
                vue(self.vue_operation),
                name="financements_aide_operation",
            ),
            path(
                "abandon/<int:projet_pk>/",
                vue(self.vue_regler_abandon),
                name="financements_aide_regler_abandon",
            ),
            *super().get_urls(),
        ]

    def vue_operation(self, request, pk, nom):
        aide = get_object_or_404(self.get_queryset(request), pk=pk)
        if nom not in OPERATIONS or not self.has_change_permission(request, aide):
            raise PermissionDenied
        if nom not in operations_possibles(aide):
            messages.error(
                request,
                f"« {OPERATIONS[nom][0]} » n'est pas possible sur une aide "
                f"« {aide.get_statut_display().lower()} ».",
            )
            return HttpResponseRedirect(reverse("admin:financements_aide_change", args=[aide.pk]))
        libelle, classe_form, appel = OPERATIONS[nom]
        retour = reverse("admin:financements_aide_change", args=[aide.pk])
        formulaire = classe_form(request.POST or None) if classe_form else None
        if request.method == "POST" and (formulaire is None or formulaire.is_valid()):
            try:
                appel(request.user, aide, formulaire.cleaned_data if formulaire else {})
            except (ValidationError, PermissionDenied) as refus:
                texte = (
                    " ".join(refus.messages) if isinstance(refus, ValidationError) else str(refus)
                )
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

    def vue_regler_abandon(self, request, projet_pk):
        """Settle a lead's abandonment request on a funded dossier (officer)."""
        from projets.models import Projet
        from projets.services import peut_instruire_projet

        projet = get_object_or_404(
            Projet.objects.visibles_par(request.user).select_related("territoire"), pk=projet_pk
        )
        if not peut_instruire_projet(user=request.user, projet=projet):
            raise PermissionDenied
        retour = reverse("admin:projets_projet_change", args=[projet.pk])
        formulaire = ReglementAbandonForm(request.POST or None)
        if request.method == "POST" and formulaire.is_valid():
            try:
                services.projet_abandon_regler(
                    user=request.user,
                    projet=projet,
                    date_ordre_reversement=formulaire.cleaned_data["date_ordre_reversement"],
                    commentaire=formulaire.cleaned_data["commentaire"],
                )
            except (ValidationError, PermissionDenied) as refus:
                texte = (
                    " ".join(refus.messages) if isinstance(refus, ValidationError) else str(refus)
                )
                messages.error(request, texte)
            else:
                messages.success(
                    request, "Abandon constaté : aides réglées, reversements enregistrés."
                )
            return HttpResponseRedirect(retour)
        aides = [
            {
                "dispositif": aide.enveloppe.dispositif,
                "statut": aide.get_statut_display(),
                "montant": euros(aide.montant),
                "verse": euros(aide.montant_verse),
                "effet": (
                    "inchangée"
                    if not aide.est_vivante
                    else f"résiliée : le reste est libéré, {euros(aide.montant_verse)} à reverser"
                    if aide.montant_verse
                    else "annulée : le montant revient à l'enveloppe"
                ),
            }
            for aide in Aide.objects.filter(projet=projet)
            .avec_verse()
            .select_related("enveloppe__dispositif")
            .order_by("pk")
        ]
        return TemplateResponse(
            request,
            "admin/financements/aide/regler_abandon.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "projet": projet,
                "aides": aides,
                "form": formulaire,
                "retour": retour,
                "title": f"Régler l'abandon — {projet.reference}",
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


@admin.register(AideNonPubliee)
class AideNonPublieeAdmin(PerimetreAdmin):
    """Signed subsidies above 23,000 € that the SCDL file leaves out (no attribuant
    SIRET, convention schedule unknown): national administrators only."""

    modifiable_par = None
    ajout_possible = False
    list_display = [
        "dossier",
        "montant_euros",
        "nom_attribuant",
        "date_convention",
        "motif_non_publiable",
    ]
    list_display_links = None
    list_select_related = ["projet"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).non_publiables_scdl()

    def _national(self, request) -> bool:
        user = request.user
        return perimetres.est_national(user) and perimetres.peut_administrer(user)

    def has_module_permission(self, request):
        return self._national(request)

    def has_view_permission(self, request, obj=None):
        return self._national(request)

    @admin.display(description="dossier", ordering="projet__reference")
    def dossier(self, obj):
        return f"{obj.projet.reference} — {obj.projet.titre}"

    @admin.display(description="montant attribué", ordering="montant_attribue")
    def montant_euros(self, obj):
        return euros(obj.montant_attribue)

    @admin.display(description="attribuant")
    def nom_attribuant(self, obj):
        return obj.nom_attribuant

    @admin.display(description="motif")
    def motif_non_publiable(self, obj):
        return obj.motif_non_publiable
