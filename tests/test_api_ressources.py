# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""Resources, official identifiers, filters, pagination, conditional GET and JSON errors."""

import pytest

from .api_outils import (  # noqa: F401
    _api_sans_quota_partage,
    api,
    donnees_api,
    emettre,
    entete,
    resultats,
)


def test_details_par_identifiants_officiels(api, donnees_api, monde):
    assert api.get("/api/v1/regions/84/").json()["nom"] == "Auvergne-Rhône-Alpes"
    assert api.get("/api/v1/departements/07/").json()["region"] == "84"
    epci = monde["epci_07"]
    assert api.get(f"/api/v1/intercommunalites/{epci.siren}/").json()["departement"] == "07"
    assert api.get("/api/v1/communes/07010/").json()["epci"] == epci.siren
    assert api.get("/api/v1/phases/2023-2027/").status_code == 200
    assert api.get("/api/v1/axes/2023-2027-foncier/").json()["nom"] == "Foncier industriel"
    assert api.get("/api/v1/dispositifs/fonds-acceleration/").json()["operateur"]["sigle"] == (
        "Bpi"
    )
    reference = donnees_api["retenu"].reference
    projet = api.get(f"/api/v1/projets/{reference}/").json()
    assert projet["axes"] == ["2023-2027-foncier"]
    assert projet["region"] == "84"
    assert projet["departement"] == "07"
    assert projet["aide_engagee"] == "50000.00"
    assert projet["aide_versee"] == "30000.00"
    aide = donnees_api["conventionnee"]
    detail = api.get(f"/api/v1/aides/{aide.uuid}/").json()
    assert detail["enveloppe"] == "fonds-acceleration-84-2026"
    assert detail["montant_verse"] == "30000.00"
    assert detail["projet"] == reference


def test_territoire_par_slug_ou_identifiant_anct(api, donnees_api, monde):
    adn = monde["adn"]
    adn.id_anct = "ti-8413"
    adn.save()
    par_slug = api.get(f"/api/v1/territoires/{adn.slug}/").json()
    assert api.get("/api/v1/territoires/ti-8413/").json() == par_slug
    assert par_slug["binome"]["elu_nom"] == "Simon Plénet"
    assert par_slug["labellisations"] == [
        {
            "phase": "2023-2027",
            "date": "2023-11-09",
            "date_sortie": None,
            "composition": "inconnue",
            "departements": [],
            "successeur": None,
        }
    ]
    assert {c["siren"] for c in par_slug["composition"]} == {
        monde["epci_07"].siren,
        monde["epci_26"].siren,
    }
    assert api.get(f"/api/v1/territoires/{monde['ales'].slug}/").json()["binome"] is None


def test_enveloppe_par_identifiant_avec_consommation(api, donnees_api, personas):
    _, secret = emettre(personas, personas["partenaire-bpi"])
    env = api.get("/api/v1/enveloppes/fonds-acceleration-84-2026/", **entete(secret)).json()
    assert env["montant"] == "1000000.00"
    assert env["montant_propose"] == "10000.00"
    assert env["montant_engage"] == "50000.00"
    assert env["montant_verse"] == "30000.00"
    assert env["montant_disponible"] == "950000.00"
    assert env["taux_consommation"] == "5.0"
    assert api.get("/api/v1/enveloppes/inconnu-84-2026/", **entete(secret)).status_code == 404


