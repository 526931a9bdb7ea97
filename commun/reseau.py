"""Outbound requests to addresses given by users (partner webhooks): a guard against
server-side request forgery (SSRF).

`refus_adresse(url)` says in French why an address is refused, or returns None:
HTTPS only (HTTP to 127.0.0.1 only when the WEBHOOKS_HTTP_LOCAL setting allows it, for
tests and local development), no credentials in the address, and every address the host
name resolves to must be public: private, loopback, link-local, multicast, reserved or
unspecified addresses are refused (`ipaddress`). It is called at registration and again
before each delivery; the delivery itself connects to the address it checked
(`requests-hardened` pins it, so a DNS answer that changes in between does not reach an
internal address), follows no redirect and reads a bounded answer.
"""

import ipaddress
import socket
import time
from urllib.parse import urlsplit

from django.conf import settings

HOTE_LOCAL = "127.0.0.1"

# Reasons, in the order they are tested (an address may be in several classes).
CATEGORIES = (
    ("is_loopback", "une adresse de bouclage (loopback)"),
    ("is_link_local", "une adresse lien-local"),
    ("is_multicast", "une adresse de multidiffusion (multicast)"),
    ("is_unspecified", "une adresse non spécifiée"),
    ("is_reserved", "une adresse réservée"),
    ("is_private", "une adresse privée"),
)


def resoudre(hote: str, port: int) -> list[str]:
    """Every address `hote` resolves to (tests replace this function)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(hote, port, type=socket.SOCK_STREAM)})


def http_local_permis() -> bool:
    return bool(getattr(settings, "WEBHOOKS_HTTP_LOCAL", False))


def refus_ip(adresse: str) -> str | None:
    """Why `adresse` (an IP) may not be reached, or None if it is public."""
    try:
        ip = ipaddress.ip_address(adresse.split("%", 1)[0])
    except ValueError:
        return f"l'adresse « {adresse} » n'est pas une adresse IP valide"
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if http_local_permis() and str(ip) == HOTE_LOCAL:
        return None
    for attribut, libelle in CATEGORIES:
        if getattr(ip, attribut):
            return f"{ip}, {libelle}"
    if not ip.is_global:
        return f"{ip}, une adresse non publique"
    return None


def refus_adresse(url: str) -> str | None:
    """A French sentence saying why `url` may not receive webhooks, or None."""
    try:
        morceaux = urlsplit(url)
        port = morceaux.port
    except ValueError:
        return "Adresse de réception invalide."
    hote = (morceaux.hostname or "").rstrip(".")
    schema = morceaux.scheme.lower()
    if not hote:
        return "Adresse de réception invalide : le nom d'hôte manque."
    if morceaux.username is not None or morceaux.password is not None:
        return "L'adresse de réception ne doit pas contenir d'identifiant ni de mot de passe."
    if schema == "http":
        if not (http_local_permis() and hote == HOTE_LOCAL):
            return "L'adresse de réception doit commencer par https:// (HTTP n'est pas admis)."
    elif schema != "https":
        return "L'adresse de réception doit commencer par https://."
    try:
        adresses = resoudre(hote, port or (443 if schema == "https" else 80))
    except (OSError, UnicodeError):
        return f"Le nom d'hôte « {hote} » ne se résout pas : vérifiez l'adresse."
    if not adresses:
        return f"Le nom d'hôte « {hote} » ne se résout pas : vérifiez l'adresse."
    for adresse in adresses:
        motif = refus_ip(adresse)
        if motif:
            return (
                f"Adresse de réception refusée : {hote} mène à {motif}. "
                "Seules les adresses publiques sont admises."
            )
    return None


class AdresseRefusee(Exception):
    """Raised before any connection when the address is refused (French message)."""


def poster(url: str, *, corps: bytes, entetes: dict) -> tuple[int, bytes]:
    """POST `corps` to `url` after the guard; returns (HTTP status, at most
    WEBHOOKS_REPONSE_MAX bytes of the answer). No redirect is followed; connection and
    each read time out after WEBHOOKS_DELAI seconds, the whole exchange after
    WEBHOOKS_DELAI_TOTAL. Raises AdresseRefusee or a `requests` exception."""
    from requests_hardened import Config, Manager

    motif = refus_adresse(url)
    if motif:
        raise AdresseRefusee(motif)
    delai = settings.WEBHOOKS_DELAI
    gestionnaire = Manager(
        Config(
            default_timeout=(delai, delai),
            never_redirect=True,
            ip_filter_enable=True,
            ip_filter_allow_loopback_ips=http_local_permis(),
            user_agent_override=entetes.get("user-agent"),
        )
    )
    fin = time.monotonic() + settings.WEBHOOKS_DELAI_TOTAL
    maximum = settings.WEBHOOKS_REPONSE_MAX
    with gestionnaire.get_session() as session:
        session.trust_env = False  # no proxy or .netrc from the environment
        reponse = session.post(url, data=corps, headers=entetes, stream=True, allow_redirects=False)
        try:
            lu = bytearray()
            for morceau in reponse.iter_content(chunk_size=8192):
                lu += morceau
                if len(lu) >= maximum or time.monotonic() > fin:
                    break
            return reponse.status_code, bytes(lu[:maximum])
        finally:
            reponse.close()
