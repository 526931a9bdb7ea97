"""`Authorization: Token <secret>` (or `Bearer <secret>`) for partner tokens."""

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .models import JetonPartenaire, empreinte_secret

MOTS_CLES = ("token", "bearer")
# Last use is recorded at most this often, so that reads do not write on every request.
INTERVALLE_DERNIERE_UTILISATION = timedelta(minutes=15)
CLE_VERSION_JETONS = "jetons:version"


def oublier_jetons(**kwargs) -> None:
    """Forget every cached token: connected to the writes on tokens, users and
    habilitations (api/apps.py), so that a revocation, a deactivated account or a
    narrowed perimeter applies to the next request."""
    try:
        cache.incr(CLE_VERSION_JETONS)
    except ValueError:
        cache.set(CLE_VERSION_JETONS, 2, None)


def _jeton(empreinte: str):
    """The token (with its holder and habilitation) of this digest, or None.

    Kept in cache for `API_JETON_CACHE_SECONDES`: a partner's sync makes thousands of
    requests and the lookup (three joined tables) was a fifth of a list page. Writes
    forget it at once in the shared cache (Redis); with the per-process memory cache
    another worker may honour a revoked token for at most that many seconds."""
    cle = f"jeton:{cache.get_or_set(CLE_VERSION_JETONS, 1, None)}:{empreinte}"
    jeton = cache.get(cle)
    if jeton is None:
        jeton = (
            JetonPartenaire.objects.select_related("user", "user__habilitation")
            .filter(empreinte=empreinte)
            .first()
        )
        if jeton is not None:
            cache.set(cle, jeton, settings.API_JETON_CACHE_SECONDES)
    return jeton, cle


class JetonAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        entete = authentication.get_authorization_header(request).split()
        if not entete or entete[0].lower().decode(errors="replace") not in MOTS_CLES:
            return None
        if len(entete) != 2:
            raise exceptions.AuthenticationFailed(
                "En-tête Authorization invalide : attendu « Token <jeton> »."
            )
        try:
            secret = entete[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Jeton invalide.") from exc
        jeton, cle = _jeton(empreinte_secret(secret))
        if jeton is None:
            raise exceptions.AuthenticationFailed("Jeton inconnu.")
        if jeton.est_revoque:
            raise exceptions.AuthenticationFailed("Ce jeton a été révoqué.")
        if jeton.est_expire:
            raise exceptions.AuthenticationFailed("Ce jeton a expiré.")
        if not jeton.user.is_active:
            raise exceptions.AuthenticationFailed("Le compte titulaire de ce jeton est désactivé.")
        maintenant = timezone.now()
        if (
            jeton.derniere_utilisation_le is None
            or maintenant - jeton.derniere_utilisation_le > INTERVALLE_DERNIERE_UTILISATION
        ):
            JetonPartenaire.objects.filter(pk=jeton.pk).update(derniere_utilisation_le=maintenant)
            jeton.derniere_utilisation_le = maintenant
            cache.set(cle, jeton, settings.API_JETON_CACHE_SECONDES)
        return jeton.user, jeton

    def authenticate_header(self, request):
        return 'Token realm="api"'


class JetonAuthenticationSchema(OpenApiAuthenticationExtension):
    target_class = "api.authentication.JetonAuthentication"
    name = "jetonPartenaire"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Jeton partenaire délivré par l'équipe nationale : en-tête "
            "`Authorization: Bearer <jeton>` (ou `Authorization: Token <jeton>`).",
        }
