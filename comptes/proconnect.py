"""ProConnect sign-in: discovery, the authentication backend and the end-session URL.

ProConnect (formerly AgentConnect, run by DINUM) is an OpenID Connect federation. Its
particulars, handled here on top of mozilla-django-oidc:
- endpoints come from the discovery document (fetched on first use, then cached);
- the userinfo answer is a JWT signed like the ID token (`application/jwt`);
- the ID token carries `acr` (e.g. `eidas1`), recorded on the profile;
- claims: `sub`, `email`, `given_name`, `usual_name`, `siret`, `uid`, `idp_id`.
"""

import logging
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.crypto import get_random_string
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from .models import DemandeHabilitation, Invitation, ProfilProConnect

logger = logging.getLogger(__name__)

CLE_CACHE = "comptes:proconnect:configuration"
SESSION_INVITATION = "comptes_invitation"


class ErreurProConnect(SuspiciousOperation):
    """A refused ProConnect answer; the message is shown to the user (French)."""


def est_configure() -> bool:
    return bool(
        settings.PROCONNECT_CLIENT_ID
        and settings.PROCONNECT_CLIENT_SECRET
        and settings.PROCONNECT_DISCOVERY_URL
    )


def configuration() -> dict:
    """The provider's discovery document, fetched once an hour at most."""
    cle = f"{CLE_CACHE}:{settings.PROCONNECT_DISCOVERY_URL}"
    document = cache.get(cle)
    if document is None:
        reponse = requests.get(settings.PROCONNECT_DISCOVERY_URL, timeout=settings.OIDC_TIMEOUT)
        reponse.raise_for_status()
        document = reponse.json()
        cache.set(cle, document, 3600)
    return document


def point(nom: str) -> str:
    """An endpoint of the provider (authorization_endpoint, token_endpoint, ...)."""
    try:
        return configuration()[nom]
    except KeyError as exc:
        raise ErreurProConnect(f"Le fournisseur n'annonce pas de {nom}.") from exc


def url_fin_de_session(request, id_token: str) -> str:
    """Where to send the browser so that ProConnect ends its session too."""
    retour = request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL))
    parametres = {
        "id_token_hint": id_token,
        "state": get_random_string(32),
        "post_logout_redirect_uri": retour,
    }
    return f"{point('end_session_endpoint')}?{urlencode(parametres)}"


