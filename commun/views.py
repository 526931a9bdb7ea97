import json
import logging
import sys

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

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


journal_csp = logging.getLogger("csp")
TAILLE_MAX_RAPPORT_CSP = 16 * 1024
# Fields kept from a report: `csp-report` (report-uri) and Reporting API names.
CHAMPS_RAPPORT_CSP = {
    "document-uri": "page",
    "documentURL": "page",
    "violated-directive": "directive",
    "effectiveDirective": "directive",
    "effective-directive": "directive",
    "blocked-uri": "bloque",
    "blockedURL": "bloque",
    "source-file": "fichier",
    "sourceFile": "fichier",
    "line-number": "ligne",
    "lineNumber": "ligne",
}


@csrf_exempt  # browsers send reports without a token
@require_POST
def rapport_csp(request):
    """Content-Security-Policy violations sent by browsers: one JSON log line each
    (logger `csp`), nothing stored. 204, or 400 / 413 for what is not a report."""
    if int(request.headers.get("Content-Length") or 0) > TAILLE_MAX_RAPPORT_CSP:
        return HttpResponse(status=413)
    try:
        contenu = json.loads(request.read(TAILLE_MAX_RAPPORT_CSP + 1))
    except (ValueError, UnicodeDecodeError):
        return HttpResponse(status=400)
    rapports = contenu if isinstance(contenu, list) else [contenu]
    for rapport in rapports[:10]:
        if not isinstance(rapport, dict):
            return HttpResponse(status=400)
        corps = rapport.get("csp-report") or rapport.get("body") or {}
        if not isinstance(corps, dict):
            return HttpResponse(status=400)
        ligne = {
            nom: str(corps[cle])[:500] for cle, nom in CHAMPS_RAPPORT_CSP.items() if cle in corps
        }
        journal_csp.warning(json.dumps({"violation_csp": ligne}, ensure_ascii=False))
    return HttpResponse(status=204)
