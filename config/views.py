from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


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
