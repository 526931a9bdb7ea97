"""Query filters of each resource, described in French for the OpenAPI schema.

A value outside the allowed choices, a malformed date or number answers 400.
"""

from django.db.models import Exists, OuterRef, Q
from django_filters import rest_framework as filters

from commun.recherche import declaration, rechercher
from financements.models import Aide, Dispositif, Enveloppe, NatureAide, Operateur, Versement
from projets.models import ZONE_FRAGILE, Projet, Statut, expression_region
from territoires.models import (
    Axe,
    Commune,
    Departement,
    Intercommunalite,
    Phase,
    Region,
    Territoire,
)

MONTANT = {"max_digits": 14, "decimal_places": 2, "min_value": 0}
ZONES = {
    "qpv": "zone_qpv",
    "zrr": "zone_zrr",
    "frr": "zone_frr",
    "afr": "zone_afr",
    "acv": "zone_acv",
}


def _choix_modele(queryset, champ, cle, aide, **extra):
    return filters.ModelChoiceFilter(
        field_name=champ, queryset=queryset, to_field_name=cle, help_text=aide, **extra
    )


def _region(champ, aide="Code INSEE de la région (ex. 84).", **extra):
    return _choix_modele(Region.objects.all(), champ, "code", aide, **extra)


def _departement(champ, aide="Code INSEE du département (ex. 07, 2A, 974).", **extra):
    return _choix_modele(Departement.objects.all(), champ, "code", aide, **extra)


def _phase(champ):
    return _choix_modele(Phase.objects.all(), champ, "code", "Code de la phase (ex. 2023-2027).")


def _territoire(champ):
    return _choix_modele(
        Territoire.objects.all(), champ, "slug", "Identifiant (slug) du territoire d'industrie."
    )


def _dispositif(champ):
    return _choix_modele(
        Dispositif.objects.all(), champ, "code", "Code du dispositif (ex. fonds-acceleration)."
    )


def _operateur(champ):
    return _choix_modele(
        Operateur.objects.all(), champ, "nom", "Nom exact de l'opérateur (ex. Bpifrance)."
    )


def _montants(champ, libelle):
    return (
        filters.NumberFilter(
            field_name=champ, lookup_expr="gte", help_text=f"{libelle} minimal (€).", **MONTANT
        ),
        filters.NumberFilter(
            field_name=champ, lookup_expr="lte", help_text=f"{libelle} maximal (€).", **MONTANT
        ),
    )


def _dates(champ, libelle):
    return (
        filters.DateFilter(
            field_name=champ, lookup_expr="gte", help_text=f"{libelle} à partir de (AAAA-MM-JJ)."
        ),
        filters.DateFilter(
            field_name=champ, lookup_expr="lte", help_text=f"{libelle} jusqu'au (AAAA-MM-JJ)."
        ),
    )


def _modifie_depuis(champ="modifie_le"):
    return filters.IsoDateTimeFilter(
        field_name=champ,
        lookup_expr="gte",
        help_text="Uniquement les éléments modifiés depuis cet instant (ISO 8601, ex. "
        "2026-01-31T12:00:00+01:00) : synchronisation incrémentale.",
    )


def _recherche(aide):
    return filters.CharFilter(method="filtrer_q", max_length=200, help_text=aide)


def _tri(champs, aide_champs):
    return filters.OrderingFilter(
        fields=champs,
        help_text=f"Tri : {aide_champs} ; préfixer par « - » pour l'ordre décroissant.",
    )


class RechercheMixin:
    """`?q=`: the one French search (commun.recherche) where the model's queryset
    declares it (dossiers, territories, aids: accents, stemming, identifiers, ranked);
    a case-insensitive substring of `champs_recherche` for reference tables."""

    champs_recherche: tuple[str, ...] = ()

    def filtrer_q(self, queryset, name, value):
        if declaration(queryset) is not None:
            return rechercher(queryset, value)
        condition = Q()
        for champ in self.champs_recherche:
            condition |= Q(**{f"{champ}__icontains": value})
        return queryset.filter(condition)


class RegionFilter(RechercheMixin, filters.FilterSet):
    champs_recherche = ("nom",)
    q = _recherche("Recherche dans le nom.")

    class Meta:
        model = Region
        fields = []


class DepartementFilter(RechercheMixin, filters.FilterSet):
    champs_recherche = ("nom", "code")
    region = _region("region")
    q = _recherche("Recherche dans le nom ou le code.")

    class Meta:
        model = Departement
        fields = []


