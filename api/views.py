"""Read-only API views: thin, scoped by `acces_de(request)` and the models' querysets."""

import hashlib
import json

from django.contrib.postgres.aggregates import StringAgg
from django.db import connections
from django.db.models import CharField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Concat
from django.shortcuts import get_object_or_404
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.functional import cached_property
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from commun.cache_donnees import memoriser
from commun.middleware import parametre_avec_nul
from comptes.audit import journaliser
from financements.models import (
    Aide,
    Dispositif,
    Enveloppe,
    Versement,
    consommation_des_enveloppes,
    projets_avec_financements,
)
from projets.models import Projet
from territoires.models import (
    Axe,
    Binome,
    Commune,
    CompositionTerritoire,
    Departement,
    Intercommunalite,
    Labellisation,
    Phase,
    Region,
    Territoire,
)

from . import filters, serializers
from .acces import acces_de
from .copie import export_copie
from .exports import TAILLE_LOT, CSVRenderer, export_lignes
from .permissions import AccesComplet
from .rapide import RenduJSON, par_lots, plan_de
from .scdl import reponse_scdl
from .statistiques import statistiques_en_cache

PARAMETRE_FORMAT = OpenApiParameter(
    "format",
    str,
    enum=["json", "csv"],
    description="Format de la réponse : json (par défaut) ou csv (toutes les pages, diffusé "
    "en flux ; licence et date de génération dans les en-têtes X-Licence, Link et "
    "X-Genere-Le).",
)


# Query parameters every view knows besides its filters (format, pagination).
PARAMETRES_TOUTES_VUES = frozenset({"format"})
PARAMETRES_LISTES = frozenset({"page", "page_size", "pagination", "curseur"})


class VueAPIMixin:
    renderer_classes = [RenduJSON, CSVRenderer]

    @cached_property
    def acces(self):
        return acces_de(self.request)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        cle = parametre_avec_nul(request.query_params)
        if cle is not None:
            raise exceptions.ValidationError({cle: ["Caractère nul interdit."]})

    def handle_exception(self, exc):
        # Errors are always JSON, even when CSV was asked for.
        self.request.accepted_renderer = RenduJSON()
        self.request.accepted_media_type = RenduJSON.media_type
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, ("Authorization", "Cookie"))
        return response


