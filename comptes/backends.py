"""Password sign-in, with the production switch that closes it to agents."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from territoires import perimetre


def reserve_a_proconnect(user) -> bool:
    """Staff and agents sign in with ProConnect only when CONNEXION_MOT_DE_PASSE_AGENTS
    is off."""
    if settings.CONNEXION_MOT_DE_PASSE_AGENTS:
        return False
    return bool(user.is_staff or user.is_superuser or perimetre.est_agent(user))


class MotDePasseBackend(ModelBackend):
    """Django's password backend, for every login form (portal and admin)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and reserve_a_proconnect(user):
            return None
        return user
