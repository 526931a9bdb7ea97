"""System checks of the wiring commun provides."""

from django.conf import settings
from django.core import checks

REQUIS_NAVIGATEUR = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]


@checks.register(checks.Tags.security)
def verifier_pile_navigateur(app_configs, **kwargs):
    """The admin's middleware checks (admin.E408-E410, silenced) done on
    MIDDLEWARE_NAVIGATEUR, which NavigateurMiddleware runs for every browser request."""
    pile = list(getattr(settings, "MIDDLEWARE_NAVIGATEUR", []))
    erreurs = []
    if "commun.middleware.NavigateurMiddleware" not in settings.MIDDLEWARE:
        pile = list(settings.MIDDLEWARE)
    for chemin in REQUIS_NAVIGATEUR:
        if chemin not in pile:
            erreurs.append(
                checks.Error(f"{chemin} doit figurer dans MIDDLEWARE_NAVIGATEUR.", id="commun.E001")
            )
    positions = [pile.index(c) for c in REQUIS_NAVIGATEUR if c in pile]
    if positions != sorted(positions):
        erreurs.append(
            checks.Error(
                "Ordre requis : sessions, puis authentification, puis messages.",
                id="commun.E001",
            )
        )
    return erreurs