class LectureViewSet(VueAPIMixin, viewsets.ReadOnlyModelViewSet):
    """List (paginated, filterable, `?format=csv`) and detail (ETag / Last-Modified).

    `perimetre()` gives the rows the caller may see (filtered, counted, paginated);
    `enrichir()` adds what the output needs (joins, annotations); lists and exports read
    them as plain rows (`api.rapide`), the detail through the serializer."""

    filter_backends = [filters.FiltresAPI]
    nom_export = "export"
    # Plain fields `completer` computes for a whole page rather than `enrichir` per row.
    champs_calcules: tuple[str, ...] = ()

    @property
    def ordre_curseur(self):
        return self.lookup_field

    def perimetre(self):
        return self.queryset.all()

    def enrichir(self, queryset):
        return queryset

    def completer(self, lignes: dict):
        """Fill the complement fields (see `api.rapide`) of `lignes` ({pk: row})."""

    def complements_sql(self) -> dict:
        """SQL expressions (text) of the complements, for exports written by PostgreSQL
        (`api.copie`); without them the export takes the Python path."""
        return {}

    def get_queryset(self):
        return self.enrichir(self.perimetre())

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.action is not None:  # an unsupported method is a 405, whatever it carries
            self._refuser_parametres_inconnus(request)

    def parametres_connus(self) -> set[str]:
        connus = set(PARAMETRES_TOUTES_VUES)
        if self.action == "list":
            connus |= PARAMETRES_LISTES
            classe = getattr(self, "filterset_class", None)
            if classe is not None:
                connus |= classe.base_filters.keys()
        return connus

    def _refuser_parametres_inconnus(self, request):
        """A misspelt filter (`?search=`, `?regon=`) answers 400 rather than the whole
        unfiltered list."""
        connus = self.parametres_connus()
        inconnus = sorted(set(request.query_params) - connus)
        if inconnus:
            acceptes = ", ".join(sorted(connus))
            raise exceptions.ValidationError(
                {
                    cle: [f"Paramètre inconnu. Paramètres acceptés ici : {acceptes}."]
                    for cle in inconnus
                }
            )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "complet": self.acces.complet}

    def _lignes(self, plan, valeurs) -> list:
        lignes = dict(plan.lignes(valeurs))
        if plan.complements and lignes:
            self.completer(lignes)
        return list(lignes.values())

    @extend_schema(parameters=[PARAMETRE_FORMAT])
    def list(self, request, *args, **kwargs):
        filtres = self.filter_queryset(self.perimetre())
        valeurs = self.enrichir(filtres).prefetch_related(None)
        plan = self.plan = plan_de(
            self.get_serializer(),
            self.champs_calcules,
            postgresql=connections[valeurs.db].vendor == "postgresql",
        )
        if request.accepted_renderer.format == CSVRenderer.format:
            if self.acces.complet:  # open data is not audited, full data is
                journaliser("export", request=request, ressource=self.nom_export, format="csv")
            copie = export_copie(
                valeurs, self.get_serializer(), self.complements_sql(), self.nom_export
            )
            if copie is not None:
                return copie
            valeurs = valeurs.annotate(**plan.annotations).values_list("pk", *plan.chemins)
            lots = (
                self._lignes(plan, lot)
                for lot in par_lots(valeurs.iterator(chunk_size=TAILLE_LOT), TAILLE_LOT)
            )
            return export_lignes(self.get_serializer(), lots, self.nom_export)
        self.a_compter = filtres
        # Named rows: cursor pagination reads the ordering field by name.
        page = self.paginate_queryset(
            valeurs.annotate(**plan.annotations).values_list("pk", *plan.chemins, named=True)
        )
        return self.get_paginated_response(self._lignes(plan, page))

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        donnees = self.get_serializer(instance).data
        empreinte = hashlib.sha256(
            json.dumps(donnees, sort_keys=True, default=str).encode()
        ).hexdigest()[:32]
        etag = f'"{empreinte}"'
        modifie_le = getattr(instance, "modifie_le", None)
        horodatage = int(modifie_le.timestamp()) if modifie_le else None
        inchange = get_conditional_response(request, etag=etag, last_modified=horodatage)
        reponse = inchange if inchange is not None else Response(donnees)
        reponse["ETag"] = etag
        if horodatage is not None:
            reponse["Last-Modified"] = http_date(horodatage)
        return reponse


class RegionViewSet(LectureViewSet):
    """Régions (code INSEE)."""

    description_identifiant = "Code INSEE de la région (ex. 84)."
    queryset = Region.objects.all()
    serializer_class = serializers.RegionSerializer
    filterset_class = filters.RegionFilter
    lookup_field = "code"
    lookup_value_regex = "[0-9]{2}"
    nom_export = "regions"


class DepartementViewSet(LectureViewSet):
    """Départements (code INSEE)."""

    description_identifiant = "Code INSEE du département (ex. 07, 2A, 974)."
    queryset = Departement.objects.all()
    serializer_class = serializers.DepartementSerializer
    filterset_class = filters.DepartementFilter
    lookup_field = "code"
    lookup_value_regex = "[0-9]{2,3}|2[AB]"
    nom_export = "departements"


class IntercommunaliteViewSet(LectureViewSet):
    """Intercommunalités à fiscalité propre (EPCI, SIREN)."""

    description_identifiant = "SIREN de l'intercommunalité (9 chiffres)."
    queryset = Intercommunalite.objects.all()
    serializer_class = serializers.IntercommunaliteSerializer
    filterset_class = filters.IntercommunaliteFilter
    lookup_field = "siren"
    lookup_value_regex = "[0-9]{9}"
    nom_export = "intercommunalites"


class CommuneViewSet(LectureViewSet):
    """Communes (code INSEE)."""

    description_identifiant = "Code INSEE de la commune (5 caractères)."
    queryset = Commune.objects.all()
    serializer_class = serializers.CommuneSerializer
    filterset_class = filters.CommuneFilter
    lookup_field = "code_insee"
    lookup_value_regex = "[0-9][0-9AB][0-9]{3}"
    nom_export = "communes"


