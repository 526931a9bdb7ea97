# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""The OpenAPI schema: generated without warnings, described in French, and honoured by
the API under a property-based run (schemathesis)."""

import pytest
import schemathesis
import yaml
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .api_outils import _api_sans_quota_partage, api, donnees_api, emettre  # noqa: F401

EXEMPLES_PAR_OPERATION = 12


@pytest.fixture
def schema_yaml(tmp_path, db):
    fichier = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(fichier))
    return yaml.safe_load(fichier.read_text())


def test_schema_genere_sans_avertissement(schema_yaml):
    assert schema_yaml["openapi"].startswith("3.")
    chemins = schema_yaml["paths"]
    for ressource in ("regions", "communes", "territoires", "projets", "enveloppes", "aides"):
        assert f"/api/v1/{ressource}/" in chemins
    assert "/api/v1/opendata/subventions.csv" in chemins


def test_chaque_champ_et_filtre_est_decrit(schema_yaml):
    sans_description = []
    for nom, composant in schema_yaml["components"]["schemas"].items():
        for champ, propriete in composant.get("properties", {}).items():
            if not (propriete.get("description") or propriete.get("allOf")):
                sans_description.append(f"{nom}.{champ}")
    for chemin, operations in schema_yaml["paths"].items():
        for methode, operation in operations.items():
            for parametre in operation.get("parameters", []):
                if not parametre.get("description"):
                    sans_description.append(f"{methode} {chemin} ?{parametre['name']}")
    assert sans_description == []


def test_documentation_servie_localement(api, db):
    for url in ("/api/docs/", "/api/redoc/"):
        page = api.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "/static/drf_spectacular_sidecar/" in html
        assert "cdn." not in html
    assert api.get("/api/schema/").status_code == 200


def _explorer(schema, entetes) -> int:
    """Run every operation of `schema` with generated requests; return the request count."""
    appels = 0
    verifications = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    for resultat in schema.get_all_operations():
        operation = resultat.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXEMPLES_PAR_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def executer(case):
            nonlocal appels
            appels += 1
            case.call_and_validate(headers=entetes, checks=verifications)

        executer()
    return appels


@pytest.fixture
def application_wsgi():
    """Django's WSGI handler without the per-request connection closing, as the test client
    does: the test's transaction must survive the requests."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_api_conforme_a_son_schema_sous_requetes_generees(donnees_api, personas, application_wsgi):
    """Anonymous then with a full-access token: no 5xx, documented statuses and content
    types, bodies matching the schema."""
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application_wsgi)
    _, secret = emettre(personas, personas["region-ara"])
    appels = _explorer(schema, {})
    appels += _explorer(schema, {"Authorization": f"Bearer {secret}"})
    print(f"schemathesis : {appels} requêtes générées")
    assert appels >= 500
