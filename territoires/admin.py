from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count, Exists, OuterRef, Q
from simple_history.admin import SimpleHistoryAdmin

from gestion.bases import LectureSeuleInline, PerimetreAdmin
from territoires import perimetre

from .models import (
    Axe,
    Binome,
    Commune,
    CommuneTerritoire,
    CompositionTerritoire,
    Departement,
    Habilitation,
    ImportTerritoires,
    Intercommunalite,
    Labellisation,
    Phase,
    Region,
    Territoire,
)


class ReferentielAdmin(PerimetreAdmin):
    """Official reference data: read by every agent, loaded by the importers."""

    perimetre = False
    modifiable_par = "national"
    ajout_possible = False


@admin.register(Region)
class RegionAdmin(ReferentielAdmin):
    list_display = ["code", "nom"]
    search_fields = ["code", "nom"]


@admin.register(Departement)
class DepartementAdmin(ReferentielAdmin):
    list_display = ["code", "nom", "region"]
    list_filter = ["region"]
    list_select_related = ["region"]
    search_fields = ["code", "nom"]


@admin.register(Intercommunalite)
class IntercommunaliteAdmin(ReferentielAdmin):
    list_display = ["nom", "siren", "nature", "departement", "population", "obsolete"]
    list_filter = ["nature", "obsolete", "departement__region", "departement"]
    list_select_related = ["departement"]
    search_fields = ["nom", "siren"]
    readonly_fields = ["siren"]


@admin.register(Commune)
class CommuneAdmin(ReferentielAdmin):
    list_display = ["nom", "code_insee", "departement", "epci", "population", "obsolete"]
    list_filter = ["obsolete", "departement__region", "departement"]
    list_select_related = ["departement", "epci"]
    search_fields = ["nom", "code_insee", "epci__nom", "epci__siren"]
    autocomplete_fields = ["epci"]
    readonly_fields = ["code_insee"]


class AxeInline(admin.TabularInline):
    model = Axe
    extra = 0


@admin.register(Phase)
class PhaseAdmin(ReferentielAdmin):
    list_display = ["nom", "code", "date_debut", "date_fin"]
    inlines = [AxeInline]
    ajout_possible = True


@admin.register(Axe)
class AxeAdmin(ReferentielAdmin):
    list_display = ["nom", "phase", "ordre"]
    list_filter = ["phase"]
    list_select_related = ["phase"]
    search_fields = ["nom", "code"]