class PhaseViewSet(LectureViewSet):
    """Phases du programme (code, ex. 2023-2027)."""

    description_identifiant = "Code de la phase (ex. 2023-2027)."
    queryset = Phase.objects.all()
    serializer_class = serializers.PhaseSerializer
    filterset_class = filters.PhaseFilter
    lookup_field = "code"
    lookup_value_regex = "[0-9]{4}-[0-9]{4}"
    nom_export = "phases"


class AxeViewSet(LectureViewSet):
    """Axes prioritaires de chaque phase (identifiant `<phase>-<code>`)."""

    description_identifiant = (
        "Identifiant de l'axe : code de la phase et code de l'axe (ex. 2023-2027-foncier)."
    )
    queryset = Axe.objects.avec_identifiant()
    serializer_class = serializers.AxeSerializer
    filterset_class = filters.AxeFilter
    lookup_field = "identifiant"
    lookup_value_regex = "[0-9]{4}-[0-9]{4}-[-a-z0-9_]+"
    ordre_curseur = "identifiant"
    nom_export = "axes"


class TerritoireViewSet(LectureViewSet):
    """Territoires d'industrie, avec leur composition par phase et leur binôme en fonction.

    Le détail accepte le slug ou l'identifiant ANCT (ex. ti-8413)."""

    description_identifiant = (
        "Slug du territoire (ex. ardeche-drome-nord) ou identifiant ANCT (ex. ti-8413)."
    )
    queryset = Territoire.objects.all()
    serializer_class = serializers.TerritoireSerializer
    filterset_class = filters.TerritoireFilter
    lookup_field = "slug"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    nom_export = "territoires"

    def enrichir(self, queryset):
        return queryset.avec_composition()

    def completer(self, lignes):
        for ligne in lignes.values():
            ligne.update(labellisations=[], composition=[])
        labels = {}
        for label_pk, pk, phase, date_, sortie, etat, successeur in (
            Labellisation.objects.filter(territoire__in=lignes)
            .order_by(*Labellisation._meta.ordering)
            .values_list(
                "pk",
                "territoire_id",
                "phase__code",
                "date",
                "date_sortie",
                "composition",
                "successeur__territoire__slug",
            )
        ):
            labels[label_pk] = {
                "phase": phase,
                "date": date_.isoformat(),
                "date_sortie": sortie.isoformat() if sortie else None,
                "composition": etat,
                "departements": [],
                "successeur": successeur,
            }
            lignes[pk]["labellisations"].append(labels[label_pk])
        for label_pk, code in (
            Labellisation.departements.through.objects.filter(labellisation__in=list(labels))
            .order_by("departement__code")
            .values_list("labellisation_id", "departement_id")
        ):
            labels[label_pk]["departements"].append(code)
        for pk, phase, siren, nom, departement, partielle in (
            CompositionTerritoire.objects.en_vigueur()
            .filter(territoire__in=lignes)
            .order_by(*CompositionTerritoire._meta.ordering)
            .values_list(
                "territoire_id",
                "phase__code",
                "epci_id",
                "epci__nom",
                "epci__departement_id",
                "partielle",
            )
        ):
            lignes[pk]["composition"].append(
                {
                    "phase": phase,
                    "siren": siren,
                    "nom": nom,
                    "departement": departement,
                    "partielle": partielle,
                }
            )
        champs = list(serializers.BinomeActifSerializer.Meta.fields)
        for binome in (
            Binome.objects.filter(territoire__in=lignes, date_fin__isnull=True)
            .order_by(*Binome._meta.ordering)
            .values("territoire_id", *champs)
        ):
            ligne = lignes[binome.pop("territoire_id")]
            if ligne["binome"] is None:
                binome["date_debut"] = binome["date_debut"].isoformat()
                ligne["binome"] = binome

    def get_object(self):
        valeur = self.kwargs[self.lookup_field]
        queryset = self.filter_queryset(self.get_queryset())
        return get_object_or_404(queryset, Q(slug=valeur) | Q(id_anct=valeur))


