"""The layout stays true: import contracts, one docstring per room, commands in place."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError

RACINE = Path(__file__).resolve().parent.parent
APPLICATIONS = [
    "commun", "territoires", "projets", "financements", "comptes",
    "gestion", "portail", "api", "demo", "outils",
]  # fmt: skip


def test_les_contrats_d_imports_sont_tenus():
    resultat = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=RACINE,
        capture_output=True,
        text=True,
    )
    assert resultat.returncode == 0, resultat.stdout + resultat.stderr
    assert "BROKEN" not in resultat.stdout


@pytest.mark.parametrize("nom", APPLICATIONS)
def test_chaque_application_dit_ce_qu_elle_contient(nom):
    module = importlib.import_module(nom)
    assert module.__doc__ and module.__doc__.strip(), f"{nom}/__init__.py sans docstring"


def test_config_ne_contient_que_le_cablage():
    fichiers = {p.name for p in (RACINE / "config").glob("*.py")}
    assert fichiers <= {
        "__init__.py",
        "settings.py",
        "urls.py",
        "wsgi.py",
        "asgi.py",
        "routeurs.py",
    }


def test_chaque_commande_est_dans_sa_piece():
    commandes = get_commands()
    attendu = {
        "demo": "demo",
        "accueil_demo": "demo",
        "generer_donnees": "outils",
        "bench": "outils",
        "resilience": "outils",
        "purger_exports": "gestion",
        "importer_referentiel": "territoires",
        "importer_territoires": "territoires",
        "importer_dispositifs": "financements",
    }
    assert {nom: commandes[nom] for nom in attendu} == attendu


@pytest.mark.django_db
def test_demo_avant_le_referentiel_dit_quoi_lancer_d_abord(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError) as refus:
        call_command("demo")
    message = str(refus.value)
    assert "make donnees" in message
    assert "importer_referentiel" in message
    from territoires.models import Territoire

    assert not Territoire.objects.exists()
