"""The back-office: one admin site and one perimeter rule shared by every model admin.

Access and rights come from the user's perimeter (`territoires.Habilitation`), not
from Django's per-model permissions:
- only back-office agents (and superusers) get in; leads and partners never do;
- every agent reads what lies in its perimeter (the models' `visibles_par(user)`);
- instructors (niveau 2) and administrators change dossiers, aides and territories
  of their perimeter; only national administrators change reference data,
  dispositifs, envelopes and habilitations;
- nothing is deleted from the back-office (cancel, end or mark obsolete instead);
- an object outside the perimeter answers 404 whatever the view.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from simple_history.models import ModelChange
from simple_history.template_utils import HistoricalRecordContextHelper

from commun.exports import exporter
from commun.formats import INCONNU, euros, milliers, valeur_de_champ
from commun.recherche import declaration, rechercher
from comptes.audit import journaliser
from territoires import perimetre

# Head nouns of the verbose names that are feminine: « une aide », « la région ».
NOMS_FEMININS = frozenset(
    {
        "aide",
        "commune",
        "configuration",
        "demande",
        "entrée",
        "enveloppe",
        "habilitation",
        "intercommunalité",
        "invitation",
        "phase",
        "pièce",
        "région",
        "revue",
    }
)
VOYELLES = "aàâeéèêëiîïoôuùûüyhœ"


def est_feminin(nom: str) -> bool:
    return str(nom).split(" ", 1)[0].lower() in NOMS_FEMININS


def avec_article_indefini(nom: str) -> str:
    """« une aide », « un dossier de projet »."""
    return f"{'une' if est_feminin(nom) else 'un'} {nom}"


def avec_article_defini(nom: str, *, apres_de: bool = False) -> str:
    """« l'aide », « la région », « le dossier » ; after « de »: « de l'aide », « du
    dossier », « de la région »."""
    nom = str(nom)
    if nom[:1].lower() in VOYELLES:
        article = "l'"
    elif est_feminin(nom):
        article = "la "
    else:
        article = "le "
    if apres_de:
        return ("du " + nom) if article == "le " else f"de {article}{nom}"
    return article + nom


def titres(verbose_name: str) -> dict[str, str]:
    """French titles of a model's pages, with gender and elision."""
    return {
        "ajout": f"Ajout d'{avec_article_indefini(verbose_name)}",
        "bouton_ajout": f"Ajouter {avec_article_indefini(verbose_name)}",
        "modification": f"Modification {avec_article_defini(verbose_name, apres_de=True)}",
        "consultation": f"Consultation {avec_article_defini(verbose_name, apres_de=True)}",
    }


class HistoriqueLisible(HistoricalRecordContextHelper):
    """History changes as officers read them: field labels and display values (the
    label of a status, the name of a territory, « 1 234,00 € », « Oui »), never a
    Python value, a code or a primary key."""

    def prepare_delta_change_value(self, change, value):
        champ = self.model._meta.get_field(change.field)
        if isinstance(champ, models.ManyToManyField):
            cible = champ.related_model
            cles = [v.get(champ.m2m_reverse_field_name()) for v in value or []]
            objets = {o.pk: o for o in cible._default_manager.filter(pk__in=cles)}
            return ", ".join(str(objets.get(c, c)) for c in cles) or INCONNU
        if isinstance(value, models.Model):
            return str(value)
        if value is not None and champ.is_relation and type(value).__name__ == "DeletedObject":
            if getattr(value, "pk", None) is None:
                return INCONNU
            return f"{champ.related_model._meta.verbose_name} supprimé(e)"
        return valeur_de_champ(champ, value)

    def stringify_delta_change_values(self, change, old, new):
        # Values are already French text: only shorten and escape (no repr()).
        return super().stringify_delta_change_values(change, str(old), str(new))


def colonne_euros(champ: str, libelle: str, *, tri: str | None = None):
    """A list column showing the amount `champ` (a field or an annotation) in French,
    on one line and right-aligned: « 1 234 567,89 € »."""

    @admin.display(description=libelle, ordering=tri or champ)
    def affichage(self, obj):
        return format_html('<span class="nombre">{}</span>', euros(getattr(obj, champ, None)))

    affichage.__name__ = f"{champ}_euros"
    return affichage


