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


def _labelliser_2018_2022(monde):
    """The first phase's territories of the demo régions, as the known-territories file
    declares them: Bassin d'Alès (30, both phases) and Nord Ardèche et Boutières (07)."""
    from territoires.models import Labellisation, Phase, Territoire

    phase = Phase.objects.get(code="2018-2022")
    nab = Territoire.objects.create(nom="Nord Ardèche et Boutières", region_pilote=monde["ara"])
    for territoire, departement in ((monde["ales"], monde["d30"]), (nab, monde["d07"])):
        label = Labellisation.objects.create(
            territoire=territoire, phase=phase, date=phase.date_debut
        )
        label.departements.add(departement)


def test_demo_idempotente_et_complete(monde, settings):
    settings.DEBUG = True
    importer_phases_axes()
    importer_dispositifs()
    _labelliser_2018_2022(monde)
    call_command("demo")
    avant = _comptes()
    # 60 dossiers of 2023-2027, 3 of 2018-2022 per demo région (Fonds d'accélération).
    assert avant[0] == 66
    assert Projet.objects.filter(phase__code="2018-2022").count() == 6
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


def test_demo_respecte_les_regles_du_programme(monde, settings):
    """Issue 16: no demo aid breaks a programme rule."""
    from collections import defaultdict
    from decimal import Decimal

    from financements.regles import avis_favorable, cumul_de_minimis, date_octroi

    settings.DEBUG = True
    monde["adn"].laureat_rebond_industriel = True
    monde["adn"].save()
    importer_phases_axes()
    importer_dispositifs()
    _labelliser_2018_2022(monde)
    call_command("demo")
    aides = Aide.objects.exclude(statut="annulee").select_related(
        "enveloppe__dispositif", "projet__territoire", "attribuant"
    )
    par_territoire = defaultdict(Decimal)
    for aide in aides:
        dispositif = aide.enveloppe.dispositif
        assert aide.projet.phase_id == dispositif.phase_id, aide
        if dispositif.code == "rebond-industriel":
            assert aide.projet.territoire.laureat_rebond_industriel, aide
            assert aide.enveloppe.territoire_id == aide.projet.territoire_id, aide
            par_territoire[aide.projet.territoire_id] += aide.montant
        if dispositif.revue_favorable_requise:
            assert avis_favorable(aide.projet), aide
        if dispositif.regime_aide == "de_minimis":
            total, _ = cumul_de_minimis(aide.projet.porteur_siret[:9], date_octroi(aide))
            assert total <= Decimal("300000"), aide
    assert par_territoire and max(par_territoire.values()) <= Decimal("2000000")
    assert aides.filter(enveloppe__dispositif__code="fonds-acceleration").exists()
    # Co-financing: the Région grants an aid on a Fonds d'accélération dossier.
    assert aides.filter(attribuant__type="region").exists()
    # One settled abandonment with its recovery order; no live aid on a closed dossier.
    resiliee = Aide.objects.get(statut="resiliee")
    assert resiliee.projet.statut == "abandonne"
    assert resiliee.montant_a_reverser > 0 and resiliee.date_ordre_reversement
    assert not Aide.objects.filter(
        statut__in=Aide.STATUTS_VIVANTS, projet__statut__in=["abandonne", "refuse", "sans_suite"]
    ).exists()
