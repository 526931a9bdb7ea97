# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""Issue 17: one figures module (financements.chiffres); portal, API and back-office
dashboard give the same numbers."""

from decimal import Decimal

from django.core.cache import cache

from financements.chiffres import chiffres_programme
from projets.models import Projet

from .api_outils import _api_sans_quota_partage, api, donnees_api  # noqa: F401


def test_chiffres_par_phase_dispositif_et_zone_fragile(donnees_api):
    chiffres = chiffres_programme()
    programme = chiffres["programme"]
    # Public dossiers: the retained one and the one in progress.
    assert programme["nombre_projets"] == 2
    # Engaged aid (conventionnée 50,000 + engagée 30,000 + soldée 20,000); signed: 70,000.
    assert programme["aide_engagee"] == Decimal("100000.00")
    assert programme["aide_signee"] == Decimal("70000.00")
    Projet.objects.filter(pk=donnees_api["retenu"].pk).update(zone_qpv=True)
    Projet.objects.filter(pk=donnees_api["en_cours"].pk).update(
        zone_qpv=False, zone_zrr=False, zone_frr=False, zone_afr=False, zone_acv=False
    )
    assert chiffres_programme()["programme"]["part_zone_fragile"] == 50.0
    par_dispositif = {d["dispositif"]: d for d in chiffres["par_dispositif"]}
    assert sum(d["nombre_projets"] for d in par_dispositif.values()) >= 2
    assert sum(d["aide_engagee"] for d in par_dispositif.values()) == Decimal("100000.00")
    assert "région du dossier" in chiffres["definition_region"]


def test_portail_api_et_tableau_de_bord_concordent(api, client, donnees_api, personas):
    cache.clear()
    attendu = chiffres_programme()["programme"]
    statistiques = api.get("/api/v1/statistiques/").json()
    assert statistiques["programme"]["nombre_projets"] == attendu["nombre_projets"]
    assert Decimal(statistiques["programme"]["aide_signee"]) == attendu["aide_signee"]
    assert statistiques["programme"]["part_zone_fragile"] == attendu["part_zone_fragile"]
    accueil = client.get("/")
    portail = accueil.context["chiffres"]
    assert portail["dossiers_retenus"] == attendu["nombre_projets"]
    assert portail["investissement"] == attendu["investissement"]
    assert portail["aide_signee"] == attendu["aide_signee"]
    assert portail["part_zone_fragile"] == attendu["part_zone_fragile"]
    assert [p["nombre_projets"] for p in portail["par_phase"]] == [
        p["nombre_projets"] for p in statistiques["par_phase"]
    ]
    client.force_login(personas["national"])
    tableau = client.get("/admin/").context["chiffres_programme"]
    assert tableau["programme"] == attendu
    assert [d["aide_signee"] for d in tableau["par_dispositif"]] == [
        Decimal(d["aide_signee"]) for d in statistiques["par_dispositif"]
    ]


def test_page_du_territoire_et_api_concordent(api, client, donnees_api, monde):
    cache.clear()
    territoire = monde["adn"]
    page = client.get(f"/territoires/{territoire.slug}/")
    assert page.status_code == 200
    chiffres = page.context["chiffres"]
    (ligne,) = [
        t
        for t in api.get("/api/v1/statistiques/").json()["par_territoire"]
        if t["territoire"] == territoire.slug
    ]
    assert chiffres["nombre_projets"] == ligne["nombre_projets"] == 1
    assert chiffres["aide_signee"] == Decimal(ligne["aide_signee"]) == Decimal("50000.00")
    assert chiffres["investissement"] == Decimal(ligne["investissement"])


def test_un_dossier_compte_une_fois_par_dispositif(donnees_api):
    """A second aid of the same dispositif on a dossier adds its amount, not the
    dossier's investment, jobs or count a second time."""
    from financements.models import Aide

    from . import factories as f

    conventionnee = donnees_api["conventionnee"]
    code = conventionnee.enveloppe.dispositif.code

    def ligne():
        (resultat,) = [d for d in chiffres_programme()["par_dispositif"] if d["dispositif"] == code]
        return resultat

    avant = ligne()
    seconde = f.AideFactory(
        enveloppe=conventionnee.enveloppe, projet=conventionnee.projet, montant=Decimal("5000")
    )
    Aide.objects.filter(pk=seconde.pk).update(statut="engagee")
    apres = ligne()
    for mesure in ("nombre_projets", "investissement", "emplois_crees", "part_zone_fragile"):
        assert apres[mesure] == avant[mesure], mesure
    assert apres["aide_engagee"] == avant["aide_engagee"] + Decimal("5000.00")
    assert avant["investissement"] >= conventionnee.projet.montant_investissement > 0
