"""Content-Security-Policy: the header on every kind of page, and templates that need no
inline script, style or event handler to work under it."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

RACINE = Path(settings.BASE_DIR)
GABARITS = sorted(
    chemin
    for motif in ("templates/**/*.html", "*/templates/**/*.html")
    for chemin in RACINE.glob(motif)
    if not chemin.is_relative_to(RACINE / ".venv")
)

DIRECTIVES_ATTENDUES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
    "report-uri": "/csp/rapport/",
}

BALISE_SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
GESTIONNAIRE = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
BALISE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)


def directives(entete: str) -> dict[str, str]:
    resultat = {}
    for partie in entete.split(";"):
        nom, _, valeur = partie.strip().partition(" ")
        resultat[nom] = valeur
    return resultat


@pytest.mark.parametrize(
    "url", ["/", "/territoires/", "/connexion/", "/admin/login/", "/api/docs/", "/api/v1/"]
)
def test_entete_sur_chaque_page(client, db, url):
    reponse = client.get(url)
    assert reponse.status_code == 200
    assert directives(reponse["Content-Security-Policy"]) == DIRECTIVES_ATTENDUES


def test_aucune_exception_pour_le_script(client, db):
    """No inline script nor eval anywhere, the Redoc page included (only its styles are
    relaxed)."""
    for url in ("/", "/api/redoc/"):
        politique = client.get(url)["Content-Security-Policy"]
        script = directives(politique)["script-src"]
        assert script == "'self'", url
        assert "unsafe" not in script


def test_swagger_charge_son_script_depuis_un_fichier(client, db):
    page = client.get("/api/docs/").content.decode()
    assert '<script src="/api/docs/?script=">' in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_proconnect_autorise_comme_cible_de_formulaire():
    """Logging out posts a form that redirects to ProConnect's end-session endpoint."""
    import importlib
    import os
    from unittest import mock

    from config import settings as module

    adresse = "https://auth.proconnect.example/api/v2/.well-known/openid-configuration"
    with mock.patch.dict(os.environ, {"PROCONNECT_DISCOVERY_URL": adresse}):
        recharge = importlib.reload(module)
        cibles = recharge.CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"]
    importlib.reload(module)
    assert cibles == ["'self'", "https://auth.proconnect.example"]


@override_settings(DEBUG=False)
def test_entete_en_production(client, db):
    reponse = client.get("/")
    assert "script-src 'self'" in reponse["Content-Security-Policy"]


def test_des_gabarits_sont_analyses():
    noms = {chemin.relative_to(RACINE).as_posix() for chemin in GABARITS}
    assert "templates/base.html" in noms
    assert "templates/portail/accueil.html" in noms
    assert "api/templates/api/swagger_ui.html" in noms


@pytest.mark.parametrize("gabarit", GABARITS, ids=lambda chemin: str(chemin.relative_to(RACINE)))
def test_gabarit_sans_code_en_ligne(gabarit):
    texte = gabarit.read_text(encoding="utf-8")
    for attributs in BALISE_SCRIPT.findall(texte):
        assert re.search(r"\ssrc\s*=", attributs) or 'type="application/json"' in attributs, (
            f"script en ligne : <script{attributs}>"
        )
    assert not GESTIONNAIRE.search(texte), "gestionnaire d'événement en ligne (on…=)"
    assert "javascript:" not in texte.lower()
    assert not BALISE_STYLE.search(texte), "style en ligne (<style> ou style=)"


RAPPORT = {
    "csp-report": {
        "document-uri": "https://territoires.example/territoires/",
        "violated-directive": "script-src-elem",
        "blocked-uri": "https://malveillant.example/x.js",
        "source-file": "https://territoires.example/territoires/",
        "line-number": 12,
    }
}


def test_rapport_de_violation_journalise(client, caplog):
    """A browser's report (no CSRF token, csp-report type) is logged as one JSON line."""
    import json

    client.handler.enforce_csrf_checks = True
    with caplog.at_level("WARNING", logger="csp"):
        reponse = client.post(
            "/csp/rapport/", json.dumps(RAPPORT), content_type="application/csp-report"
        )
    assert reponse.status_code == 204
    ligne = json.loads(caplog.records[-1].getMessage())["violation_csp"]
    assert ligne == {
        "page": "https://territoires.example/territoires/",
        "directive": "script-src-elem",
        "bloque": "https://malveillant.example/x.js",
        "fichier": "https://territoires.example/territoires/",
        "ligne": "12",
    }


def test_rapport_format_reporting_api(client, caplog):
    import json

    rapport = [{"type": "csp-violation", "body": {"documentURL": "https://t.example/"}}]
    with caplog.at_level("WARNING", logger="csp"):
        reponse = client.post(
            "/csp/rapport/", json.dumps(rapport), content_type="application/reports+json"
        )
    assert reponse.status_code == 204
    assert "https://t.example/" in caplog.records[-1].getMessage()


@pytest.mark.parametrize(
    ("corps", "statut"),
    [("pas du json", 400), ("[1, 2]", 400), ('{"csp-report": "x"}', 400), ("x" * 20000, 413)],
)
def test_rapport_invalide_refuse(client, caplog, corps, statut):
    with caplog.at_level("WARNING", logger="csp"):
        reponse = client.post("/csp/rapport/", corps, content_type="application/csp-report")
    assert reponse.status_code == statut
    assert not [r for r in caplog.records if r.name == "csp"]


def test_rapport_en_get_refuse(client):
    assert client.get("/csp/rapport/").status_code == 405


def test_rapports_desactivables():
    import os
    import subprocess
    import sys

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; "
        "django.setup(); from django.conf import settings; "
        "print('report-uri' in settings.CONTENT_SECURITY_POLICY['DIRECTIVES'])"
    )
    resultat = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "CSP_RAPPORT_URL": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    assert resultat.stdout.strip() == "False"
