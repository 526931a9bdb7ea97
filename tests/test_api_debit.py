# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""Quotas per token and per anonymous address: 429 with Retry-After."""

import pytest

from .api_outils import _api_sans_quota_partage, api, emettre, entete  # noqa: F401


@pytest.fixture
def quotas_bas(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "anonyme": "3/minute",
            "jeton": "5/minute",
            "session": "5/minute",
        },
    }


def test_quota_anonyme(api, monde, quotas_bas):
    for _ in range(3):
        assert api.get("/api/v1/regions/").status_code == 200
    reponse = api.get("/api/v1/regions/")
    assert reponse.status_code == 429
    assert 0 < int(reponse["Retry-After"]) <= 60
    assert "réessayez dans" in reponse.json()["detail"]
    # Another address has its own quota.
    assert api.get("/api/v1/regions/", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_quota_par_jeton(api, monde, personas, quotas_bas):
    _, premier = emettre(personas, personas["partenaire-bpi"])
    _, second = emettre(personas, personas["partenaire-bpi"], niveau="opendata")
    for _ in range(5):
        assert api.get("/api/v1/regions/", **entete(premier)).status_code == 200
    reponse = api.get("/api/v1/regions/", **entete(premier))
    assert reponse.status_code == 429
    assert int(reponse["Retry-After"]) > 0
    # The anonymous quota (3) is not the token's, and each token counts apart.
    assert api.get("/api/v1/regions/", **entete(second)).status_code == 200
    assert api.get("/api/v1/regions/").status_code == 200


def test_quota_des_exports(api, monde, quotas_bas):
    for _ in range(3):
        assert api.get("/api/v1/opendata/subventions.csv").status_code == 200
    reponse = api.get("/api/v1/opendata/subventions.csv")
    assert reponse.status_code == 429
    assert reponse["Retry-After"]
