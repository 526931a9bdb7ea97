"""Back-office of dossiers: perimeter-filtered lists, lifecycle buttons, exports, imports."""

import tempfile

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from commun.exports import EUROS, TYPES_MIME
from commun.formats import INCONNU, euros, nombre
from financements.models import Aide, projets_avec_financements
from gestion.bases import LectureSeuleInline, PerimetreAdmin, colonne_euros
from territoires import perimetre
from territoires.models import Departement, Territoire

from . import services
from .fichiers import FORMATS_ACCEPTES
from .importation import TAILLE_MAX, codes_acceptes, ecrire_modele, importer_dossiers
from .models import (
    STATUTS_PUBLICS,
    ZONE_FRAGILE,
    AvisRevue,
    Message,
    PieceJointe,
    Projet,
    RevueRegionale,
    Statut,
    TransitionProjet,
)

COLONNES_EXPORT = [
    ("référence", "reference"),
    ("intitulé", "titre"),
    ("territoire", "territoire__nom"),
    ("région", "commune__departement__region__nom"),
    ("département", "commune__departement_id"),
    ("commune", "commune__nom"),
    ("code INSEE", "commune_id"),
    ("EPCI", "commune__epci__nom"),
    ("SIREN EPCI", "commune__epci_id"),
    ("statut", "statut", dict(Statut.choices)),
    ("code statut", "statut"),
    ("nature", "nature", dict(Projet.Nature.choices)),
    ("code nature", "nature"),
    ("porteur", "porteur_raison_sociale"),
    ("SIRET", "porteur_siret"),
    ("taille", "porteur_taille", dict(Projet.Taille.choices)),
    ("investissement", "montant_investissement", EUROS),
    ("aide demandée", "aide_demandee", EUROS),
    ("emplois créés", "emplois_crees"),
    ("emplois maintenus", "emplois_maintenus"),
    ("CO2 évité t/an", "co2_evite"),
    ("QPV", "zone_qpv"),
    ("ZRR", "zone_zrr"),
    ("FRR", "zone_frr"),
    ("AFR", "zone_afr"),
    ("ACV", "zone_acv"),
    ("créé le", "cree_le"),
    ("déposé le", "depose_le"),
    ("décidé le", "decide_le"),
]