class IntercommunaliteFilter(RechercheMixin, filters.FilterSet):
    champs_recherche = ("nom", "siren")
    region = _region("departement__region", "Code INSEE de la région du siège.")
    departement = _departement("departement", "Code INSEE du département du siège.")
    nature = filters.ChoiceFilter(
        choices=Intercommunalite.Nature.choices, help_text="Nature juridique (CC, CA, CU, METRO)."
    )
    territoire = _territoire("territoires")
    obsolete = filters.BooleanFilter(help_text="Absente du dernier référentiel (true/false).")
    q = _recherche("Recherche dans le nom ou le SIREN.")

    class Meta:
        model = Intercommunalite
        fields = []

    @property
    def qs(self):
        return super().qs.distinct() if self.form.cleaned_data.get("territoire") else super().qs


class CommuneFilter(RechercheMixin, filters.FilterSet):
    champs_recherche = ("nom", "code_insee")
    region = _region("departement__region")
    departement = _departement("departement")
    epci = _choix_modele(
        Intercommunalite.objects.all(), "epci", "siren", "SIREN de l'intercommunalité."
    )
    obsolete = filters.BooleanFilter(help_text="Absente du dernier référentiel (true/false).")
    q = _recherche("Recherche dans le nom ou le code INSEE.")

    class Meta:
        model = Commune
        fields = []


class PhaseFilter(filters.FilterSet):
    class Meta:
        model = Phase
        fields = []


class AxeFilter(filters.FilterSet):
    phase = _phase("phase")

    class Meta:
        model = Axe
        fields = []


class TerritoireFilter(RechercheMixin, filters.FilterSet):
    champs_recherche = ("nom", "slug", "id_anct")
    region = _region(
        "region_pilote",
        "Code INSEE d'une région : territoires pilotés par elle ou touchant un de ses "
        "départements.",
        method="filtrer_region",
    )
    departement = _departement(
        "compositions__epci__departement",
        "Code INSEE d'un département : territoires qui le touchent (départements déclarés "
        "par le programme, siège d'une intercommunalité membre ou commune membre).",
        method="filtrer_departement",
    )
    phase = _phase("labellisations__phase")
    laureat_rebond_industriel = filters.BooleanFilter(
        help_text="Lauréats de « Rebond industriel » (true/false)."
    )
    modifie_depuis = _modifie_depuis()
    q = _recherche(
        "Recherche en français (sans accents, pluriels, fautes de frappe) dans le nom du "
        "territoire, de ses intercommunalités et de leurs communes ; un SIREN d'EPCI ou un "
        "code INSEE de commune donne les territoires qui les contiennent. Résultats classés "
        "par pertinence."
    )
    ordering = _tri(("nom", "slug", "modifie_le"), "nom, slug, modifie_le")

    class Meta:
        model = Territoire
        fields = []

    # The one extent rule of `territoires` (declared départements, EPCI seats, communes).
    def filtrer_region(self, queryset, name, value):
        return queryset.touchant_regions([value])

    def filtrer_departement(self, queryset, name, value):
        return queryset.touchant_departements([value])

    # No DISTINCT for `phase`: a territory has at most one labellisation per phase
    # (`labellisation_unique`), and a DISTINCT would forbid ordering `q` by relevance.


