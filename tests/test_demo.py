"""Issue 2-4: the demo loader (on the tiny world, not the full reference data)."""

import pytest
from django.core.management import CommandError, call_command

from financements.importation import importer_dispositifs
from financements.models import Aide, Enveloppe, Versement
from projets.models import Projet, TransitionProjet
from territoires.importation import importer_phases_axes
from territoires.models import Binome, Habilitation


def _comptes():
    return (
        Projet.objects.count(),
        TransitionProjet.objects.count(),
        Aide.objects.count(),
        Versement.objects.count(),
        Enveloppe.objects.count(),
        Binome.objects.count(),
        Habilitation.objects.count(),
    )


def test_demo_refusee_hors_debug(monde, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="jamais créées hors DEBUG"):
        call_command("demo")
    assert Projet.objects.count() == 0


def test_demo_idempotente_et_complete(monde, settings):
    settings.DEBUG = True
    importer_phases_axes()
    importer_dispositifs()
    call_command("demo")
    avant = _comptes()
    assert avant[0] == 60
    statuts = set(Projet.objects.values_list("statut", flat=True))
    assert statuts == {
        "brouillon",
        "depose",
        "en_instruction",
        "a_completer",
        "retenu",
        "refuse",
        "sans_suite",
        "en_cours",
        "realise",
        "abandonne",
    }
    assert set(Aide.objects.values_list("statut", flat=True)) >= {
        "proposee",
        "engagee",
        "conventionnee",
        "soldee",
    }
    taux = max(e.taux_consommation for e in Enveloppe.objects.avec_consommation())
    assert taux >= 90  # an envelope close to full
    call_command("demo")
    assert _comptes() == avant
