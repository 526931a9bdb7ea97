"""A fake ProConnect for the tests: an RSA key, signed ID tokens and userinfo JWTs, and
the provider's HTTP endpoints answered in place of `requests`."""

import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.cache import cache

EMETTEUR = "https://proconnect.test/api/v2"
CLIENT_ID = "client-ti"


def cle_rsa():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


CLE = cle_rsa()
AUTRE_CLE = cle_rsa()


class ReponseFactice:
    def __init__(self, donnees=None, texte=None, type_contenu="application/json", statut=200):
        self._donnees, self.text, self.status_code = donnees, texte, statut
        self.headers = {"content-type": type_contenu}
        self.url = "https://proconnect.test"

    def json(self):
        return self._donnees

    def raise_for_status(self):
        if self.status_code >= 400:
            raise requests.HTTPError(f"{self.status_code}", response=self)


@dataclass
class FauxProConnect:
    """The provider's state: who signs in, and what it will answer."""

    claims: dict = field(
        default_factory=lambda: {
            "sub": "sub-martine",
            "email": "martine.dupont@ara.gouv.fr",
            "given_name": "Martine",
            "usual_name": "Dupont",
            "siret": "13002526500013",
            "uid": "4321",
            "idp_id": "fia1v2",
        }
    )
    acr: str = "eidas1"
    cle_signature: object = CLE
    cle_userinfo: object = None
    audience: str = CLIENT_ID
    expire_dans: int = 60
    nonce_force: str | None = None
    userinfo_json: bool = False
    codes_utilises: set = field(default_factory=set)
    nonces: dict = field(default_factory=dict)
    appels: list = field(default_factory=list)

    def jeton(self, donnees):
        return jwt.encode(donnees, self.cle_signature, algorithm="RS256", headers={"kid": "k1"})

    def get(self, url, **kwargs):
        self.appels.append(("GET", url))
        if url.endswith("/.well-known/openid-configuration"):
            return ReponseFactice(
                {
                    "issuer": EMETTEUR,
                    "authorization_endpoint": f"{EMETTEUR}/authorize",
                    "token_endpoint": f"{EMETTEUR}/token",
                    "userinfo_endpoint": f"{EMETTEUR}/userinfo",
                    "jwks_uri": f"{EMETTEUR}/jwks",
                    "end_session_endpoint": f"{EMETTEUR}/session/end",
                }
            )
        if url.endswith("/jwks"):
            public = jwt.algorithms.RSAAlgorithm.to_jwk(CLE.public_key(), as_dict=True)
            return ReponseFactice({"keys": [{**public, "kid": "k1", "alg": "RS256"}]})
        if url.endswith("/userinfo"):
            assert kwargs["headers"]["Authorization"] == "Bearer acces-123"
            donnees = {**self.claims, "iss": EMETTEUR, "aud": self.audience}
            donnees["exp"] = int(time.time()) + self.expire_dans
            if self.userinfo_json:
                return ReponseFactice(self.claims)
            texte = jwt.encode(
                donnees, self.cle_userinfo or self.cle_signature, "RS256", headers={"kid": "k1"}
            )
            return ReponseFactice(texte=texte, type_contenu="application/jwt")
        raise AssertionError(f"unexpected GET {url}")

    def post(self, url, data=None, **kwargs):
        self.appels.append(("POST", url))
        assert url == f"{EMETTEUR}/token"
        assert data["client_id"] == CLIENT_ID and data["client_secret"] == "secret-ti"
        code = data["code"]
        if code in self.codes_utilises or code not in self.nonces:
            return ReponseFactice({"error": "invalid_grant"}, statut=400)
        self.codes_utilises.add(code)
        maintenant = int(time.time())
        id_token = self.jeton(
            {
                "iss": EMETTEUR,
                "aud": self.audience,
                "sub": self.claims["sub"],
                "iat": maintenant,
                "exp": maintenant + self.expire_dans,
                "nonce": self.nonce_force or self.nonces[code],
                "acr": self.acr,
            }
        )
        return ReponseFactice({"access_token": "acces-123", "id_token": id_token})

    def autoriser(self, url_autorisation, code="code-1"):
        """What the browser does at ProConnect: returns the callback query."""
        params = {k: v[0] for k, v in parse_qs(urlparse(url_autorisation).query).items()}
        assert url_autorisation.startswith(f"{EMETTEUR}/authorize?")
        self.nonces[code] = params["nonce"]
        self.derniers_parametres = params
        return {"code": code, "state": params["state"]}


def installer_proconnect(settings, monkeypatch):
    """Configure ProConnect and answer its endpoints (generator for a fixture)."""
    settings.PROCONNECT_CLIENT_ID = CLIENT_ID
    settings.PROCONNECT_CLIENT_SECRET = "secret-ti"
    settings.PROCONNECT_DISCOVERY_URL = f"{EMETTEUR}/.well-known/openid-configuration"
    cache.clear()
    fournisseur = FauxProConnect()
    monkeypatch.setattr(requests, "get", fournisseur.get)
    monkeypatch.setattr(requests, "post", fournisseur.post)
    yield fournisseur
    cache.clear()


def se_connecter(client, fournisseur, code="code-1", **kwargs):
    """Full code flow; returns the callback response."""
    depart = client.get("/proconnect/connexion/", kwargs.get("params", {}))
    assert depart.status_code == 302
    retour = fournisseur.autoriser(depart.url, code=code)
    return client.get("/proconnect/retour/", retour)
