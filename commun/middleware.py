"""Cross-cutting HTTP concerns: one JSON log line per request, database outages as 503,
malformed input as 400."""

import json
import logging
import time

from django.conf import settings
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import BadRequest
from django.db import DatabaseError, DataError, InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string
from django.utils.module_loading import import_string

from .clients import adresse_client

logger = logging.getLogger("requetes")


def _utilisateur(request):
    user = getattr(request, "user", None)
    try:
        return user.username if user is not None and user.is_authenticated else None
    except DatabaseError:  # the user could not be read (database lost): still log
        return None


class JournalRequetesMiddleware:
    """Log each request as one JSON line: method, path, status, duration, user, address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        debut = time.perf_counter()
        response = self.get_response(request)
        logger.info(
            json.dumps(
                {
                    "methode": request.method,
                    "chemin": request.path,
                    "statut": response.status_code,
                    "duree_ms": round((time.perf_counter() - debut) * 1000, 1),
                    "utilisateur": _utilisateur(request),
                    "ip": adresse_client(request),
                },
                ensure_ascii=False,
            )
        )
        return response


# `Authorization: Token <secret>` or `Bearer <secret>` (api.authentication reads them).
MOTS_CLES_JETON = ("token", "bearer")


def requete_a_jeton(request) -> bool:
    """An API request authenticated by a partner token alone: the token authenticates or
    refuses it (401), sessions are never consulted (api.authentication)."""
    if not request.path_info.startswith("/api/"):
        return False
    mots = request.META.get("HTTP_AUTHORIZATION", "").split()
    return len(mots) >= 1 and mots[0].lower() in MOTS_CLES_JETON


class NavigateurMiddleware:
    """Runs the middleware only browsers need (settings.MIDDLEWARE_NAVIGATEUR: sessions,
    CSRF, authentication by session, second factor, messages, inactivity, history user)
    for every request except token API requests, which need none of them: a token
    request carries no cookie-based credential, so nothing is weakened.

    The inner middleware keep their hooks: `process_view`, `process_exception` and
    `process_template_response` are forwarded in the order Django would call them."""

    def __init__(self, get_response):
        self.get_response = get_response
        instances = []
        chaine = get_response
        for chemin in reversed(settings.MIDDLEWARE_NAVIGATEUR):
            chaine = import_string(chemin)(chaine)
            instances.insert(0, chaine)
        self.navigateur = chaine
        self._vues = [m.process_view for m in instances if hasattr(m, "process_view")]
        self._exceptions = [
            m.process_exception for m in reversed(instances) if hasattr(m, "process_exception")
        ]
        self._gabarits = [
            m.process_template_response
            for m in reversed(instances)
            if hasattr(m, "process_template_response")
        ]

    def __call__(self, request):
        if requete_a_jeton(request):
            request.par_jeton = True
            return self.get_response(request)
        return self.navigateur(request)

    def process_view(self, request, vue, args, kwargs):
        if getattr(request, "par_jeton", False):
            return None
        for crochet in self._vues:
            reponse = crochet(request, vue, args, kwargs)
            if reponse is not None:
                return reponse
        return None

    def process_exception(self, request, exception):
        if getattr(request, "par_jeton", False):
            return None
        for crochet in self._exceptions:
            reponse = crochet(request, exception)
            if reponse is not None:
                return reponse
        return None

    def process_template_response(self, request, reponse):
        if getattr(request, "par_jeton", False):
            return reponse
        for crochet in self._gabarits:
            reponse = crochet(request, reponse)
        return reponse


def parametre_avec_nul(parametres):
    """The first query parameter (its name without NUL) whose name or values hold a NUL
    byte, or None: PostgreSQL refuses NUL in text, so every door refuses it first."""
    for cle, valeurs in parametres.lists():
        if "\x00" in cle or any("\x00" in valeur for valeur in valeurs):
            return cle.replace("\x00", "")
    return None


MESSAGE_INDISPONIBLE = (
    "Le service est momentanément indisponible (base de données injoignable). "
    "Réessayez dans quelques instants."
)


def _erreurs_de_connexion():
    """Django's connection errors, and psycopg's own: Django does not wrap every driver
    call (closing the server-side cursor of `.iterator()` raises the bare driver error)."""
    try:
        import psycopg
    except ImportError:  # SQLite only
        return (OperationalError, InterfaceError)
    return (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)


ERREURS_DE_CONNEXION = _erreurs_de_connexion()


def base_injoignable(exception) -> bool:
    """True for a lost or refused database connection (not for an error of the query)."""
    return isinstance(exception, ERREURS_DE_CONNEXION) and not _erreur_de_donnees(exception)


def reponse_indisponible(request):
    """503 with a French message: JSON for the API, a page for people."""
    logger.error("base de données indisponible : %s", request.path)
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        reponse = JsonResponse(
            {"detail": MESSAGE_INDISPONIBLE},
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        reponse = HttpResponse(
            render_to_string("503.html", {"message": MESSAGE_INDISPONIBLE}), status=503
        )
    reponse["Retry-After"] = "30"
    return reponse


class BaseIndisponibleMiddleware:
    """A database lost while a view runs answers 503 instead of a 500.

    The transaction of the request is rolled back by Django; the next request
    reconnects by itself (CONN_HEALTH_CHECKS). A loss met by a middleware (session,
    user, second factor) reaches `commun.views.erreur_serveur`, which answers the same.
    """

    MESSAGE = MESSAGE_INDISPONIBLE

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return reponse_indisponible(request) if base_injoignable(exception) else None


def _erreur_de_donnees(exception) -> bool:
    """True for errors caused by the query itself (not by a lost connection)."""
    sqlstate = getattr(exception, "sqlstate", None) or getattr(
        exception.__cause__, "sqlstate", None
    )
    return bool(sqlstate) and not sqlstate.startswith(("08", "57"))


MESSAGE_ENTREE_MALFORMEE = (
    "La requête contient une valeur invalide (caractère nul, nombre, date ou filtre "
    "malformé). Corrigez-la et réessayez."
)


def entree_malformee(exception) -> bool:
    """True for an error caused by a value the client sent, not by the code: a NUL byte
    PostgreSQL refuses in text (psycopg raises ValueError before sending the query), a
    value the database rejects (SQLSTATE class 22: out of range, invalid syntax; SQLite:
    an integer too large), an
    unknown or malformed changelist filter, an explicit BadRequest."""
    if isinstance(exception, IncorrectLookupParameters | BadRequest | OverflowError):
        return True  # OverflowError: an integer too large for SQLite's INTEGER
    if isinstance(exception, ValueError) and "NUL (0x00)" in str(exception):
        return True
    if isinstance(exception, DataError):
        sqlstate = getattr(exception.__cause__, "sqlstate", None) or ""
        return sqlstate.startswith("22") or not sqlstate
    return False


def reponse_entree_malformee(request, message=MESSAGE_ENTREE_MALFORMEE):
    """400 with a French message: JSON for the API, the French 400 page for people."""
    logger.warning("entrée malformée refusée : %s", request.path)
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "requete_invalide", "detail": message},
            status=400,
            json_dumps_params={"ensure_ascii": False},
        )
    return HttpResponseBadRequest(render_to_string("400.html", {"message": message}))


class EntreeMalformeeMiddleware:
    """The one place where malformed input met deep in a view (a filter, a lookup, a
    NUL byte reaching PostgreSQL) becomes a French 400 instead of a 500, for the
    back-office, the portal and the API. Errors met before the views (other
    middlewares) get the same answer from `commun.views.erreur_serveur`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not request.path.startswith("/api/"):
            # Django's 405 (require_http_methods, class-based views) has an empty body.
            page = HttpResponse(render_to_string("405.html"), status=405)
            page["Allow"] = response.get("Allow", "")
            return page
        return response

    def process_exception(self, request, exception):
        if entree_malformee(exception):
            return reponse_entree_malformee(request)
        return None