class ProConnectBackend(OIDCAuthenticationBackend):
    """Authorization code flow against ProConnect.

    The library checks the state (callback view), the nonce and the signature; this class
    adds the audience, issuer and expiry checks, reads the signed userinfo, stores the
    claims on `ProfilProConnect`, and never grants a perimeter from claims.
    """

    OIDC_RP_SIGN_ALGO = "RS256"
    OIDC_RP_IDP_SIGN_KEY = None

    def __init__(self, *args, **kwargs):
        # Don't read the endpoints here: Django builds every backend on each password
        # sign-in, and discovery must stay lazy.
        self.UserModel = self.get_user_model()

    @staticmethod
    def get_user_model():
        from django.contrib.auth import get_user_model

        return get_user_model()

    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: point("token_endpoint"))
    OIDC_OP_USER_ENDPOINT = property(lambda self: point("userinfo_endpoint"))
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: point("jwks_uri"))
    OIDC_RP_CLIENT_ID = property(lambda self: settings.PROCONNECT_CLIENT_ID)
    OIDC_RP_CLIENT_SECRET = property(lambda self: settings.PROCONNECT_CLIENT_SECRET)

    def authenticate(self, request, **kwargs):
        # Only the callback view passes a nonce; a password sign-in never reaches here.
        if not est_configure() or "nonce" not in kwargs:
            return None
        return super().authenticate(request, **kwargs)

    def retrieve_matching_jwk(self, token):
        """The provider's key for this token: by `kid`, or its only RS256 key when the
        token names none (the library would crash on a token without `kid`)."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as exc:
            raise ErreurProConnect("Jeton illisible.") from exc
        reponse = requests.get(self.OIDC_OP_JWKS_ENDPOINT, timeout=settings.OIDC_TIMEOUT)
        reponse.raise_for_status()
        cles = [
            cle
            for cle in reponse.json().get("keys", [])
            if cle.get("alg", self.OIDC_RP_SIGN_ALGO) == self.OIDC_RP_SIGN_ALGO
            and cle.get("use", "sig") == "sig"
            and (kid is None or cle.get("kid") == kid)
        ]
        if len(cles) != 1:
            raise ErreurProConnect("Clé de signature du fournisseur introuvable.")
        return jwt.PyJWK(cles[0])

    def get_user(self, user_id):
        """A deactivated account loses its ProConnect session too (the library's
        get_user does not check)."""
        user = super().get_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def _verify_jws(self, payload, key):
        """Signature (RS256 only), audience, issuer and expiry."""
        try:
            entete = jwt.get_unverified_header(payload)
        except jwt.InvalidTokenError as exc:
            raise ErreurProConnect("Jeton illisible.") from exc
        if entete.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise ErreurProConnect("Algorithme de signature refusé.")
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=configuration().get("issuer"),
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.InvalidTokenError as exc:
            raise ErreurProConnect(f"Jeton refusé ({exc}).") from exc

    def get_or_create_user(self, access_token, id_token, payload):
        self.claims_id_token = payload
        try:
            return super().get_or_create_user(access_token, id_token, payload)
        except SuspiciousOperation as exc:
            # The library logs and swallows this one: keep the reason for the message.
            self.request.erreur_proconnect = str(exc)
            raise

    def get_userinfo(self, access_token, id_token, payload):
        claims = super().get_userinfo(access_token, id_token, payload)
        if claims.get("sub") != payload.get("sub"):
            raise ErreurProConnect("L'identité renvoyée ne correspond pas au jeton.")
        return claims

    def verify_claims(self, claims):
        return bool(claims.get("email") and claims.get("sub"))

    def filter_users_by_claims(self, claims):
        """The account with this verified e-mail (any case), or the one already linked to
        this ProConnect identity."""
        profil = ProfilProConnect.objects.filter(sub=claims["sub"]).select_related("user")
        if profil:
            return [profil[0].user]
        return list(self.UserModel.objects.filter(email__iexact=claims["email"].strip()))

    @transaction.atomic
    def create_user(self, claims):
        """Unknown identity: an invited person gets the invitation's perimeter; anyone else
        gets an account without perimeter and a pending access request."""
        from . import services

        invitation = self._invitation_en_cours()
        if invitation is not None:
            user = services.accepter_invitation(invitation, email_identite=claims["email"])
        else:
            user = self.UserModel.objects.create_user(
                self.get_username(claims),
                email=claims["email"].strip(),
                first_name=claims.get("given_name", "")[:150],
                last_name=claims.get("usual_name", "")[:150],
            )
            DemandeHabilitation.objects.create(
                user=user,
                email=user.email,
                nom=f"{user.first_name} {user.last_name}".strip(),
                siret=claims.get("siret", "")[:14],
                organisation=claims.get("idp_id", "")[:255],
            )
        self._enregistrer_profil(user, claims)
        return user

    def update_user(self, user, claims):
        if self._invitation_en_cours() is not None:
            raise ErreurProConnect("Un compte existe déjà pour cette adresse : connectez-vous.")
        self._enregistrer_profil(user, claims)
        return user

    def _invitation_en_cours(self):
        identifiant = self.request.session.get(SESSION_INVITATION)
        if identifiant is None:
            return None
        return Invitation.objects.filter(pk=identifiant).first()

    def _enregistrer_profil(self, user, claims):
        ProfilProConnect.objects.update_or_create(
            user=user,
            defaults={
                "sub": claims["sub"],
                "uid": str(claims.get("uid", ""))[:255],
                "idp_id": str(claims.get("idp_id", ""))[:255],
                "siret": str(claims.get("siret", ""))[:14],
                "given_name": str(claims.get("given_name", ""))[:255],
                "usual_name": str(claims.get("usual_name", ""))[:255],
                "acr": str(getattr(self, "claims_id_token", {}).get("acr", ""))[:50],
                "derniere_connexion": timezone.now(),
            },
        )
