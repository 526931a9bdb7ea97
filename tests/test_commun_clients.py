# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""One trusted-proxy rule for every door: API quotas, sign-in lockout, audit trail,
request log, X-Forwarded-Proto; oversized bodies refused before they are read."""

import json
import logging

import pytest
from django.conf import settings as reglages
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.utils.module_loading import import_string

from commun.clients import adresse_client, par_mandataire_de_confiance
from comptes.models import EvenementAudit

from .api_outils import _api_sans_quota_partage, api  # noqa: F401

XFF = "HTTP_X_FORWARDED_FOR"


def requete(remote="10.0.0.1", xff=None):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra[XFF] = xff
    return RequestFactory().get("/", **extra)


def test_sans_mandataire_x_forwarded_for_ignore(settings):
    settings.MANDATAIRES_DE_CONFIANCE = 0
    assert adresse_client(requete(xff="203.0.113.9")) == "10.0.0.1"
    assert not par_mandataire_de_confiance(requete(xff="203.0.113.9"))


def test_nombre_de_mandataires(settings):
    settings.MANDATAIRES_DE_CONFIANCE = 1
    assert adresse_client(requete(xff="6.6.6.6, 203.0.113.9")) == "203.0.113.9"
    settings.MANDATAIRES_DE_CONFIANCE = 2
    assert adresse_client(requete(xff="6.6.6.6, 203.0.113.9, 10.0.0.2")) == "203.0.113.9"
    # Fewer addresses than proxies, or garbage where the proxy wrote: the proxy's own.
    assert adresse_client(requete(xff="203.0.113.9")) == "10.0.0.1"
    assert adresse_client(requete(xff="pas-une-adresse, 10.0.0.2")) == "10.0.0.1"


def test_reseaux_de_mandataires(settings):
    settings.MANDATAIRES_DE_CONFIANCE = ["10.0.0.0/8", "192.0.2.10"]
    # From a trusted proxy: the right-most address that is not a proxy.
    assert adresse_client(requete(xff="6.6.6.6, 203.0.113.9, 10.1.2.3")) == "203.0.113.9"
    assert par_mandataire_de_confiance(requete())
    # From anyone else: REMOTE_ADDR, whatever the header says.
    assert adresse_client(requete(remote="198.51.100.7", xff="203.0.113.9")) == "198.51.100.7"
    assert not par_mandataire_de_confiance(requete(remote="198.51.100.7"))
    assert par_mandataire_de_confiance(requete(remote="192.0.2.10"))


def test_reglage_mal_forme_refuse(monkeypatch):
    from config.settings import env_mandataires

    monkeypatch.setenv("MANDATAIRES_DE_CONFIANCE", "2")
    assert env_mandataires("MANDATAIRES_DE_CONFIANCE") == 2
    monkeypatch.setenv("MANDATAIRES_DE_CONFIANCE", "10.0.0.0/8, 192.0.2.1")
    assert env_mandataires("MANDATAIRES_DE_CONFIANCE") == ["10.0.0.0/8", "192.0.2.1"]
    monkeypatch.setenv("MANDATAIRES_DE_CONFIANCE", "le répartiteur")
    with pytest.raises(ImproperlyConfigured):
        env_mandataires("MANDATAIRES_DE_CONFIANCE")


def test_verrouillage_et_audit_suivent_la_meme_regle():
    assert import_string(reglages.AXES_CLIENT_IP_CALLABLE) is adresse_client
    from comptes import audit

    assert audit.adresse_ip is adresse_client


@pytest.fixture
def quota_anonyme_bas(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "anonyme": "3/minute",
            "jeton": "5/minute",
            "session": "5/minute",
        },
    }


def test_quota_anonyme_non_contourne_par_x_forwarded_for(api, monde, quota_anonyme_bas, settings):
    """Failed before the fix: DRF (NUM_PROXIES unset) took each forged header for a new
    client, so the quota never ran out."""
    settings.MANDATAIRES_DE_CONFIANCE = 0
    for i in range(3):
        assert api.get("/api/v1/regions/", **{XFF: f"198.51.100.{i}"}).status_code == 200
    reponse = api.get("/api/v1/regions/", **{XFF: "198.51.100.99"})
    assert reponse.status_code == 429


def test_quota_anonyme_par_client_derriere_un_mandataire(api, monde, quota_anonyme_bas, settings):
    settings.MANDATAIRES_DE_CONFIANCE = ["127.0.0.1/32"]
    for _ in range(3):
        assert api.get("/api/v1/regions/", **{XFF: "6.6.6.6, 203.0.113.9"}).status_code == 200
    # Same client behind the proxy, another forged left part: still the same quota.
    assert api.get("/api/v1/regions/", **{XFF: "7.7.7.7, 203.0.113.9"}).status_code == 429
    # Another client behind the same proxy has its own.
    assert api.get("/api/v1/regions/", **{XFF: "203.0.113.10"}).status_code == 200


def test_journal_d_audit_et_des_requetes(client, personas, settings, caplog):
    settings.MANDATAIRES_DE_CONFIANCE = ["127.0.0.1/32"]
    with caplog.at_level(logging.INFO, logger="requetes"):
        client.post(
            "/connexion/",
            {"username": "porteur-adn", "password": "faux"},
            **{XFF: "6.6.6.6, 203.0.113.9"},
        )
    assert EvenementAudit.objects.get(type="echec_connexion").adresse_ip == "203.0.113.9"
    lignes = [json.loads(r.getMessage()) for r in caplog.records if r.name == "requetes"]
    assert lignes and lignes[-1]["ip"] == "203.0.113.9"


def test_verrouillage_par_adresse_reelle(client, personas, settings):
    """The lockout counts the real client, not what it writes in X-Forwarded-For."""
    settings.MANDATAIRES_DE_CONFIANCE = 0
    for i in range(reglages.AXES_FAILURE_LIMIT):
        client.post(
            "/connexion/", {"username": "porteur-adn", "password": "faux"}, **{XFF: f"1.1.1.{i}"}
        )
    reponse = client.post(
        "/connexion/", {"username": "porteur-adn", "password": "faux"}, **{XFF: "9.9.9.9"}
    )
    assert reponse.status_code == 429


# ---------------------------------------------------------------------------
# X-Forwarded-Proto


@pytest.fixture
def https_derriere_mandataire(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True


def test_x_forwarded_proto_ignore_hors_mandataire(client, db, https_derriere_mandataire, settings):
    """Failed before the fix: Django believed the header from anyone."""
    settings.MANDATAIRES_DE_CONFIANCE = 0
    reponse = client.get("/sante/", HTTP_X_FORWARDED_PROTO="https")
    assert reponse.status_code == 301 and reponse["Location"].startswith("https://")
    settings.MANDATAIRES_DE_CONFIANCE = ["192.0.2.0/24"]
    reponse = client.get("/sante/", HTTP_X_FORWARDED_PROTO="https")
    assert reponse.status_code == 301


def test_x_forwarded_proto_cru_d_un_mandataire(client, db, https_derriere_mandataire, settings):
    settings.MANDATAIRES_DE_CONFIANCE = ["127.0.0.1/32"]
    assert client.get("/sante/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
    settings.MANDATAIRES_DE_CONFIANCE = 1
    assert client.get("/sante/", HTTP_X_FORWARDED_PROTO="https").status_code == 200


# ---------------------------------------------------------------------------
# Body size


def test_corps_trop_volumineux_refuse_avant_lecture(client, personas, settings):
    settings.REQUETE_TAILLE_MAX = 1024 * 1024
    client.force_login(personas["porteur-adn"])
    reponse = client.post(
        "/mes-dossiers/nouveau/",
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert reponse.status_code == 413
    assert "au plus 1 Mo par envoi" in reponse.content.decode()


def test_corps_trop_volumineux_api_en_json(api, db, settings):
    settings.REQUETE_TAILLE_MAX = 1024
    reponse = api.generic(
        "POST", "/api/v1/regions/", b"{}", "application/json", CONTENT_LENGTH="999999"
    )
    assert reponse.status_code == 413
    assert reponse.json()["code"] == "requete_trop_volumineuse"


def test_corps_raisonnable_accepte(client, db, settings):
    settings.REQUETE_TAILLE_MAX = 1024 * 1024
    assert client.post("/connexion/", {"username": "x", "password": "y"}).status_code == 200


def test_reglages_de_taille():
    assert reglages.REQUETE_TAILLE_MAX > reglages.PIECE_JOINTE_TAILLE_MAX
    assert reglages.DATA_UPLOAD_MAX_MEMORY_SIZE < reglages.REQUETE_TAILLE_MAX