@pytest.mark.parametrize(
    ("parametres", "attendus"),
    [
        ("region=84", ["retenu"]),
        ("region=76", ["en_cours"]),
        ("departement=30", ["en_cours"]),
        ("territoire={ales}", ["en_cours"]),
        ("statut=retenu&statut=en_cours", ["en_cours", "retenu"]),
        ("axe=2023-2027-competences", ["en_cours"]),
        ("dispositif=fonds-acceleration", ["en_cours", "retenu"]),
        ("operateur=Bpifrance", ["en_cours", "retenu"]),
        ("zone_fragile=true", ["retenu"]),
        ("zone=zrr", ["retenu"]),
        ("zone_fragile=false", ["en_cours"]),
        ("q=fonderie", ["en_cours"]),
        ("investissement_min=1000000&investissement_max=1000000", ["en_cours", "retenu"]),
        ("investissement_min=1000000.01", []),
        ("modifie_depuis=2000-01-01T00:00:00Z", ["en_cours", "retenu"]),
        ("modifie_depuis=2999-01-01T00:00:00%2B01:00", []),
        ("phase=2023-2027", ["en_cours", "retenu"]),
    ],
)
def test_filtres_des_projets(api, donnees_api, monde, parametres, attendus):
    reponse = api.get(f"/api/v1/projets/?{parametres.format(ales=monde['ales'].slug)}")
    assert reponse.status_code == 200, reponse.json()
    assert sorted(resultats(reponse, "statut")) == attendus


@pytest.mark.parametrize(
    ("parametres", "attendus"),
    [
        ("region=76", ["20000.00", "30000.00"]),
        ("statut=conventionnee", ["50000.00"]),
        ("nature=avance_remboursable", ["30000.00"]),
        ("montant_min=25000", ["30000.00", "50000.00"]),
        ("convention_apres=2026-01-01", ["50000.00"]),
        ("q=DEC-2026", ["50000.00"]),
        ("ordering=-montant", ["50000.00", "30000.00", "20000.00"]),
    ],
)
def test_filtres_des_aides(api, donnees_api, parametres, attendus):
    montants = resultats(api.get(f"/api/v1/aides/?{parametres}"), "montant")
    if "ordering" not in parametres:
        montants.sort()
    assert montants == attendus


def test_filtres_des_referentiels(api, donnees_api, monde):
    assert resultats(api.get("/api/v1/departements/?region=76"), "code") == ["30"]
    sirens = resultats(
        api.get(f"/api/v1/intercommunalites/?territoire={monde['adn'].slug}"), "siren"
    )
    assert sorted(sirens) == sorted([monde["epci_07"].siren, monde["epci_26"].siren])
    from territoires.models import Commune

    communes = resultats(api.get("/api/v1/communes/?departement=30"), "code_insee")
    assert "30007" in communes
    assert sorted(communes) == sorted(
        Commune.objects.filter(departement="30").values_list("code_insee", flat=True)
    )
    territoires = resultats(api.get("/api/v1/territoires/?departement=26"), "slug")
    assert sorted(territoires) == sorted([monde["adn"].slug, monde["interregional"].slug])
    territoires = resultats(api.get("/api/v1/territoires/?region=84"), "slug")
    # Interrégional is piloted by Occitanie but has an EPCI seated in the Drôme.
    assert sorted(territoires) == sorted([monde["adn"].slug, monde["interregional"].slug])
    assert resultats(api.get("/api/v1/axes/?phase=2023-2027"), "code") == ["foncier", "competences"]


@pytest.mark.parametrize(
    "parametres",
    [
        "statut=inconnu",
        "region=99",
        "departement=xx",
        "decide_apres=2026-13-45",
        "modifie_depuis=hier",
        "investissement_min=abc",
        "investissement_min=-5",
        "investissement_min=1e400",
        "ordering=contact_email",
        "pagination=toutes",
        "zone=zfu",
        "q=%00",
    ],
)
def test_parametres_invalides_400_en_francais(api, donnees_api, parametres):
    reponse = api.get(f"/api/v1/projets/?{parametres}")
    assert reponse.status_code == 400
    corps = reponse.json()
    assert corps["detail"] == "Paramètres invalides."
    assert corps["erreurs"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/projets/?page=999",
        "/api/v1/projets/?page=abc",
        "/api/v1/projets/TI-00-0000-00000/",
        "/api/v1/aides/00000000-0000-0000-0000-000000000000/",
        "/api/v1/aides/pas-un-uuid/",
        "/api/v1/inconnu/",
        "/api/v2/projets/",
        "/api/v1/projets/?pagination=curseur&curseur=n-importe-quoi",
    ],
)
def test_introuvable_404_en_json(api, donnees_api, url):
    reponse = api.get(url)
    assert reponse.status_code == 404
    assert reponse["Content-Type"].startswith("application/json")
    assert reponse.json()["detail"]