class ProjetFilter(RechercheMixin, filters.FilterSet):
    champs_recherche = ("reference", "titre", "porteur_raison_sociale", "territoire__nom")
    region = _region(
        "region_code",
        "Code INSEE de la région du dossier (lieu du projet, à défaut région pilote du "
        "territoire).",
        method="filtrer_region",
    )
    departement = _departement("commune__departement", "Code INSEE du département du projet.")
    territoire = _territoire("territoire")
    phase = _phase("phase")
    # Own column: no join, hence no duplicate rows to remove (and a DISTINCT would forbid
    # ordering the search results by relevance).
    statut = filters.MultipleChoiceFilter(
        distinct=False,
        choices=Statut.choices,
        help_text="Statut du dossier (répétable). Sans jeton : retenu, en_cours, realise.",
    )
    axe = filters.CharFilter(
        method="filtrer_axe",
        max_length=80,
        help_text="Identifiant d'un axe prioritaire (ex. 2023-2027-foncier).",
    )
    nature = filters.ChoiceFilter(choices=Projet.Nature.choices, help_text="Nature du projet.")
    dispositif = filters.CharFilter(
        method="filtrer_dispositif",
        max_length=60,
        help_text="Code d'un dispositif ayant engagé une aide sur le dossier.",
    )
    operateur = filters.CharFilter(
        method="filtrer_operateur",
        max_length=200,
        help_text="Nom exact d'un opérateur ayant engagé une aide sur le dossier.",
    )
    zone_fragile = filters.BooleanFilter(
        method="filtrer_zone_fragile",
        help_text="Projet situé en zone fragile (QPV, ZRR, AFR ou Action cœur de ville).",
    )
    zone = filters.ChoiceFilter(
        method="filtrer_zone",
        choices=[(cle, cle.upper()) for cle in ZONES],
        help_text="Type de zone fragile : qpv, zrr, afr ou acv.",
    )
    investissement_min, investissement_max = _montants("montant_investissement", "Investissement")
    emplois_crees_min = filters.NumberFilter(
        field_name="emplois_crees",
        lookup_expr="gte",
        min_value=0,
        max_value=10**9,
        decimal_places=0,
        help_text="Nombre minimal d'emplois créés.",
    )
    decide_apres, decide_avant = _dates("decide_le__date", "Décision")
    debut_apres, debut_avant = _dates("date_debut_prevue", "Début prévu")
    modifie_depuis = _modifie_depuis()
    q = _recherche(
        "Recherche en français (sans accents, pluriels, fautes de frappe) dans la "
        "référence, l'intitulé, la description, le porteur, la commune, l'EPCI et le "
        "territoire ; une référence (TI-84-2026-00012), un SIRET, un SIREN ou un code "
        "INSEE de commune donne exactement les dossiers concernés. Résultats classés par "
        "pertinence."
    )
    ordering = _tri(
        (
            "reference",
            "titre",
            "montant_investissement",
            "emplois_crees",
            "decide_le",
            "modifie_le",
        ),
        "reference, titre, montant_investissement, emplois_crees, decide_le, modifie_le",
    )

    class Meta:
        model = Projet
        fields = []

    def filtrer_region(self, queryset, name, value):
        return queryset.alias(region_du_dossier=expression_region()).filter(
            region_du_dossier=value.code
        )

    def filtrer_axe(self, queryset, name, value):
        phase, _, code = value[:9], value[9:10], value[10:]
        return queryset.filter(
            Exists(
                Projet.axes.through.objects.filter(
                    projet=OuterRef("pk"), axe__phase__code=phase, axe__code=code
                )
            )
        )

    def _avec_aide(self, queryset, **condition):
        return queryset.filter(
            Exists(Aide.objects.engagees().filter(projet=OuterRef("pk"), **condition))
        )

    def filtrer_dispositif(self, queryset, name, value):
        return self._avec_aide(queryset, enveloppe__dispositif__code=value)

    def filtrer_operateur(self, queryset, name, value):
        return self._avec_aide(queryset, enveloppe__dispositif__operateur__nom=value)

    def filtrer_zone_fragile(self, queryset, name, value):
        condition = ZONE_FRAGILE
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filtrer_zone(self, queryset, name, value):
        return queryset.filter(**{ZONES[value]: True})


class DispositifFilter(RechercheMixin, filters.FilterSet):
    champs_recherche = ("nom", "code", "description")
    phase = _phase("phase")
    operateur = _operateur("operateur")
    nature = filters.ChoiceFilter(
        choices=NatureAide.choices, method="filtrer_nature", help_text="Nature d'aide autorisée."
    )
    q = _recherche("Recherche dans le nom, le code ou la description.")
    ordering = _tri(
        ("nom", "code", "date_debut", "montant_national"), "nom, code, date_debut, montant_national"
    )

    class Meta:
        model = Dispositif
        fields = []

    def filtrer_nature(self, queryset, name, value):
        # JSON containment is not portable to SQLite: match the quoted value in the JSON text.
        return queryset.filter(natures__icontains=f'"{value}"')


class EnveloppeFilter(filters.FilterSet):
    dispositif = _dispositif("dispositif")
    operateur = _operateur("dispositif__operateur")
    region = _region("region")
    phase = _phase("dispositif__phase")
    annee = filters.NumberFilter(
        min_value=2018, max_value=2100, decimal_places=0, help_text="Année de l'enveloppe."
    )
    montant_min, montant_max = _montants("montant", "Montant de l'enveloppe")
    modifie_depuis = _modifie_depuis()
    ordering = _tri(
        ("annee", "montant", "modifie_le", "taux_consommation"),
        "annee, montant, modifie_le, taux_consommation",
    )

    class Meta:
        model = Enveloppe
        fields = []


