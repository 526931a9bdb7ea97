"""The changes feed's view (`/api/v1/changements/`); the feed itself is `api.flux`."""

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from .acces import acces_de
from .flux import PARAMETRES, TAILLE_MAX, TAILLE_PAGE, changements, coder_curseur, decoder_curseur
from .rapide import RenduJSON
from .views import VueAPIMixin


class ChangementsView(VueAPIMixin, APIView):
    """Flux des changements (dossiers, aides, versements, enveloppes), dans l'ordre, avec
    les sorties et les annulations ; reprendre avec le `curseur` de la réponse."""

    renderer_classes = [RenduJSON]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "depuis",
                OpenApiTypes.DATETIME,
                description="Uniquement les changements à partir de cet instant (ISO 8601).",
            ),
            OpenApiParameter(
                "curseur",
                OpenApiTypes.STR,
                description="Reprendre après le dernier changement reçu (champ « curseur » "
                "de la réponse précédente).",
            ),
            OpenApiParameter(
                "page_size",
                OpenApiTypes.INT,
                description=f"Nombre de changements par réponse (défaut {TAILLE_PAGE}, "
                f"au plus {TAILLE_MAX}).",
            ),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        inconnus = sorted(set(request.query_params) - PARAMETRES)
        if inconnus:
            acceptes = ", ".join(sorted(PARAMETRES))
            raise exceptions.ValidationError(
                {c: [f"Paramètre inconnu. Paramètres acceptés ici : {acceptes}."] for c in inconnus}
            )
        depuis = None
        if request.query_params.get("depuis"):
            try:
                depuis = parse_datetime(request.query_params["depuis"])
            except ValueError:
                depuis = None
            if depuis is None or depuis.tzinfo is None:
                raise exceptions.ValidationError(
                    {"depuis": ["Date invalide : ISO 8601 avec fuseau, ex. 2026-01-31T12:00:00Z."]}
                )
        position = None
        if request.query_params.get("curseur"):
            position = decoder_curseur(request.query_params["curseur"])
        try:
            taille = int(request.query_params.get("page_size", TAILLE_PAGE))
        except ValueError:
            taille = 0
        if not 1 <= taille <= TAILLE_MAX:
            raise exceptions.ValidationError(
                {"page_size": [f"Nombre entier de 1 à {TAILLE_MAX} attendu."]}
            )
        entrees, dernier, encore = changements(
            acces_de(request), depuis=depuis, position=position, taille=taille
        )
        curseur = coder_curseur(*dernier) if dernier else None
        suivant = None
        if encore and curseur:
            suivant = request.build_absolute_uri(
                f"{request.path}?curseur={curseur}&page_size={taille}"
            )
        return Response({"results": entrees, "curseur": curseur, "next": suivant})
