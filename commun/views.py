import json
import logging
import sys

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from .middleware import (
    base_injoignable,
    entree_malformee,
    reponse_entree_malformee,
    reponse_indisponible,
)


@never_cache
@require_safe
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
    exception = sys.exc_info()[1]
    if base_injoignable(exception):
        return reponse_indisponible(request)
    if entree_malformee(exception):  # met by a middleware, before any view
        return reponse_entree_malformee(request)
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "Erreur interne du serveur. Elle a été enregistrée."},
            status=500,
            json_dumps_params={"ensure_ascii": False},
        )
    return defaults.server_error(request)


def echec_csrf(request, reason=""):
    """CSRF_FAILURE_VIEW: the French 403 page (Django's own is in English), JSON for the
    API."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "csrf", "detail": "Jeton CSRF absent ou invalide : rechargez la page."},
            status=403,
            json_dumps_params={"ensure_ascii": False},
        )
    return HttpResponse(render_to_string("403_csrf.html", request=request), status=403)


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