class RefusSansIndiceMixin:
    """The object views never tell an existing object from a missing one: a user who may
    not see the model at all is refused (403) before any lookup, and a missing object is a
    404 (Django redirects to the index for a missing id but answers 403 for an existing
    one, an existence oracle)."""

    def _exiger_acces_au_modele(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._exiger_acces_au_modele(request)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._exiger_acces_au_modele(request)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._exiger_acces_au_modele(request)
        return super().history_view(request, object_id, extra_context)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404("Objet introuvable.")


class ListeFiltreeSure(ChangeList):
    """A changelist whose list filters may meet any value: a custom filter given a
    non-numeric or malformed value (`?territoire=abc`) raised ValueError, a 500. Every
    such value is an IncorrectLookupParameters, which the changelist answers as Django
    does for its own lookups (?e=1) and the export as a French 400."""

    def get_queryset(self, request, exclude_parameters=None):
        try:
            return super().get_queryset(request, exclude_parameters)
        except IncorrectLookupParameters:
            raise
        except (ValueError, TypeError, ValidationError, OverflowError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class _AutocompleteSurMixin:
    """Autocomplete widgets re-render the submitted values by looking them up: a value
    the target key cannot hold (text for a number, a NUL byte) raised a 500 instead of
    the form's own « choix valide » error. Such values are dropped before the lookup."""

    def optgroups(self, name, value, attr=None):
        champ = self.field.remote_field.model._meta.get_field(
            getattr(self.field.remote_field, "field_name", None)
            or self.field.remote_field.model._meta.pk.name
        )
        valables = []
        for v in value:
            if v is None or "\x00" in str(v):
                continue
            try:
                champ.run_validators(champ.get_prep_value(champ.to_python(v)))
            except (ValidationError, ValueError, TypeError, OverflowError):
                continue
            valables.append(v)
        return super().optgroups(name, valables, attr)


class AutocompleteSur(_AutocompleteSurMixin, AutocompleteSelect):
    pass


class AutocompleteMultipleSur(_AutocompleteSurMixin, AutocompleteSelectMultiple):
    pass


class PerimetreAdmin(RefusSansIndiceMixin, admin.ModelAdmin):
    """Base of every model admin: perimeter queryset, perimeter-derived rights, 404s.

    `perimetre = True` filters through `model.objects.visibles_par(user)`; reference
    data (`perimetre = False`) is readable by every agent.
    `modifiable_par`: "instructeur" (perimeter officers of level 2+) or "national"
    (national administrators only), or None (read-only for everyone).
    """

    perimetre = True
    modifiable_par: str | None = "instructeur"
    ajout_possible = True
    list_per_page = 50
    # (header, lookup) pairs: the filtered changelist exports to CSV / XLSX at export/.
    colonnes_export: list[tuple[str, str]] | None = None

    def get_changelist(self, request, **kwargs):
        return ListeFiltreeSure

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        champ = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(champ, "widget", None)
        cible = getattr(widget, "widget", widget)  # inside RelatedFieldWidgetWrapper
        if type(cible) is AutocompleteSelect:
            cible.__class__ = AutocompleteSur
        elif type(cible) is AutocompleteSelectMultiple:
            cible.__class__ = AutocompleteMultipleSur
        return champ

    def get_urls(self):
        urls = super().get_urls()
        if not self.colonnes_export:
            return urls
        opts = self.model._meta
        nom = f"{opts.app_label}_{opts.model_name}_export"
        return [path("exporter/", self.admin_site.admin_view(self.vue_export), name=nom), *urls]

    def vue_export(self, request):
        """Export what the changelist shows (same filters, same perimeter).

        Up to EXPORT_SEUIL_DIFFERE rows the file is the response; above, it is prepared
        in the background (gestion.exports) and found in « Mes exports »."""
        from gestion import services

        request.GET = request.GET.copy()
        format_ = "xlsx" if request.GET.pop("format", ["csv"])[0] == "xlsx" else "csv"
        try:
            liste = self.get_changelist_instance(request)
            queryset = liste.get_queryset(request).order_by("pk")
        except IncorrectLookupParameters as exc:
            # The changelist redirects with ?e=1; a file download says it plainly.
            raise BadRequest("Filtre d'export invalide.") from exc
        opts = self.model._meta
        ressource = f"{opts.app_label}.{opts.model_name}"
        nombre = queryset.count()
        differe = nombre > settings.EXPORT_SEUIL_DIFFERE
        journaliser(
            "export",
            request=request,
            ressource=ressource,
            format=format_,
            filtres={cle: request.GET.getlist(cle) for cle in request.GET},
            lignes=nombre,
            differe=differe,
        )
        if not differe:
            return exporter(queryset, self.colonnes_export, opts.verbose_name_plural, format_)
        services.export_differe_demander(
            user=request.user,
            ressource=ressource,
            intitule=str(opts.verbose_name_plural),
            format_=format_,
            filtres=request.GET.urlencode(),
            lignes=nombre,
        )
        self.message_user(
            request,
            format_html(
                "L'export de {} lignes est en préparation : il sera disponible dans "
                '<a href="{}">« Mes exports »</a> et vous recevrez un courriel.',
                milliers(nombre),
                reverse("admin:comptes_exportdiffere_changelist"),
            ),
            messages.INFO,
        )
        liste = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        filtres = request.GET.urlencode()
        return HttpResponseRedirect(f"{liste}?{filtres}" if filtres else liste)

    def get_search_results(self, request, queryset, search_term):
        """The one French search where the model declares it (dossiers, territories,
        aids): accents, stemming, identifiers; `search_fields` elsewhere. `queryset` is
        already the perimeter's."""
        if search_term.strip() and declaration(queryset) is not None:
            resultats = rechercher(queryset, search_term)  # most relevant first
            if ORDER_VAR in request.GET:  # unless the officer chose a column
                resultats = resultats.order_by(*queryset.query.order_by)
            return resultats, False
        return super().get_search_results(request, queryset, search_term)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if self.perimetre:
            qs = qs & self.model.objects.visibles_par(request.user)
        return qs

    def _peut_modifier(self, request) -> bool:
        user = request.user
        if self.modifiable_par == "instructeur":
            return perimetre.peut_instruire(user)
        if self.modifiable_par == "national":
            return perimetre.est_national(user) and perimetre.peut_administrer(user)
        return False

    def has_module_permission(self, request):
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj) and self._peut_modifier(request)

    def has_add_permission(self, request):
        return self.ajout_possible and self.has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A service refusing the save shows its French message; nothing is saved."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as refus:
            self.message_user(request, " ".join(refus.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        self._exiger_dans_le_perimetre(request, [object_id])
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._exiger_dans_le_perimetre(request, [object_id])
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._exiger_dans_le_perimetre(request, [object_id])
        historique = self.model.history.model._meta.get_field("history_id")
        try:
            historique.run_validators(historique.to_python(unquote(version_id)))
        except (ValidationError, ValueError, TypeError, OverflowError) as exc:
            raise Http404("Version introuvable.") from exc
        return super().history_form_view(request, object_id, version_id, extra_context)

    # French titles (gender, elision) instead of « Ajout de aide ».
    def changelist_view(self, request, extra_context=None):
        opts = self.model._meta
        contexte = {
            "title": capfirst(opts.verbose_name_plural),
            "libelle_ajout": titres(opts.verbose_name)["bouton_ajout"],
        }
        return super().changelist_view(request, {**contexte, **(extra_context or {})})

    def add_view(self, request, form_url="", extra_context=None):
        contexte = {"title": titres(self.model._meta.verbose_name)["ajout"]}
        return super().add_view(request, form_url, {**contexte, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        cle = "modification" if self._peut_modifier(request) else "consultation"
        contexte = {"title": titres(self.model._meta.verbose_name)[cle]}
        return super().change_view(
            request, object_id, form_url, {**contexte, **(extra_context or {})}
        )

    def history_view_title(self, request, obj):
        return f"Historique : {obj}"

    def history_form_view_title(self, request, obj):
        return f"Version passée : {obj}"

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """Like django-simple-history, but the fields changed only by the services (status,
        instructor, dates: not editable in forms) are shown too; automatic timestamps are
        not."""
        precedent = None
        for courant in historical_records:
            if precedent is not None:
                delta = precedent.diff_against(courant, foreign_keys_are_objs=False)
                changements = list(delta.changes)
                for champ in precedent.tracked_fields:
                    if (
                        champ.editable
                        or champ.primary_key
                        or champ.name == "uuid"
                        or getattr(champ, "auto_now", False)
                        or getattr(champ, "auto_now_add", False)
                    ):
                        continue
                    avant = getattr(courant, champ.attname)
                    apres = getattr(precedent, champ.attname)
                    if avant != apres:
                        changements.append(ModelChange(champ.name, avant, apres))
                aide = self.get_historical_record_context_helper(request, precedent)
                precedent.history_delta_changes = [
                    {"field": c.field, "old": c.old, "new": c.new}
                    for c in map(aide.format_delta_change, changements)
                ]
            precedent = courant

    def get_historical_record_context_helper(self, request, historical_record):
        return HistoriqueLisible(self.model, historical_record)

    def has_change_history_permission(self, request, obj=None):
        # No revert from the history: every change goes through the services.
        return False

    def response_action(self, request, queryset):
        """Bulk actions on objects outside the perimeter answer 404, not a silent skip."""
        choisis = request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)
        if choisis and request.POST.get("select_across", "0") == "0":
            self._exiger_dans_le_perimetre(request, choisis)
        return super().response_action(request, queryset)

    def _exiger_dans_le_perimetre(self, request, identifiants):
        self._exiger_acces_au_modele(request)
        try:
            cles = {self.model._meta.pk.to_python(unquote(i)) for i in identifiants}
        except ValidationError as exc:
            raise Http404("Objet introuvable.") from exc
        if self.get_queryset(request).filter(pk__in=cles).count() != len(cles):
            raise Http404("Objet introuvable.")

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Outside the perimeter (or nonexistent): a plain 404, never a hint.
        raise Http404("Objet introuvable.")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """Choice lists of perimeter-bound models go through the same entry point."""
        related = db_field.related_model
        if hasattr(related.objects, "visibles_par") and "queryset" not in kwargs:
            kwargs["queryset"] = related.objects.visibles_par(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class LectureSeuleInline(admin.TabularInline):
    """An inline that only shows rows (changes go through the services)."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True