class RegionFiltre(admin.SimpleListFilter):
    title = "région"
    parameter_name = "region"

    def lookups(self, request, model_admin):
        return [(r.code, r.nom) for r in perimetre.regions_visibles(request.user).order_by("nom")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(commune__departement__region=self.value())
        return queryset


class TerritoireFiltre(admin.SimpleListFilter):
    """The officer's territories, read from the perimeter (not from the dossiers: a
    distinct over every dossier grew with the table)."""

    title = "territoire"
    parameter_name = "territoire"

    def lookups(self, request, model_admin):
        territoires = Territoire.objects.visibles_par(request.user).order_by("nom")
        return [(t.pk, t.nom) for t in territoires.only("pk", "nom")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(territoire=self.value())
        return queryset


class DepartementFiltre(admin.SimpleListFilter):
    title = "département"
    parameter_name = "departement"

    def lookups(self, request, model_admin):
        regions = perimetre.regions_visibles(request.user)
        return [(d.code, str(d)) for d in Departement.objects.filter(region__in=regions)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(commune__departement=self.value())
        return queryset


class ZoneFragileFiltre(admin.SimpleListFilter):
    title = "zone fragile"
    parameter_name = "zone"
    ZONES = {
        "qpv": "QPV",
        "zrr": "ZRR",
        "frr": "FRR",
        "afr": "AFR",
        "acv": "Action cœur de ville",
        "toutes": "au moins une",
    }

    def lookups(self, request, model_admin):
        return list(self.ZONES.items())

    def queryset(self, request, queryset):
        valeur = self.value()
        if valeur == "toutes":
            return queryset.filter(ZONE_FRAGILE)
        if valeur in self.ZONES:
            return queryset.filter(**{f"zone_{valeur}": True})
        return queryset


class PieceJointeInline(LectureSeuleInline):
    model = PieceJointe
    fields = ["type", "lien", "format", "taille", "depose_par", "depose_le", "etat"]
    readonly_fields = fields

    @admin.display(description="format")
    def format(self, obj):
        return obj.format_lisible

    @admin.display(description="état")
    def etat(self, obj):
        if obj.message_id:
            return "jointe à un message"
        if obj.remplacee_par_id:
            nouvelle = obj.remplacee_par.nom_original
            return f"remplacée le {obj.retiree_le:%d/%m/%Y} par « {nouvelle} »"
        if obj.retiree_le:
            return f"retirée le {obj.retiree_le:%d/%m/%Y}"
        return "au dossier"

    @admin.display(description="fichier")
    def lien(self, obj):
        url = reverse("admin:projets_projet_piece", args=[obj.projet_id, obj.uuid])
        return format_html('<a href="{}">{}</a>', url, obj.nom_original)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("depose_par", "remplacee_par")


class MessageInline(LectureSeuleInline):
    model = Message
    fields = ["envoye_le", "auteur", "de", "demande_complements", "texte", "pieces", "lu_le"]
    readonly_fields = fields

    @admin.display(description="de")
    def de(self, obj):
        return "porteur" if obj.de_porteur else "instruction"

    @admin.display(description="pièces jointes")
    def pieces(self, obj):
        liens = [
            format_html(
                '<a href="{}">{}</a>',
                reverse("admin:projets_projet_piece", args=[obj.projet_id, p.uuid]),
                p.nom_original,
            )
            for p in obj.pieces_jointes.all()
        ]
        return format_html_join(", ", "{}", ((lien,) for lien in liens)) if liens else "—"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("auteur")
            .prefetch_related("pieces_jointes")
        )


class MessageAgentForm(forms.Form):
    """An officer's message to the dossier's lead, with an optional attachment (checked by
    the service like every upload)."""

    texte = forms.CharField(
        label="Message au porteur",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        error_messages={"required": "Le message est vide."},
    )
    fichier = forms.FileField(
        label="Pièce jointe (facultative)",
        required=False,
        help_text=f"Formats acceptés : {FORMATS_ACCEPTES}.",
    )
    type_piece = forms.ChoiceField(
        label="Type de la pièce", choices=PieceJointe.Type.choices, initial="autre"
    )


class TransitionInline(LectureSeuleInline):
    model = TransitionProjet
    verbose_name_plural = "historique des statuts"
    fields = ["date", "statut_avant", "statut_apres", "auteur", "commentaire"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("auteur")


class AideInline(LectureSeuleInline):
    model = Aide
    fields = ["lien", "enveloppe", "montant", "nature", "statut", "date_convention"]
    readonly_fields = fields

    @admin.display(description="aide")
    def lien(self, obj):
        url = reverse("admin:financements_aide_change", args=[obj.pk])
        return format_html('<a href="{}">Aide n° {}</a>', url, obj.pk)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "projet", "enveloppe__dispositif", "enveloppe__region", "enveloppe__territoire"
            )
        )


class ProjetForm(forms.ModelForm):
    class Meta:
        model = Projet
        fields = ["territoire", "phase", "axes", *services.CHAMPS_MODIFIABLES]

    def clean(self):
        donnees = super().clean()
        projet = self.instance
        if self.errors:
            return donnees
        # The instance is filled after clean(): check what was entered, the service's rules.
        apercu = Projet(
            pk=projet.pk,
            territoire_id=(donnees["territoire"].pk if donnees.get("territoire") else None)
            or projet.territoire_id,
            phase_id=(donnees["phase"].pk if donnees.get("phase") else None) or projet.phase_id,
            commune=donnees.get("commune", projet.commune),
        )
        if apercu.territoire_id is None or apercu.phase_id is None:
            return donnees
        for champ in services.CHAMPS_ZONES:
            setattr(apercu, champ, donnees.get(champ, getattr(projet, champ)))
        apercu.date_zonage = services.date_zonage_apres(projet, apercu)
        try:
            services.verifier_zones(apercu)
            if projet.pk is None:
                services.verifier_phase(apercu)
            services.verifier_commune(apercu)
            if "axes" in donnees:
                services.verifier_axes(apercu, donnees["axes"])
        except ValidationError as erreur:
            self.add_error(None, erreur)
        return donnees


class CommentaireForm(forms.Form):
    commentaire = forms.CharField(
        label="Commentaire (motif ou message au porteur)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
    )


class ImportForm(forms.Form):
    fichier = forms.FileField(
        label=f"Fichier CSV (séparateur « ; ») ou XLSX, {TAILLE_MAX // (1024 * 1024)} Mo au plus"
    )
    simulation = forms.BooleanField(
        label="Simulation seulement (vérifie toutes les lignes sans rien enregistrer)",
        required=False,
        initial=True,
    )


def _action_transition(nom):
    regle = services.TRANSITIONS[nom]

    def action(modeladmin, request, queryset):
        return modeladmin.transition_en_masse(request, queryset, regle)

    action.__name__ = f"transition_{nom}"
    action.short_description = f"{regle.libelle} (dossiers sélectionnés)"
    action.allowed_permissions = ("change",)
    return action


TRANSITIONS_AGENT = [
    n for n, t in services.TRANSITIONS.items() if t.acteur is services.Acteur.AGENT
]


@admin.register(Projet)
class ProjetAdmin(PerimetreAdmin, SimpleHistoryAdmin):
    form = ProjetForm
    change_form_template = "admin/projets/projet/change_form.html"
    change_list_template = "admin/projets/projet/change_list.html"
    colonnes_export = COLONNES_EXPORT
    # Chosen to fit a 1280 px screen beside the open filter panel (the région is a
    # filter and a column of the export).
    list_display = [
        "reference",
        "titre",
        "territoire",
        "statut",
        "investissement",
        "aide_demandee_euros",
        "depose_le",
    ]
    list_display_links = ["reference", "titre"]
    investissement = colonne_euros(
        "montant_investissement", "investissement", tri="montant_investissement"
    )
    aide_demandee_euros = colonne_euros("aide_demandee", "aide demandée")
    list_filter = [
        "statut",
        RegionFiltre,
        DepartementFiltre,
        TerritoireFiltre,
        "phase",
        "axes",
        ("aides__enveloppe__dispositif", admin.RelatedFieldListFilter),
        "nature",
        "porteur_taille",
        ZoneFragileFiltre,
        "depose_le",
    ]
    list_select_related = ["territoire", "commune__departement__region"]
    search_fields = [
        "reference",
        "titre",
        "porteur_raison_sociale",
        "porteur_siret",
        "commune__nom",
        "commune__code_insee",
        "commune__epci__nom",
        "commune__epci__siren",
    ]
    autocomplete_fields = ["commune", "territoire"]

    def get_search_results(self, request, queryset, search_term):
        """The aid form's dossier autocomplete offers only dossiers that may be funded
        (retained, in progress or carried out, no abandonment asked)."""
        queryset, doublons = super().get_search_results(request, queryset, search_term)
        if (
            request.path.endswith("/autocomplete/")
            and request.GET.get("model_name") == "aide"
            and request.GET.get("field_name") == "projet"
        ):
            queryset = queryset.filter(statut__in=STATUTS_PUBLICS, abandon_demande_le__isnull=True)
        return queryset, doublons

    # No date hierarchy nor total count: both scan every dossier of the perimeter at
    # each display (60 ms and 20 ms at 200,000 dossiers); "déposé le" is a list filter.
    show_full_result_count = False
    inlines = [AideInline, PieceJointeInline, MessageInline, TransitionInline]
    actions = [_action_transition(nom) for nom in TRANSITIONS_AGENT]
    readonly_fields = [
        "reference",
        "statut",
        "deposant",
        "instructeur",
        "cree_le",
        "depose_le",
        "decide_le",
        "modifie_le",
        "aide_totale",
        "aide_engagee",
        "aide_versee",
        "effet_levier",
        "date_zonage",
    ]
    fieldsets = [
        (
            "Dossier",
            {
                "fields": [
                    "reference",
                    "statut",
                    "territoire",
                    "phase",
                    "titre",
                    "description",
                    "nature",
                    "axes",
                ]
            },
        ),
        (
            "Porteur",
            {
                "fields": [
                    "porteur_raison_sociale",
                    "porteur_siret",
                    "porteur_taille",
                    "contact_nom",
                    "contact_email",
                    "contact_telephone",
                ]
            },
        ),
        ("Localisation", {"fields": ["commune"]}),
        (
            "Financement",
            {
                "fields": [
                    "montant_investissement",
                    "aide_demandee",
                    "aide_totale",
                    "aide_engagee",
                    "aide_versee",
                    "effet_levier",
                ]
            },
        ),
        (
            "Impacts",
            {
                "fields": [
                    "emplois_crees",
                    "emplois_maintenus",
                    "co2_evite",
                    ("zone_qpv", "zone_zrr", "zone_frr", "zone_afr", "zone_acv"),
                    "date_zonage",
                    ("date_debut_prevue", "date_fin_prevue"),
                ]
            },
        ),
        (
            "Suivi",
            {
                "fields": [
                    "deposant",
                    "instructeur",
                    "cree_le",
                    "depose_le",
                    "decide_le",
                    "modifie_le",
                ]
            },
        ),
    ]

    def get_object(self, request, object_id, from_field=None):
        # Aid figures on the change page only: the changelist never computes them per row.
        queryset = projets_avec_financements(self.get_queryset(request))
        field = (
            self.model._meta.pk if from_field is None else self.model._meta.get_field(from_field)
        )
        try:
            return queryset.get(**{field.name: field.to_python(object_id)})
        except (self.model.DoesNotExist, ValidationError, ValueError):
            return None

    def get_readonly_fields(self, request, obj=None):
        champs = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            champs += ["territoire", "phase"]
            if obj.est_final:
                champs = [f.name for f in Projet._meta.fields] + ["axes"] + champs
        return champs

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None and "axes" in form.base_fields:
            # Axes are limited to the dossier's phase.
            form.base_fields["axes"].queryset = obj.phase.axes.all()
        return form

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "axes":
            kwargs["queryset"] = db_field.related_model.objects.select_related("phase")
            # A phase has a handful of axes: boxes to tick (the two-list widget's script
            # also put an ARIA label on a plain <span>, an accessibility fault).
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="région", ordering="commune__departement__region__nom")
    def region(self, obj):
        return obj.commune.departement.region if obj.commune_id else obj.territoire.region_pilote

    @admin.display(description="aides (hors annulées)")
    def aide_totale(self, obj):
        return euros(getattr(obj, "aide_totale", None))

    @admin.display(description="aides engagées")
    def aide_engagee(self, obj):
        return euros(getattr(obj, "aide_engagee", None))

    @admin.display(description="versé")
    def aide_versee(self, obj):
        return euros(getattr(obj, "aide_versee", None))

    @admin.display(description="effet de levier (investissement ÷ aide engagée)")
    def effet_levier(self, obj):
        levier = getattr(obj, "effet_levier", None)
        return INCONNU if levier is None else f"× {nombre(levier, 1)}"

    # Writes go through the services.
    def save_model(self, request, obj, form, change):
        donnees = {
            champ: form.cleaned_data[champ]
            for champ in services.CHAMPS_MODIFIABLES
            if champ in form.cleaned_data
        }
        axes = form.cleaned_data.get("axes")
        if change:
            changes = {c: v for c, v in donnees.items() if c in form.changed_data}
            services.projet_modifier(projet=obj, user=request.user, axes=axes, **changes)
            obj.refresh_from_db()
            return
        cree = services.projet_creer(
            user=request.user,
            territoire=obj.territoire,
            phase=obj.phase,
            axes=axes or (),
            **donnees,
        )
        obj.pk, obj.reference = cree.pk, cree.reference
        obj._state.adding = False
        obj._state.db = cree._state.db

    def save_related(self, request, form, formsets, change):
        """Axes were saved by the service; the inlines are read-only."""

    def construct_change_message(self, request, form, formsets, add=False):
        # The inlines are never saved (above): the message is the form's alone. Reading
        # the unsaved formsets made every save of a dossier with aides a 500.
        return super().construct_change_message(request, form, [], add)

    def get_urls(self):
        vue = self.admin_site.admin_view
        return [
            path("importer/", vue(self.vue_import), name="projets_projet_import"),
            path(
                "importer/modele.<str:format_>",
                vue(self.vue_modele_import),
                name="projets_projet_import_modele",
            ),
            path(
                "<int:pk>/transition/<str:nom>/",
                vue(self.vue_transition),
                name="projets_projet_transition",
            ),
            path("<int:pk>/pieces/<uuid:uuid>/", vue(self.vue_piece), name="projets_projet_piece"),
            path("<int:pk>/message/", vue(self.vue_message), name="projets_projet_message"),
            *super().get_urls(),
        ]

    def _projet(self, request, pk) -> Projet:
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["transitions"] = [
                t
                for t in services.transitions_possibles(user=request.user, projet=obj)
                if t.acteur is services.Acteur.AGENT
            ]
            # Aid entry from the dossier (financements' admin, prefilled by `?projet=`).
            context["ajout_aide_possible"] = (
                obj.statut in STATUTS_PUBLICS
                and obj.abandon_demande_le is None
                and services.peut_instruire_projet(user=request.user, projet=obj)
            )
            if perimetre.peut_instruire(request.user) and not obj.est_final:
                context["form_message"] = context.get("form_message") or MessageAgentForm()
            if request.method == "GET":
                # The officer opened the dossier: the lead's messages are read.
                services.messages_marquer_lus(projet=obj, user=request.user)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def vue_message(self, request, pk):
        """An officer writes to the lead from the dossier page (POST only)."""
        projet = self._projet(request, pk)
        retour = reverse("admin:projets_projet_change", args=[projet.pk]) + "#messages"
        if request.method != "POST":
            return HttpResponseRedirect(retour)
        formulaire = MessageAgentForm(request.POST, request.FILES)
        if not formulaire.is_valid():
            for erreurs in formulaire.errors.values():
                for erreur in erreurs:
                    messages.error(request, f"Message non envoyé : {erreur}")
            return HttpResponseRedirect(retour)
        try:
            services.message_envoyer(
                projet=projet,
                user=request.user,
                texte=formulaire.cleaned_data["texte"],
                fichier=formulaire.cleaned_data["fichier"],
                type_piece=formulaire.cleaned_data["type_piece"],
            )
        except (ValidationError, PermissionDenied) as refus:
            for texte in getattr(refus, "messages", [str(refus)]):
                messages.error(request, f"Message non envoyé : {texte}")
        else:
            messages.success(request, "Message envoyé au porteur ; il est prévenu par courriel.")
        return HttpResponseRedirect(retour)

    def vue_transition(self, request, pk, nom):
        projet = self._projet(request, pk)
        regle = services.TRANSITIONS.get(nom)
        if regle is None or regle.acteur is not services.Acteur.AGENT:
            raise PermissionDenied
        # A reader (or a transition this user may not make now) is refused before the
        # form: nobody types a comment to be told no afterwards.
        if not self.has_change_permission(request, projet) or regle.nom not in {
            t.nom for t in services.transitions_possibles(user=request.user, projet=projet)
        }:
            raise PermissionDenied
        formulaire = CommentaireForm(request.POST or None)
        retour = reverse("admin:projets_projet_change", args=[projet.pk])
        if request.method == "POST" and formulaire.is_valid():
            try:
                services.projet_transitionner(
                    projet=projet,
                    transition=nom,
                    user=request.user,
                    commentaire=formulaire.cleaned_data["commentaire"],
                )
            except services.TransitionRefusee as refus:
                messages.error(request, refus.messages[0])
            else:
                messages.success(request, f"{projet.reference} : {regle.libelle.lower()} — fait.")
            return HttpResponseRedirect(retour)
        return TemplateResponse(
            request,
            "admin/projets/projet/transition.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "projet": projet,
                "regle": regle,
                "form": formulaire,
                "retour": retour,
                "title": f"{regle.libelle} — {projet.reference}",
            },
        )

    def transition_en_masse(self, request, queryset, regle):
        formulaire = CommentaireForm(request.POST if "appliquer" in request.POST else None)
        if "appliquer" in request.POST and formulaire.is_valid():
            faits, refus = 0, []
            for projet in queryset:
                try:
                    services.projet_transitionner(
                        projet=projet,
                        transition=regle.nom,
                        user=request.user,
                        commentaire=formulaire.cleaned_data["commentaire"],
                    )
                    faits += 1
                except services.TransitionRefusee as erreur:
                    refus.append(f"{projet.reference} : {erreur.messages[0]}")
            if faits:
                messages.success(request, f"{regle.libelle} : {faits} dossier(s).")
            for texte in refus:
                messages.error(request, texte)
            return None
        return TemplateResponse(
            request,
            "admin/projets/projet/transition_masse.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "regle": regle,
                "form": formulaire,
                "projets": queryset,
                "action": request.POST.get("action"),
                "title": f"{regle.libelle} — {queryset.count()} dossier(s)",
            },
        )

    def vue_piece(self, request, pk, uuid):
        projet = self._projet(request, pk)
        piece = get_object_or_404(PieceJointe, projet=projet, uuid=uuid)
        reponse = FileResponse(
            piece.fichier.open("rb"),
            as_attachment=True,
            filename=piece.nom_original,
            content_type=piece.type_mime,
        )
        reponse["X-Content-Type-Options"] = "nosniff"
        return reponse

    def vue_modele_import(self, request, format_):
        """The import template (XLSX with the accepted codes on a second sheet, or CSV)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if format_ not in TYPES_MIME:
            raise Http404("Format inconnu.")
        fichier = tempfile.TemporaryFile()  # noqa: SIM115 - closed by FileResponse
        ecrire_modele(format_=format_, fichier=fichier, user=request.user)
        fichier.seek(0)
        return FileResponse(
            fichier,
            as_attachment=True,
            filename=f"modele-import-dossiers.{format_}",
            content_type=TYPES_MIME[format_],
        )

    def vue_import(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        formulaire = ImportForm(request.POST or None, request.FILES or None)
        rapport = None
        if request.method == "POST" and formulaire.is_valid():
            rapport = importer_dossiers(
                fichier=formulaire.cleaned_data["fichier"],
                user=request.user,
                simulation=formulaire.cleaned_data["simulation"],
            )
            if rapport.enregistre:
                messages.success(request, f"{rapport.crees} dossier(s) importé(s) en brouillon.")
        return TemplateResponse(
            request,
            "admin/projets/projet/import.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "form": formulaire,
                "rapport": rapport,
                "lignes_en_erreur": len({n for n, _ in rapport.erreurs}) if rapport else 0,
                "codes": codes_acceptes(request.user),
                "title": "Importer des dossiers",
            },
        )


class AvisInline(admin.TabularInline):
    """Opinions of a review, under the perimeter rule (not Django's model permissions):
    every agent of the perimeter reads them, its instructors record them, only dossiers
    of their perimeter (and of the review's région) can be chosen."""

    model = AvisRevue
    extra = 1
    can_delete = False
    autocomplete_fields = ["projet"]
    fields = ["projet", "avis", "commentaire"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "commentaire":
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2, "cols": 40})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_view_permission(self, request, obj=None):
        return perimetre.est_agent(request.user)

    def has_add_permission(self, request, obj=None):
        return perimetre.peut_instruire(request.user)

    def has_change_permission(self, request, obj=None):
        return perimetre.peut_instruire(request.user)

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "projet":
            kwargs["queryset"] = Projet.objects.visibles_par(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(RevueRegionale)
class RevueRegionaleAdmin(PerimetreAdmin, SimpleHistoryAdmin):
    list_display = ["__str__", "region", "date", "conseil_regional", "prefecture_region"]
    list_filter = ["region"]
    list_select_related = ["region"]
    date_hierarchy = "date"
    inlines = [AvisInline]
    change_form_template = "admin/projets/revueregionale/change_form.html"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            kwargs["queryset"] = perimetre.regions_visibles(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_formset(self, request, form, formset, change):
        if formset.model is not AvisRevue:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for ligne in formset.forms:
            if not ligne.has_changed() or not ligne.cleaned_data.get("projet"):
                continue
            services.revue_avis_enregistrer(
                user=request.user,
                revue=form.instance,
                projet=ligne.cleaned_data["projet"],
                avis=ligne.cleaned_data["avis"],
                commentaire=ligne.cleaned_data.get("commentaire", ""),
            )

    def get_urls(self):
        return [
            path(
                "<int:pk>/releve/",
                self.admin_site.admin_view(self.vue_releve),
                name="projets_revueregionale_releve",
            ),
            *super().get_urls(),
        ]

    def vue_releve(self, request, pk):
        """The « relevé de décisions » of a review, a PDF made from a template."""
        from .releves import releve_de_decisions_pdf

        revue = get_object_or_404(self.get_queryset(request), pk=pk)
        contenu = releve_de_decisions_pdf(revue)
        reponse = HttpResponse(contenu, content_type="application/pdf")
        nom = f"releve-decisions-revue-{revue.region_id}-{revue.date:%Y-%m-%d}.pdf"
        reponse["Content-Disposition"] = f'attachment; filename="{nom}"'
        return reponse


@admin.register(Message)
class MessageAdmin(PerimetreAdmin):
    list_display = ["projet", "auteur", "envoye_le", "demande_complements"]
    list_select_related = ["projet", "auteur"]
    search_fields = ["projet__reference", "texte"]
    modifiable_par = None


@admin.register(PieceJointe)
class PieceJointeAdmin(PerimetreAdmin):
    list_display = ["nom_original", "projet", "type", "type_mime", "taille", "depose_le"]
    list_select_related = ["projet"]
    list_filter = ["type"]
    search_fields = ["projet__reference", "nom_original"]
    exclude = ["fichier"]
    modifiable_par = None
