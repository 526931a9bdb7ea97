import json
import logging
import sys
import time

from django.conf import settings
from django.db import connection, connections
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from . import routage
from .middleware import (
    base_injoignable,
    entree_malformee,
    reponse_entree_malformee,
    reponse_indisponible,
)

OK, DEGRADE, INDISPONIBLE = "ok", "dégradé", "indisponible"
# A task waiting longer than this means no worker takes the queue.
ATTENTE_MAX_TACHE = 300


def _chrono(verification):
    debut = time.perf_counter()
    etat = verification()
    etat["duree_ms"] = round((time.perf_counter() - debut) * 1000, 1)
    return etat


def _primaire():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as erreur:  # noqa: BLE001 - any failure means unavailable
        return {"statut": INDISPONIBLE, "erreur": type(erreur).__name__}
    return {"statut": OK}


def _replique():
    if not routage.replique_configuree():
        return {"statut": OK, "configuree": False}
    replique = connections[routage.REPLIQUE]
    try:
        replique.close_if_health_check_failed()
        with replique.cursor() as cursor:
            if replique.vendor != "postgresql":
                cursor.execute("SELECT 1")
                return {"statut": OK, "configuree": True}
            cursor.execute(
                "SELECT pg_is_in_recovery(), "
                "extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
            )
            en_reprise, retard = cursor.fetchone()
    except Exception as erreur:  # noqa: BLE001
        replique.close_if_unusable_or_obsolete()
        routage.signaler_panne_replique(erreur)
        return {
            "statut": INDISPONIBLE,
            "erreur": type(erreur).__name__,
            "lectures": "primaire",
            "pannes": routage.etat_replique.pannes,
        }
    etat = {"statut": OK, "configuree": True, "en_reprise": bool(en_reprise)}
    if retard is not None:
        etat["retard_s"] = round(float(retard), 1)
        if retard > settings.REPLIQUE_RETARD_MAX:
            etat["statut"] = DEGRADE
    if not en_reprise:
        etat["statut"] = DEGRADE  # promoted, or not a replica at all
    return etat


def _cache():
    from django.core.cache import cache

    from . import cache as cache_tolerant

    sonder = getattr(cache, "sonder", None)
    compteurs = {"erreurs": cache_tolerant.etat.erreurs, "evitees": cache_tolerant.etat.evitees}
    if sonder is None:
        return {"statut": OK, "type": "local", **compteurs}
    try:
        sonder()
    except Exception as erreur:  # noqa: BLE001
        # The portal still answers, computing without cache.
        return {"statut": INDISPONIBLE, "erreur": type(erreur).__name__, **compteurs}
    return {"statut": OK, "type": "redis", **compteurs}


def _taches():
    backend = settings.TASKS["default"]["BACKEND"]
    if "django_tasks_db" not in backend:
        return {"statut": OK, "type": "immediat"}
    from django.utils import timezone
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    try:
        en_attente = DBTaskResult.objects.using("default").filter(status=TaskResultStatus.READY)
        nombre = en_attente.count()
        plus_ancienne = (
            en_attente.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
        )
        en_cours = (
            DBTaskResult.objects.using("default").filter(status=TaskResultStatus.RUNNING).count()
        )
    except Exception as erreur:  # noqa: BLE001
        return {"statut": INDISPONIBLE, "erreur": type(erreur).__name__}
    attente = (timezone.now() - plus_ancienne).total_seconds() if plus_ancienne else 0
    etat = {
        "statut": OK,
        "type": "base",
        "en_attente": nombre,
        "en_cours": en_cours,
        "attente_max_s": round(attente),
    }
    if attente > ATTENTE_MAX_TACHE:
        etat["statut"] = DEGRADE  # no worker takes the queue
    return etat


@never_cache
@require_safe
def sante(request):
    """Health of the instance for load balancers and probes (docs/deploiement.md).

    Each dependency is « ok », « dégradé » or « indisponible ». HTTP rule: 503 only when
    this instance cannot serve at all (primary database unreachable: take it out of the
    pool); 200 otherwise, with the overall status « dégradé » when the replica, the cache
    or the task queue fails (the portal still answers: reads on the primary, figures
    computed without cache, tasks kept for later) — alert, keep serving."""
    primaire = _chrono(_primaire)
    dependances = {
        "primaire": primaire,
        "replique": _chrono(_replique),
        "cache": _chrono(_cache),
        # The queue lives in the primary database.
        "taches": _chrono(_taches) if primaire["statut"] == OK else {"statut": INDISPONIBLE},
    }
    if dependances["primaire"]["statut"] == INDISPONIBLE:
        statut, code = INDISPONIBLE, 503
    elif any(d["statut"] != OK for d in dependances.values()):
        statut, code = DEGRADE, 200
    else:
        statut, code = OK, 200
    return JsonResponse(
        {
            "statut": statut,
            "base_de_donnees": "ok" if code == 200 else "injoignable",
            "dependances": dependances,
        },
        status=code,
        json_dumps_params={"ensure_ascii": False},
    )


def page_introuvable(request, exception=None):
    """handler404: JSON under /api/ (an address no API route matches, e.g. one holding a
    newline, fell through to the HTML page), the French page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "not_found", "detail": "Adresse inconnue de l'API : consultez /api/docs/."},
            status=404,
            json_dumps_params={"ensure_ascii": False},
        )
    return defaults.page_not_found(request, exception)


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
