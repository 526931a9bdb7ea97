import sys

from django.db import connection
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache

from .middleware import base_injoignable, reponse_indisponible


@never_cache
def sante(request):
    """Health of the service for probes: 200 when the database answers, else 503."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        return JsonResponse(
            {"statut": "indisponible", "base_de_donnees": "injoignable"}, status=503
        )
    return JsonResponse({"statut": "ok", "base_de_donnees": "ok"})


def erreur_serveur(request):
    """handler500: a lost database is a 503 wherever it was met (a middleware reading
    the session or the user, a view); other errors the French 500 page, or JSON for the
    API."""
    if base_injoignable(sys.exc_info()[1]):
        return reponse_indisponible(request)
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "Erreur interne du serveur. Elle a été enregistrée."},
            status=500,
            json_dumps_params={"ensure_ascii": False},
        )
    return defaults.server_error(request)
