# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""Token API requests skip the browser-only middleware; every other request runs it."""

import pytest
from django.test import Client

from .api_outils import (  # noqa: F401
    _api_sans_quota_partage,
    api,
    donnees_api,
    emettre,
    entete,
)

APPELS = []


class Marqueur:
    """Records every request the browser stack handles."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        APPELS.append(request.path)
        return self.get_response(request)


@pytest.fixture
def marqueur(settings):
    settings.MIDDLEWARE_NAVIGATEUR = [*settings.MIDDLEWARE_NAVIGATEUR, f"{__name__}.Marqueur"]
    APPELS.clear()
    return APPELS


def test_requete_a_jeton_sans_session_ni_csrf(donnees_api, personas, marqueur):
    _, secret = emettre(personas, personas["partenaire-bpi"])
    client = Client()
    client.force_login(personas["national"])  # a session cookie too: never read
    reponse = client.get("/api/v1/projets/", **entete(secret))
    assert reponse.status_code == 200
    assert marqueur == []
    assert "sessionid" not in reponse.cookies


def test_jeton_invalide_ne_retombe_pas_sur_la_session(donnees_api, personas, marqueur):
    client = Client()
    client.force_login(personas["national"])
    reponse = client.get("/api/v1/projets/", HTTP_AUTHORIZATION="Bearer faux")
    assert reponse.status_code == 401
    assert marqueur == []


@pytest.mark.parametrize("chemin", ["/api/v1/projets/", "/", "/admin/login/"])
def test_navigateur_garde_toute_la_pile(db, marqueur, chemin):
    assert Client().get(chemin).status_code == 200
    assert marqueur == [chemin]


def test_jeton_hors_api_garde_toute_la_pile(db, marqueur):
    assert Client().get("/", HTTP_AUTHORIZATION="Bearer x").status_code == 200
    assert marqueur == ["/"]


# CSRF inside NavigateurMiddleware: tests/test_portail_dossiers.py::test_csrf_exige fails
# when process_view is not forwarded.


def test_session_d_agent_sur_l_api_toujours_verifiee(donnees_api, personas, marqueur):
    client = Client()
    client.force_login(personas["national"])
    reponse = client.get("/api/v1/projets/")
    assert reponse.status_code == 200
    assert marqueur == ["/api/v1/projets/"]
