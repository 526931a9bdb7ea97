"""ProConnect sign-in against a real OpenID Connect provider running on a thread
(oidc-provider-mock): real HTTP, real RS256 keys, real codes. ProConnect's own
particulars (userinfo as a signed JWT, acr) are covered by test_comptes_proconnect.py."""

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.urls import reverse

from comptes.models import DemandeHabilitation, ProfilProConnect

pytestmark = pytest.mark.django_db

oidc_provider_mock = pytest.importorskip("oidc_provider_mock")


@pytest.fixture(scope="module")
def serveur():
    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as serveur:
        yield f"http://localhost:{serveur.server_port}"


@pytest.fixture
def fournisseur(serveur, settings):
    settings.PROCONNECT_CLIENT_ID = "client-ti"
    settings.PROCONNECT_CLIENT_SECRET = "secret-ti"
    settings.PROCONNECT_DISCOVERY_URL = f"{serveur}/.well-known/openid-configuration"
    # This provider only knows the standard scopes; extra claims come with `openid`.
    settings.OIDC_RP_SCOPES = "openid email"
    cache.clear()
    yield serveur
    cache.clear()


def definir_identite(serveur, sub, email):
    reponse = requests.put(
        f"{serveur}/users/{sub}",
        json={
            "email": email,
            "given_name": "Martine",
            "usual_name": "Dupont",
            "siret": "13002526500013",
            "idp_id": "fia1v2",
            "uid": "77",
        },
        timeout=5,
    )
    assert reponse.status_code == 204


def autoriser(client, sub):
    """The browser goes to the provider, the person signs in as `sub`."""
    depart = client.get("/proconnect/connexion/")
    assert depart.status_code == 302
    reponse = requests.post(depart.url, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert reponse.status_code == 302, reponse.text
    retour = urlparse(reponse.headers["Location"])
    assert retour.path == "/proconnect/retour/"
    return {k: v[0] for k, v in parse_qs(retour.query).items()}


def test_connexion_complete_compte_connu(client, personas, fournisseur):
    agent = personas["region-ara"]
    agent.email = "martine@ara.gouv.fr"
    agent.save()
    definir_identite(fournisseur, "sub-reel-1", "Martine@ara.gouv.fr")

    reponse = client.get("/proconnect/retour/", autoriser(client, "sub-reel-1"))

    assert reponse.status_code == 302 and reponse.url == reverse("admin:index")
    assert int(client.session[SESSION_KEY]) == agent.pk
    profil = ProfilProConnect.objects.get(user=agent)
    assert (profil.sub, profil.siret, profil.idp_id) == ("sub-reel-1", "13002526500013", "fia1v2")
    assert list(agent.habilitation.regions.all()) == [
        personas["region-ara"].habilitation.regions.get()
    ]

    # Logout ends the provider's session too.
    fin = client.post("/deconnexion/")
    assert fin.url.startswith(f"{fournisseur}/oauth2/end_session?")
    assert "id_token_hint=" in fin.url
    assert SESSION_KEY not in client.session


def test_identite_inconnue_en_attente(client, monde, fournisseur):
    definir_identite(fournisseur, "sub-reel-2", "inconnu@collectivite.fr")
    reponse = client.get("/proconnect/retour/", autoriser(client, "sub-reel-2"))
    assert reponse.url == reverse("comptes:en_attente")
    assert DemandeHabilitation.objects.get().email == "inconnu@collectivite.fr"


def test_etat_faux_et_code_rejoue_refuses(client, monde, fournisseur):
    definir_identite(fournisseur, "sub-reel-3", "rejoue@collectivite.fr")
    retour = autoriser(client, "sub-reel-3")

    faux = client.get("/proconnect/retour/", {**retour, "state": "etat-forge"})
    assert faux.url == reverse("connexion") and SESSION_KEY not in client.session

    # A fresh state, but the code already consumed by the provider? Sign in once...
    retour = autoriser(client, "sub-reel-3")
    assert client.get("/proconnect/retour/", retour).url == reverse("comptes:en_attente")
    client.logout()
    # ...then replay the same code with a new, valid state: the provider refuses it.
    nouveau = autoriser(client, "sub-reel-3")
    rejoue = client.get("/proconnect/retour/", {**nouveau, "code": retour["code"]})
    assert rejoue.url == reverse("connexion") and SESSION_KEY not in client.session
