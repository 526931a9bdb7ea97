"""Settings helpers, health check, request logs and database outage handling."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from commun.middleware import BaseIndisponibleMiddleware


def _importer_settings(**env):
    environnement = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    environnement.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env=environnement,
        capture_output=True,
        text=True,
        check=False,
    )


def test_secret_key_obligatoire_hors_debug():
    resultat = _importer_settings(DEBUG="false")
    assert resultat.returncode != 0
    assert "SECRET_KEY is required" in resultat.stderr


def test_debug_refuse_une_valeur_ambigue():
    resultat = _importer_settings(DEBUG="peut-etre")
    assert resultat.returncode != 0
    assert "DEBUG must be true or false" in resultat.stderr


def test_production_avec_secret_key_demarre():
    assert _importer_settings(DEBUG="false", SECRET_KEY="x" * 50).returncode == 0


def test_sante_repond_ok(client, db):
    reponse = client.get("/sante/")
    assert reponse.status_code == 200
    etat = reponse.json()
    assert etat["statut"] == "ok" and etat["base_de_donnees"] == "ok"
    assert {nom: d["statut"] for nom, d in etat["dependances"].items()} == {
        "primaire": "ok",
        "replique": "ok",
        "cache": "ok",
        "taches": "ok",
    }


def test_sante_503_quand_la_base_ne_repond_pas(client, db, monkeypatch):
    from commun import views

    def panne():
        raise OperationalError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(views.connection, "cursor", panne)
        reponse = client.get("/sante/")
    assert reponse.status_code == 503
    assert reponse.json()["statut"] == "indisponible"


@pytest.mark.parametrize(
    ("chemin", "accept", "json_attendu"),
    [("/api/v1/projets/", "", True), ("/", "text/html", False)],
)
def test_panne_de_base_repond_503_en_francais(chemin, accept, json_attendu):
    middleware = BaseIndisponibleMiddleware(lambda r: None)
    requete = RequestFactory().get(chemin, HTTP_ACCEPT=accept)
    reponse = middleware.process_exception(requete, OperationalError("server closed"))
    assert reponse.status_code == 503
    assert reponse["Retry-After"] == "30"
    contenu = reponse.content.decode()
    assert "momentanément indisponible" in contenu
    assert (reponse["Content-Type"] == "application/json") is json_attendu


def test_erreur_brute_du_pilote_repond_503():
    """Closing the server-side cursor of `.iterator()` (a form's choices) on a lost
    connection raises psycopg's own error, not Django's: still a 503 (seen under load)."""
    psycopg = pytest.importorskip("psycopg")
    middleware = BaseIndisponibleMiddleware(lambda r: None)
    requete = RequestFactory().get("/territoires/")
    perdue = psycopg.OperationalError("consuming input failed: server closed the connection")
    assert middleware.process_exception(requete, perdue).status_code == 503
    fermee = psycopg.InterfaceError("the connection is closed")
    assert middleware.process_exception(requete, fermee).status_code == 503


def test_erreur_de_la_requete_n_est_pas_une_panne():
    """An operational error of the query itself (a lock not available, SQLSTATE 55P03)
    stays a 500, raw or wrapped by Django."""
    psycopg = pytest.importorskip("psycopg")
    middleware = BaseIndisponibleMiddleware(lambda r: None)
    requete = RequestFactory().get("/")
    verrou = psycopg.errors.LockNotAvailable()
    assert isinstance(verrou, psycopg.OperationalError)
    assert middleware.process_exception(requete, verrou) is None
    enveloppee = OperationalError("could not obtain lock")
    enveloppee.__cause__ = verrou
    assert middleware.process_exception(requete, enveloppee) is None


def test_autres_exceptions_non_interceptees():
    middleware = BaseIndisponibleMiddleware(lambda r: None)
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("x")) is None


def test_une_ligne_json_par_requete(client, db, caplog, settings):
    logging.getLogger("requetes").setLevel(logging.INFO)
    with caplog.at_level(logging.INFO, logger="requetes"):
        client.get("/sante/")
    lignes = [json.loads(r.getMessage()) for r in caplog.records if r.name == "requetes"]
    assert lignes[-1]["chemin"] == "/sante/"
    assert lignes[-1]["statut"] == 200
    assert lignes[-1]["duree_ms"] >= 0


def test_panne_rencontree_par_un_middleware_repond_503(db, monkeypatch, personas):
    """The session or the user read by a middleware: a 503 page, not a 500."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(personas["porteur-adn"])

    def panne(self):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(SessionStore, "load", panne)
    reponse = client.get("/")
    assert reponse.status_code == 503
    assert "momentanément indisponible" in reponse.content.decode()
    assert reponse["Retry-After"] == "30"


def test_erreur_inattendue_de_l_api_en_json(db, monkeypatch):
    from django.test import Client

    from api import views

    def erreur(self, request):
        raise ValueError("bug")

    monkeypatch.setattr(views.RacineView, "get", erreur)
    reponse = Client(raise_request_exception=False).get("/api/v1/")
    assert reponse.status_code == 500
    assert reponse.json()["detail"].startswith("Erreur interne du serveur")


def test_pages_d_erreur_en_francais(client, db):
    reponse = client.get("/cette-page-n-existe-pas/")
    assert reponse.status_code == 404
    contenu = reponse.content.decode()
    assert "Page introuvable" in contenu and 'lang="fr"' in contenu
