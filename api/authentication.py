"""`Authorization: Token <secret>` (or `Bearer <secret>`) for partner tokens."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from commun.middleware import MOTS_CLES_JETON

from .models import JetonPartenaire, empreinte_secret

MOTS_CLES = MOTS_CLES_JETON
# Last use is recorded at most this often, so that reads do not write on every request.
INTERVALLE_DERNIERE_UTILISATION = timedelta(minutes=15)


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
        jeton = (
            JetonPartenaire.objects.select_related("user", "user__habilitation")
            .filter(empreinte=empreinte_secret(secret))
            .first()
        )
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