class AideFilter(RechercheMixin, filters.FilterSet):
    champs_recherche = (
        "projet__reference",
        "projet__titre",
        "projet__porteur_raison_sociale",
        "reference_decision",
    )
    region = _region("enveloppe__region", "Code INSEE de la région de l'enveloppe.")
    departement = _departement("projet__commune__departement", "Département du projet.")
    territoire = _territoire("projet__territoire")
    phase = _phase("projet__phase")
    projet = filters.CharFilter(
        field_name="projet__reference", max_length=20, help_text="Référence du dossier."
    )
    dispositif = _dispositif("enveloppe__dispositif")
    operateur = _operateur("enveloppe__dispositif__operateur")
    statut = filters.MultipleChoiceFilter(
        distinct=False,
        choices=Aide.Statut.choices,
        help_text="Statut de l'aide (répétable). Sans jeton : engagee, conventionnee, soldee.",
    )
    nature = filters.ChoiceFilter(choices=NatureAide.choices, help_text="Nature de l'aide.")
    axe = filters.CharFilter(
        method="filtrer_axe",
        max_length=80,
        help_text="Identifiant d'un axe prioritaire du dossier (ex. 2023-2027-foncier).",
    )
    zone_fragile = filters.BooleanFilter(
        method="filtrer_zone_fragile", help_text="Dossier situé en zone fragile (true/false)."
    )
    montant_min, montant_max = _montants("montant", "Montant de l'aide")
    decision_apres, decision_avant = _dates("date_decision", "Décision")
    convention_apres, convention_avant = _dates("date_convention", "Convention")
    modifie_depuis = _modifie_depuis()
    q = _recherche(
        "Recherche en français (sans accents, pluriels) dans la référence de décision, "
        "la référence, l'intitulé et le porteur du dossier et le dispositif ; une "
        "référence de dossier, un SIRET, un SIREN ou un code INSEE donne exactement les "
        "aides concernées. Résultats classés par pertinence."
    )
    ordering = _tri(
        ("montant", "date_decision", "date_convention", "modifie_le"),
        "montant, date_decision, date_convention, modifie_le",
    )

    class Meta:
        model = Aide
        fields = []

    def filtrer_axe(self, queryset, name, value):
        phase, code = value[:9], value[10:]
        return queryset.filter(
            Exists(
                Projet.axes.through.objects.filter(
                    projet=OuterRef("projet"), axe__phase__code=phase, axe__code=code
                )
            )
        )

    def filtrer_zone_fragile(self, queryset, name, value):
        condition = (
            Q(projet__zone_qpv=True)
            | Q(projet__zone_zrr=True)
            | Q(projet__zone_frr=True)
            | Q(projet__zone_afr=True)
            | Q(projet__zone_acv=True)
        )
        return queryset.filter(condition) if value else queryset.exclude(condition)


class VersementFilter(filters.FilterSet):
    aide = filters.UUIDFilter(field_name="aide__uuid", help_text="Identifiant de l'aide.")
    projet = filters.CharFilter(
        field_name="aide__projet__reference", max_length=20, help_text="Référence du dossier."
    )
    region = _region("aide__enveloppe__region", "Code INSEE de la région de l'enveloppe.")
    territoire = _territoire("aide__projet__territoire")
    dispositif = _dispositif("aide__enveloppe__dispositif")
    operateur = _operateur("aide__enveloppe__dispositif__operateur")
    montant_min, montant_max = _montants("montant", "Montant du versement")
    date_apres, date_avant = _dates("date", "Versement")
    modifie_depuis = _modifie_depuis("cree_le")
    ordering = _tri(("date", "montant", "cree_le"), "date, montant, cree_le")

    class Meta:
        model = Versement
        fields = []


class FiltresAPI(filters.DjangoFilterBackend):
    """django-filter, without building and validating a form of every filter when the
    request names none of them (a plain page or a synchronisation): each filter of an
    empty form is a no-op, and the form took a few milliseconds per request."""

    def filter_queryset(self, request, queryset, view):
        classe = self.get_filterset_class(view, queryset)
        if classe is None or not classe.base_filters.keys() & request.query_params.keys():
            return queryset
        return super().filter_queryset(request, queryset, view)
