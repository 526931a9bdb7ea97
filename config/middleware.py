"""Cross-cutting HTTP concerns: one JSON log line per request, database outages as 503."""

import json
import logging
import time

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger("requetes")


class JournalRequetesMiddleware:
    """Log each request as one JSON line: method, path, status, duration, user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        debut = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        logger.info(
            json.dumps(
                {
                    "methode": request.method,
                    "chemin": request.path,
                    "statut": response.status_code,
                    "duree_ms": round((time.perf_counter() - debut) * 1000, 1),
                    "utilisateur": user.username if user and user.is_authenticated else None,
                },
                ensure_ascii=False,
            )
        )
        return response


class BaseIndisponibleMiddleware:
    """A lost database answers 503 with a French message instead of a 500.

    The transaction of the request is rolled back by Django; the next request
    reconnects by itself (CONN_HEALTH_CHECKS).
    """

    MESSAGE = (
        "Le service est momentanément indisponible (base de données injoignable). "
        "Réessayez dans quelques instants."
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)) or (
            isinstance(exception, DatabaseError) and _erreur_de_donnees(exception)
        ):
            return None
        logger.error("base de données indisponible : %s", exception)
        if request.path.startswith("/api/") or "application/json" in request.headers.get(
            "Accept", ""
        ):
            response = JsonResponse(
                {"detail": self.MESSAGE}, status=503, json_dumps_params={"ensure_ascii": False}
            )
        else:
            response = HttpResponse(
                render_to_string("503.html", {"message": self.MESSAGE}), status=503
            )
        response["Retry-After"] = "30"
        return response


def _erreur_de_donnees(exception) -> bool:
    """True for errors caused by the query itself (not by a lost connection)."""
    sqlstate = getattr(getattr(exception, "__cause__", None), "sqlstate", None)
    return bool(sqlstate) and not sqlstate.startswith(("08", "57"))
