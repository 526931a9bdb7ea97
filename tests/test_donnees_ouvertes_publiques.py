# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""Every anonymous figure comes from the public set (Aide.objects.publiques): aid of a
dossier that is no longer public leaves the dispositif totals, the territory page,
the home page and the statistics together with the public aid list."""

from datetime import date
from decimal import Decimal as D

import pytest

from financements import services
from financements.models import Aide
from projets import services as projets_services

from . import factories as f
from .api_outils import _api_sans_quota_partage, api  # noqa: F401
from .test_financements import proposer, retenir

pytestmark = pytest.mark.django_db


@pytest.fixture
def deux_dossiers_finances(monde, personas):
    """Two retained dossiers of ADN with engaged aid and a payment each; the second is
    then abandoned by its lead (no longer public)."""
    agent = personas["region-ara"]
    dispositif = f.DispositifFactory(code="fonds-test", montant_national=D("10000000"))
    enveloppe = f.EnveloppeFactory(dispositif=dispositif, region=monde["ara"], montant="1000000")
    projets = []
    for montant in ("100000", "900000"):
        projet = retenir(
            f.ProjetFactory(
                territoire=monde["adn"],
                phase=monde["phase"],
                commune=monde["commune_07"],
                montant_investissement=D("2000000"),
                aide_demandee=D(montant),
            ),
            personas,
        )
        aide = proposer(enveloppe, projet, personas, montant)
        services.aide_engager(user=agent, aide=aide)
        services.versement_enregistrer(
            user=agent, aide=aide, montant="1000", date_versement=date(2026, 2, 1)
        )
        projets.append(projet)
    projets_services.projet_transitionner(
        projet=projets[1],
        transition="abandonner",
        user=personas["porteur-adn"],
        commentaire="Projet arrêté.",
    )
    # A funded dossier's abandonment is a request the officer settles (issue 16): the aid
    # is resiliated to what was paid (1,000 € to recover), then the dossier is abandoned.
    services.projet_abandon_regler(
        user=agent,
        projet=projets[1],
        date_ordre_reversement=date(2026, 2, 2),
        commentaire="Ordre de reversement émis.",
    )
    projets[1].refresh_from_db()
    assert projets[1].statut == "abandonne"
    return dispositif


def test_totaux_des_dispositifs_sur_les_seuls_dossiers_publics(api, deux_dossiers_finances):
    """Failed before the fix: the API's dispositif totals still counted the 900,000 €
    of the abandoned dossier, which the public aid list left out."""
    publiques = api.get("/api/v1/aides/").json()["results"]
    assert [a["montant"] for a in publiques] == ["100000.00"]
    detail = api.get("/api/v1/dispositifs/fonds-test/").json()
    assert (detail["montant_engage"], detail["montant_verse"]) == ("100000.00", "1000.00")
    (ligne,) = api.get("/api/v1/dispositifs/").json()["results"]
    assert (ligne["montant_engage"], ligne["montant_verse"]) == ("100000.00", "1000.00")
    programme = api.get("/api/v1/statistiques/").json()["programme"]
    assert (programme["aide_engagee"], programme["aide_versee"]) == ("100000.00", "1000.00")


def test_page_du_territoire_et_accueil(client, monde, deux_dossiers_finances):
    """Failed before the fix: the territory page added the abandoned dossier's aid."""
    page = client.get(f"/territoires/{monde['adn'].slug}/")
    assert page.context["territoire"].montant_engage == D("100000.00")
    assert page.context["territoire"].montant_verse == D("1000.00")
    accueil = client.get("/")
    assert accueil.context["chiffres"]["aide_publique"] == D("100000.00")


def test_le_back_office_garde_tous_les_montants(client, personas, deux_dossiers_finances):
    from financements.models import Dispositif

    assert Aide.objects.engagees().count() == 2
    tous = Dispositif.objects.avec_totaux().get()
    assert tous.montant_engage == D("101000.00")  # the resiliated aid: what was paid
    publics = Dispositif.objects.avec_totaux_publics().get()
    assert publics.montant_engage == D("100000.00")