class ProjetViewSet(LectureViewSet):
    """Dossiers de projet (référence).

    Sans jeton ou avec un jeton « données ouvertes » : dossiers retenus, en cours ou
    réalisés, champs publics. Jeton « complet » ou session d'agent : tous les dossiers du
    périmètre, avec contacts et chiffres complets."""

    description_identifiant = "Référence du dossier (ex. TI-84-2026-00012)."
    serializer_class = serializers.ProjetSerializer
    filterset_class = filters.ProjetFilter
    lookup_field = "reference"
    lookup_value_regex = "[-A-Za-z0-9]+"
    nom_export = "projets"

    def perimetre(self):
        if self.acces.complet:
            return Projet.objects.visibles_par(self.acces.user)
        return Projet.objects.publics()

    def enrichir(self, queryset):
        projets = (
            queryset.pour_liste()
            .avec_axes()
            .avec_region()
            .select_related("phase", "deposant", "instructeur")
        )
        return projets_avec_financements(projets)

    def complements_sql(self):
        axes = (
            Projet.axes.through.objects.filter(projet=OuterRef("pk"))
            .order_by()
            .values("projet")
            .annotate(
                liste=StringAgg(
                    Concat("axe__phase__code", Value("-"), "axe__code", output_field=CharField()),
                    ";",
                    order_by=("axe__phase__date_debut", "axe__ordre"),
                )
            )
            .values("liste")
        )
        return {"axes": Subquery(axes)}

    def completer(self, lignes):
        for ligne in lignes.values():
            ligne["axes"] = []
        for pk, phase, code in (
            Projet.axes.through.objects.filter(projet__in=lignes)
            .order_by("axe__phase__date_debut", "axe__ordre")
            .values_list("projet_id", "axe__phase__code", "axe__code")
        ):
            lignes[pk]["axes"].append(f"{phase}-{code}")


class DispositifViewSet(LectureViewSet):
    """Dispositifs (fonds et mesures, code) avec leurs montants alloués, engagés, versés."""

    description_identifiant = "Code du dispositif (ex. fonds-acceleration)."
    queryset = Dispositif.objects.all()
    serializer_class = serializers.DispositifSerializer
    filterset_class = filters.DispositifFilter
    lookup_field = "code"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    nom_export = "dispositifs"
    champs_calcules = ("montant_alloue", "montant_engage", "montant_verse")

    def enrichir(self, queryset):
        return queryset.select_related("operateur", "phase").avec_totaux_publics()

    def completer(self, lignes):
        # National sums over the aid of public dossiers (open data, whoever asks):
        # computed for the page, kept until the next write.
        totaux = memoriser(
            "totaux-dispositifs-publics",
            sorted(lignes),
            lambda: list(
                Dispositif.objects.filter(pk__in=list(lignes))
                .avec_totaux_publics()
                .values_list("pk", *self.champs_calcules)
            ),
        )
        for pk, *valeurs in totaux:
            for nom, valeur in zip(self.champs_calcules, valeurs, strict=True):
                lignes[pk][nom] = self.plan.convertir(nom, valeur)


class EnveloppeViewSet(LectureViewSet):
    """Enveloppes régionales des dispositifs, avec leur consommation (accès complet).

    Identifiant : `<code du dispositif>-<code région>-<année>`."""

    description_identifiant = (
        "Identifiant de l'enveloppe : code du dispositif, code de la région, année "
        "(ex. fonds-acceleration-84-2026)."
    )
    serializer_class = serializers.EnveloppeSerializer
    filterset_class = filters.EnveloppeFilter
    permission_classes = [AccesComplet]
    lookup_field = "identifiant"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    nom_export = "enveloppes"

    champs_calcules = (
        "montant_propose",
        "montant_engage",
        "montant_conventionne",
        "montant_verse",
        "montant_disponible",
        "taux_consommation",
    )

    def perimetre(self):
        enveloppes = Enveloppe.objects.visibles_par(self.acces.user).avec_identifiant()
        if "taux_consommation" in self.request.query_params.get("ordering", ""):
            # A documented sort field: annotated before the filters sort on it.
            enveloppes = enveloppes.avec_consommation()
        return enveloppes

    def enrichir(self, queryset):
        queryset = queryset.select_related("dispositif__operateur")
        if "taux_consommation" in queryset.query.annotations:
            return queryset
        return queryset.avec_consommation()

    def completer(self, lignes):
        # Two grouped queries for the page instead of five subqueries per envelope, kept
        # until the next write (they sum every aid of the page's envelopes).
        consommation = memoriser(
            "consommation", sorted(lignes), lambda: consommation_des_enveloppes(lignes)
        )
        for pk, chiffres in consommation.items():
            ligne = lignes[pk]
            for nom in self.champs_calcules:
                ligne[nom] = self.plan.convertir(nom, chiffres[nom])


