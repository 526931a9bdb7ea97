"""Settings helpers, health check, request logs and database outage handling."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from config.middleware import BaseIndisponibleMiddleware


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
    assert reponse.json() == {"statut": "ok", "base_de_donnees": "ok"}


def test_sante_503_quand_la_base_ne_repond_pas(client, db, monkeypatch):
    from config import views

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
