# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""`manage.py bench` runs end to end and prints the lines tools read."""

import re

import pytest

from outils.bench import ENDPOINTS, mesurer

from .api_outils import _api_sans_quota_partage, donnees_api  # noqa: F401


@pytest.mark.postgresql
def test_bench_imprime_tableau_et_ratios(donnees_api):
    lignes = []
    mesurer(repetitions=2, sortie=lignes.append)
    texte = "\n".join(lignes)
    for endpoint in ENDPOINTS:
        assert re.search(rf"^ratio API/floor {endpoint}: \d+\.\d\d$", texte, re.M), endpoint
    assert re.search(r"^export CSV des aides : \d+ lignes", texte, re.M)
    assert "statistiques (à chaud)" in texte


@pytest.mark.postgresql
def test_bench_scdl_contre_copy(donnees_api):
    """Issue 17: the SCDL file's rows/s and its ratio to a plain COPY of the same rows."""
    lignes = []
    mesurer(repetitions=2, sortie=lignes.append)
    texte = "\n".join(lignes)
    assert re.search(r"^export SCDL subventions : 1 lignes, [\d,]+ lignes/s$", texte, re.M)
    assert re.search(r"ratio SCDL/COPY \d+\.\d\d$", texte, re.M)