class AideViewSet(LectureViewSet):
    """Aides attribuées (identifiant public UUID).

    Sans jeton : aides engagées, conventionnées ou soldées des dossiers publics. Accès
    complet : toutes les aides des dossiers du périmètre."""

    description_identifiant = "Identifiant public (UUID) de l'aide."
    serializer_class = serializers.AideSerializer
    filterset_class = filters.AideFilter
    lookup_field = "uuid"
    lookup_url_kwarg = "identifiant"
    lookup_value_regex = (
        "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    )
    nom_export = "aides"

    def perimetre(self):
        if self.acces.complet:
            return Aide.objects.visibles_par(self.acces.user)
        return Aide.objects.publiques()

    def enrichir(self, queryset):
        return queryset.pour_liste()


class VersementViewSet(LectureViewSet):
    """Versements sur les aides (identifiant public UUID)."""

    description_identifiant = "Identifiant public (UUID) du versement."
    serializer_class = serializers.VersementSerializer
    filterset_class = filters.VersementFilter
    lookup_field = "uuid"
    lookup_url_kwarg = "identifiant"
    lookup_value_regex = AideViewSet.lookup_value_regex
    nom_export = "versements"

    def perimetre(self):
        if self.acces.complet:
            return Versement.objects.visibles_par(self.acces.user)
        return Versement.objects.publics()

    def enrichir(self, queryset):
        return queryset.select_related("aide__projet")


class StatistiquesView(VueAPIMixin, APIView):
    """Chiffres du programme (données ouvertes) par phase, région, territoire et axe."""

    renderer_classes = [RenduJSON]

    @extend_schema(responses=serializers.StatistiquesSerializer)
    def get(self, request):
        return Response(serializers.StatistiquesSerializer(statistiques_en_cache()).data)


class SubventionsView(VueAPIMixin, APIView):
    """Subventions signées de plus de 23 000 € au format national SCDL « subventions »
    (schema.data.gouv.fr, version 2.1.1), une ligne par aide, en UTF-8 : aides en
    numéraire ou en nature (ni prêts ni avances remboursables), conventionnées, soldées
    ou résiliées après signature, quel que soit le devenir du dossier.

    Licence Ouverte 2.0 et date de génération dans les en-têtes X-Licence, Link et
    X-Genere-Le."""

    renderer_classes = [CSVRenderer]

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="Fichier CSV au format SCDL « subventions »."
            )
        }
    )
    def get(self, request):
        return reponse_scdl()


class RacineView(APIView):
    """Entry point of /api/v1/: where each resource and the documentation are."""

    renderer_classes = [RenduJSON]

    @extend_schema(exclude=True)
    def get(self, request):
        from django.urls import reverse

        base = request.build_absolute_uri("/api/v1/")
        ressources = [
            "regions",
            "departements",
            "intercommunalites",
            "communes",
            "phases",
            "axes",
            "territoires",
            "projets",
            "dispositifs",
            "enveloppes",
            "aides",
            "versements",
            "statistiques",
        ]
        return Response(
            {
                "api": "Territoires d'industrie — API partenaires et données ouvertes",
                "documentation": request.build_absolute_uri(reverse("api:docs")),
                "schema": request.build_absolute_uri(reverse("api:schema")),
                "licence": "Licence Ouverte 2.0",
                "ressources": {nom: f"{base}{nom}/" for nom in ressources},
                "subventions": request.build_absolute_uri(reverse("api:opendata-subventions")),
            }
        )
