"""PostgreSQL stopped under load, then restarted: 503 in French, recovery without
restarting gunicorn, every confirmed write whole (projets/resilience.py)."""

import glob
import os
import shutil

import pytest

from outils.resilience import scenario

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.skipif(
        not glob.glob("/usr/lib/postgresql/*/bin/initdb") and not shutil.which("initdb"),
        reason="binaires du serveur PostgreSQL (initdb, pg_ctl) absents",
    ),
    pytest.mark.skipif(
        os.geteuid() == 0 and not shutil.which("runuser"),
        reason="runuser requis pour lancer PostgreSQL en tant que postgres",
    ),
]


def test_panne_de_base_sous_charge_puis_reprise():
    resume = scenario(avant=4, panne=6, reprise=8, connexions=8, port=8161, sortie=print)
    compteurs = resume["compteurs"]

    def nombre(phase, type_, statut):
        return compteurs.get(f"{phase} {type_} {statut}", 0)

    # No server error in any phase: a lost database is a 503, never a 500.
    assert not [cle for cle in compteurs if cle.endswith(" 500")], compteurs
    assert nombre("avant", "lecture", 200) > 0
    assert nombre("panne", "lecture", 503) > 0
    assert "momentanément indisponible" in resume["exemple_503_api"]  # JSON
    assert "Service momentanément indisponible" in resume["exemple_503_page"]  # page
    # Recovery by itself: pages and writes succeed again, same gunicorn.
    assert nombre("reprise", "lecture", 200) > 0
    assert nombre("reprise", "écriture", 302) > 0
    # Writes: every confirmed dossier is there, whole, once.
    assert resume["confirmes_absents"] == []
    assert resume["sans_historique"] == 0
    assert resume["doublons"] == 0
    assert resume["dossiers_en_base"] >= resume["ecritures_confirmees"] > 0
