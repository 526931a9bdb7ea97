"""Who is calling: the client's address and whether the request came through a trusted
reverse proxy, answered in one place.

One rule (setting `MANDATAIRES_DE_CONFIANCE`) serves every consumer: the API quotas
(api.throttling), the sign-in lockout (django-axes' AXES_CLIENT_IP_CALLABLE), the audit
trail (comptes.audit) and the request log (commun.middleware). The setting is either

- a count N: the portal is reachable only through N reverse proxies that each append
  the address they saw to `X-Forwarded-For`; the client is the N-th address from the
  right. 0 (the default): no proxy, `REMOTE_ADDR` is the client and every
  `X-Forwarded-*` header is ignored;
- a list of networks (CIDR, e.g. `10.0.0.0/8,192.0.2.10`): a request is "through a
  trusted proxy" only when `REMOTE_ADDR` is in one of them; the client is then the
  right-most address of `X-Forwarded-For` that is not itself a trusted proxy.

Anything a client writes on its own (a forged `X-Forwarded-For` or `X-Forwarded-Proto`)
is never believed: only what trusted proxies appended counts.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

# Headers only a trusted proxy may set; removed from requests that did not come through one.
ENTETES_DE_MANDATAIRE = (
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
)


def _ip(texte):
    """An ip_address, or None for anything that is not one."""
    if not texte:
        return None
    try:
        return ipaddress.ip_address(str(texte).strip())
    except ValueError:
        return None


@lru_cache(maxsize=8)
def _reseaux(reglage: tuple) -> tuple:
    return tuple(ipaddress.ip_network(r, strict=False) for r in reglage)


def _reglage():
    """`MANDATAIRES_DE_CONFIANCE` as an int (count) or a tuple of networks."""
    reglage = settings.MANDATAIRES_DE_CONFIANCE
    if isinstance(reglage, int):
        return max(reglage, 0)
    if isinstance(reglage, str):
        reglage = [r.strip() for r in reglage.split(",") if r.strip()]
    return _reseaux(tuple(reglage))


def _de_confiance(adresse, reseaux) -> bool:
    return adresse is not None and any(adresse in reseau for reseau in reseaux)


def _chaine(request) -> list[str]:
    entete = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return [a.strip() for a in entete.split(",") if a.strip()]


def par_mandataire_de_confiance(request) -> bool:
    """True when the request reached the portal through a configured trusted proxy (its
    `X-Forwarded-*` headers may then be believed)."""
    if request is None:
        return False
    reglage = _reglage()
    if isinstance(reglage, int):
        return reglage > 0
    return _de_confiance(_ip(request.META.get("REMOTE_ADDR")), reglage)


def adresse_client(request, *args, **kwargs) -> str | None:
    """The client's IP address under the trusted-proxy rule (None without a request or an
    address). Extra arguments are accepted for django-axes, which passes the request
    only but may pass more in later versions."""
    if request is None:
        return None
    distante = _ip(request.META.get("REMOTE_ADDR"))
    reglage = _reglage()
    if isinstance(reglage, int):
        chaine = _chaine(request) if reglage > 0 else []
        adresse = distante
        if len(chaine) >= reglage > 0:
            # What the outermost trusted proxy saw; something that is no address at all
            # (no proxy writes that) leaves the proxy's own address.
            adresse = _ip(chaine[-reglage]) or distante
        return str(adresse) if adresse else None
    if not _de_confiance(distante, reglage):
        return str(distante) if distante else None
    adresse = distante
    for texte in reversed(_chaine(request)):
        suivante = _ip(texte)
        if suivante is None:
            break
        adresse = suivante
        if not _de_confiance(suivante, reglage):
            break
    return str(adresse)


# ---------------------------------------------------------------------------
# Middleware


MESSAGE_TROP_VOLUMINEUSE = (
    "La requête est trop volumineuse : {maximum} Mo au plus (pièces jointes comprises)."
)


def reponse_trop_volumineuse(request, maximum: int):
    """413 with a French message: JSON for the API, a page for people."""
    message = MESSAGE_TROP_VOLUMINEUSE.format(maximum=maximum // (1024 * 1024))
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "requete_trop_volumineuse", "detail": message},
            status=413,
            json_dumps_params={"ensure_ascii": False},
        )
    return HttpResponse(
        render_to_string("413.html", {"maximum": maximum // (1024 * 1024)}), status=413
    )


class MandatairesMiddleware:
    """First middleware of the chain.

    - Forgets every `X-Forwarded-*` header of a request that did not come through a
      trusted proxy: Django's SECURE_PROXY_SSL_HEADER believes `X-Forwarded-Proto`
      unconditionally, so a client talking to gunicorn directly could claim HTTPS.
    - Refuses (413) a body announced larger than REQUETE_TAILLE_MAX before anything reads
      it: Django spools uploads to disk as they arrive, the form checks the size only
      once the whole file is there. Django reads no more than Content-Length, so a body
      without it (chunked) is read as empty.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not par_mandataire_de_confiance(request):
            for entete in ENTETES_DE_MANDATAIRE:
                request.META.pop(entete, None)
        maximum = settings.REQUETE_TAILLE_MAX
        try:
            annoncee = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            annoncee = 0
        if maximum and annoncee > maximum:
            return reponse_trop_volumineuse(request, maximum)
        return self.get_response(request)