def test_pagination_par_pages_plafonnee(api, donnees_api):
    reponse = api.get("/api/v1/projets/?page_size=1").json()
    assert reponse["count"] == 2
    assert len(reponse["results"]) == 1
    assert "page=2" in reponse["next"]
    from territoires.models import Commune

    Commune.objects.bulk_create(
        Commune(code_insee=f"30{n:03d}", nom=f"Commune {n}", departement_id="30")
        for n in range(100, 620)
    )
    assert len(api.get("/api/v1/communes/?page_size=100000").json()["results"]) == 500


def test_pagination_par_curseur_parcourt_tout_dans_l_ordre(api, donnees_api, personas):
    _, secret = emettre(personas, personas["partenaire-bpi"])
    url = "/api/v1/projets/?pagination=curseur&page_size=2&ordering=-titre"
    vus = []
    while url:
        page = api.get(url, **entete(secret)).json()
        assert page["count"] is None
        vus += [p["reference"] for p in page["results"]]
        url = page["next"]
    assert len(vus) == 5
    assert vus == sorted(vus)


def test_get_conditionnel_etag_et_last_modified(api, donnees_api):
    url = f"/api/v1/projets/{donnees_api['retenu'].reference}/"
    reponse = api.get(url)
    etag, modifie = reponse["ETag"], reponse["Last-Modified"]
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert api.get(url, HTTP_IF_MODIFIED_SINCE=modifie).status_code == 304
    assert api.get(url, HTTP_IF_NONE_MATCH='"autre"').status_code == 200
    # Any change of the dossier gives a new ETag.
    from projets.models import Projet

    Projet.objects.filter(pk=donnees_api["retenu"].pk).update(titre="Nouvel intitulé")
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200
    # Reference data has an ETag too.
    etag_region = api.get("/api/v1/regions/84/")["ETag"]
    assert api.get("/api/v1/regions/84/", HTTP_IF_NONE_MATCH=etag_region).status_code == 304


def test_l_etag_depend_du_niveau_d_acces(api, donnees_api, personas):
    url = f"/api/v1/projets/{donnees_api['retenu'].reference}/"
    etag_public = api.get(url)["ETag"]
    _, secret = emettre(personas, personas["partenaire-bpi"])
    reponse = api.get(url, HTTP_IF_NONE_MATCH=etag_public, **entete(secret))
    assert reponse.status_code == 200
    assert "contact_nom" in reponse.json()
    assert "Authorization" in reponse["Vary"]


def test_statistiques_du_programme(api, donnees_api, monde):
    stats = api.get("/api/v1/statistiques/").json()
    programme = stats["programme"]
    assert programme["nombre_territoires"] == 3
    assert programme["nombre_projets"] == 2  # retained and in progress only
    assert programme["investissement"] == "2000000.00"
    assert programme["aide_engagee"] == "100000.00"  # 50 000 + 30 000 + 20 000
    assert programme["aide_versee"] == "50000.00"
    regions = {r["region"]: r for r in stats["par_region"]}
    assert regions["84"]["aide_engagee"] == "50000.00"
    assert regions["76"]["nombre_projets"] == 1
    assert regions["76"]["nombre_territoires"] == 2
    axes = {a["axe"]: a for a in stats["par_axe"]}
    assert axes["2023-2027-competences"]["aide_engagee"] == "50000.00"
    assert axes["2023-2027-foncier"]["nombre_projets"] == 1
    phase = stats["par_phase"][0]
    # The three territories of the test world are labelled for 2023-2027 (factory).
    assert (phase["phase"], phase["nombre_territoires"], phase["nombre_projets"]) == (
        "2023-2027",
        3,
        2,
    )
    territoires = {t["territoire"]: t for t in stats["par_territoire"]}
    assert territoires[monde["adn"].slug]["aide_versee"] == "30000.00"
    assert territoires[monde["interregional"].slug]["nombre_projets"] == 0