class ReferentielTerritoireInline(admin.TabularInline):
    """Rows of a territory's reference (labels, composition): every agent who sees the
    territory reads them; only national administrators change them; none is deleted
    (an exit date closes a row)."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return perimetre.est_agent(request.user)

    def has_add_permission(self, request, obj=None):
        return perimetre.est_national(request.user) and perimetre.peut_administrer(request.user)

    def has_change_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


class CompositionInline(ReferentielTerritoireInline):
    model = CompositionTerritoire
    extra = 0
    autocomplete_fields = ["epci"]
    fields = ["phase", "epci", "partielle", "date_entree", "date_sortie", "import_entree"]
    readonly_fields = ["import_entree"]


class CommuneMembreInline(LectureSeuleInline):
    """Commune-level membership (ANCT list): read-only, written by the importer."""

    model = CommuneTerritoire
    fields = ["phase", "commune", "date_entree", "date_sortie", "import_entree", "import_sortie"]
    readonly_fields = fields
    classes = ["collapse"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("phase", "commune")


class LabellisationInline(ReferentielTerritoireInline):
    model = Labellisation
    fk_name = "territoire"
    fields = ["phase", "date", "date_sortie", "departements", "composition", "successeur"]
    autocomplete_fields = ["departements"]
    raw_id_fields = ["successeur"]


class EtendueDepartementFiltre(admin.SimpleListFilter):
    """Territories whose extent touches a département (the one rule of `territoires`)."""

    title = "département (étendue)"
    parameter_name = "departement"

    def lookups(self, request, model_admin):
        return [(d.code, str(d)) for d in Departement.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.touchant_departements([self.value()])
        return queryset


class EtendueRegionFiltre(EtendueDepartementFiltre):
    title = "région (pilote ou étendue)"
    parameter_name = "region"

    def lookups(self, request, model_admin):
        return [(r.code, r.nom) for r in Region.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.touchant_regions([self.value()])
        return queryset


class BinomeInline(admin.StackedInline):
    model = Binome
    extra = 0
    fields = [
        ("elu_nom", "elu_mandat"),
        ("industriel_nom", "industriel_entreprise", "industriel_siret"),
        ("date_debut", "date_fin"),
    ]


@admin.register(Territoire)
class TerritoireAdmin(PerimetreAdmin, SimpleHistoryAdmin):
    list_display = [
        "nom",
        "id_anct",
        "region_pilote",
        "nombre_epci",
        "binome",
        "laureat_rebond_industriel",
        "date_signature_feuille_de_route",
    ]
    list_filter = [
        EtendueRegionFiltre,
        "laureat_rebond_industriel",
        "labellisations__phase",
        EtendueDepartementFiltre,
    ]
    list_select_related = ["region_pilote"]
    search_fields = ["nom", "id_anct", "epcis__nom", "epcis__siren"]
    prepopulated_fields = {"slug": ["nom"]}
    inlines = [LabellisationInline, CompositionInline, CommuneMembreInline, BinomeInline]
    ajout_possible = False

    def get_queryset(self, request):
        binome_actif = Binome.objects.filter(territoire=OuterRef("pk"), date_fin__isnull=True)
        return (
            super()
            .get_queryset(request)
            .annotate(
                nb_epci=Count(
                    "compositions__epci",
                    filter=Q(compositions__date_sortie__isnull=True),
                    distinct=True,
                ),
                a_binome=Exists(binome_actif),
            )
        )

    @admin.display(description="EPCI", ordering="nb_epci")
    def nombre_epci(self, obj):
        return obj.nb_epci

    @admin.display(description="binôme en fonction", boolean=True, ordering="a_binome")
    def binome(self, obj):
        return obj.a_binome

    def has_add_permission(self, request):
        return perimetre.est_national(request.user) and perimetre.peut_administrer(request.user)


@admin.register(Binome)
class BinomeAdmin(PerimetreAdmin, SimpleHistoryAdmin):
    list_display = [
        "territoire",
        "elu_nom",
        "industriel_nom",
        "industriel_entreprise",
        "date_debut",
        "date_fin",
    ]
    list_filter = ["territoire__region_pilote"]
    list_select_related = ["territoire"]
    search_fields = [
        "elu_nom",
        "industriel_nom",
        "industriel_entreprise",
        "territoire__nom",
        "industriel_siret",
    ]
    autocomplete_fields = ["territoire"]
    date_hierarchy = "date_debut"


class NationalSeulementAdmin(PerimetreAdmin):
    perimetre = False
    modifiable_par = "national"

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and perimetre.est_national(request.user)


@admin.register(ImportTerritoires)
class ImportTerritoiresAdmin(NationalSeulementAdmin):
    """Journal of the applied territory lists (written by `importer_territoires`)."""

    list_display = ["fichier", "date_fichier", "phase", "applique_le"]
    list_filter = ["phase"]
    list_select_related = ["phase"]
    readonly_fields = ["fichier", "date_fichier", "phase", "applique_le", "resume"]
    modifiable_par = None
    ajout_possible = False


@admin.register(Habilitation)
class HabilitationAdmin(NationalSeulementAdmin, SimpleHistoryAdmin):
    list_display = ["user", "role", "echelon", "niveau", "organisation"]
    list_filter = ["role", "echelon", "niveau"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email", "organisation"]
    autocomplete_fields = ["user", "regions", "departements", "territoires"]


User = get_user_model()
admin.site.unregister(User)


class HabilitationInline(admin.StackedInline):
    model = Habilitation
    can_delete = False
    autocomplete_fields = ["regions", "departements", "territoires"]


@admin.register(User)
class UtilisateurAdmin(NationalSeulementAdmin, UserAdmin):
    inlines = [HabilitationInline]
    list_display = ["username", "email", "first_name", "last_name", "is_active", "last_login"]
    list_filter = ["is_active", "is_staff", "habilitation__role", "habilitation__echelon"]
    list_select_related = ["habilitation"]
