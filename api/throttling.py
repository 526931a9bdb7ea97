"""Request quotas per token, per signed-in user and per anonymous address (the address
of commun.clients.adresse_client).

Rates come from settings (`API_DEBIT_*` environment variables) and are read at each
request, so that tests may lower them. DRF answers 429 with a `Retry-After` header.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from commun.clients import adresse_client

from .models import JetonPartenaire


class _Debit(SimpleRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request):
        """The client's address under the portal's trusted-proxy rule (the sign-in
        lockout's), not DRF's NUM_PROXIES: a forged X-Forwarded-For is no new client."""
        return adresse_client(request) or "inconnue"


class DebitJeton(_Debit):
    scope = "jeton"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, JetonPartenaire):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None


class DebitSession(_Debit):
    scope = "session"

    def get_cache_key(self, request, view):
        if request.auth is None and request.user and request.user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
        return None


class DebitAnonyme(_Debit):
    scope = "anonyme"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
