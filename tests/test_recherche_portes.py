# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""The one search through the back-office changelists and the API (`?q=`), and the
API's refusal of unknown query parameters."""

import pytest

from .api_outils import (  # noqa: F401
    _api_sans_quota_partage,
    api,
    donnees_api,
    emettre,
    entete,
    resultats,
)


def test_api_q_accents_et_public(api, donnees_api):
    # « fonderie d'ales » without accent finds the public dossier in progress.
    reponse = api.get("/api/v1/projets/", {"q": "fonderie d'ales"})
    assert reponse.status_code == 200
    assert resultats(reponse, "reference") == [donnees_api["en_cours"].reference]
    # The draft is outside the open data, even by its exact reference.
    reponse = api.get("/api/v1/projets/", {"q": donnees_api["brouillon"].reference})
    assert resultats(reponse, "reference") == []


def test_api_q_identifiant_et_perimetre(api, donnees_api, personas):
    _, secret = emettre(personas, personas["region-occitanie"])
    retenu = donnees_api["retenu"]
    # Full token of Occitanie: the Ardèche dossier stays out of reach.
    reponse = api.get("/api/v1/projets/", {"q": retenu.reference}, **entete(secret))
    assert resultats(reponse, "reference") == []
    reponse = api.get("/api/v1/projets/", {"q": "projet instruction"}, **entete(secret))
    assert resultats(reponse, "reference") == [donnees_api["instruction"].reference]
    # Anonymous: the retained dossier by its reference, in lower case.
    reponse = api.get("/api/v1/projets/", {"q": retenu.reference.lower()})
    assert resultats(reponse, "reference") == [retenu.reference]


def test_api_q_territoires_et_aides(api, donnees_api, monde):
    reponse = api.get("/api/v1/territoires/", {"q": "annonay"})  # a commune of its EPCI
    assert resultats(reponse, "slug") == [monde["adn"].slug]
    reponse = api.get("/api/v1/territoires/", {"q": "annonay", "phase": monde["phase"].code})
    assert resultats(reponse, "slug") == [monde["adn"].slug]
    reponse = api.get("/api/v1/aides/", {"q": "DEC-2026-001", "statut": "conventionnee"})
    assert resultats(reponse, "identifiant") == [str(donnees_api["conventionnee"].uuid)]


@pytest.mark.parametrize(
    "parametres",
    [{"search": "mécanique"}, {"regon": "84"}, {"q": "x", "pge": "2"}],
)
def test_api_parametre_inconnu_400_en_francais(api, donnees_api, parametres):
    reponse = api.get("/api/v1/projets/", parametres)
    assert reponse.status_code == 400
    inconnu = next(cle for cle in parametres if cle not in {"q"})
    assert "Paramètre inconnu" in reponse.json()["erreurs"][inconnu][0]


@pytest.mark.parametrize(
    "parametres",
    [
        {"page": "1", "page_size": "10"},
        {"pagination": "curseur"},
        {"format": "json"},
        {"ordering": "-titre"},
        {"q": "atelier", "region": "84", "statut": "retenu"},
    ],
)
def test_api_parametres_connus_acceptes(api, donnees_api, parametres):
    assert api.get("/api/v1/projets/", parametres).status_code == 200


def test_api_detail_parametre_inconnu(api, donnees_api):
    reference = donnees_api["retenu"].reference
    assert api.get(f"/api/v1/projets/{reference}/", {"format": "json"}).status_code == 200
    assert api.get(f"/api/v1/projets/{reference}/", {"page": "2"}).status_code == 400


def test_schema_documente_q(api, db):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    parametres = {p["name"]: p for p in schema["paths"]["/api/v1/projets/"]["get"]["parameters"]}
    assert "Recherche en français" in parametres["q"]["description"]


def test_admin_recherche_francaise_dans_le_perimetre(client, donnees_api, personas):
    client.force_login(personas["region-ara"])
    reponse = client.get("/admin/projets/projet/", {"q": "PROJET REFUSE"})
    assert reponse.status_code == 200
    trouves = list(reponse.context["cl"].result_list)
    assert trouves == [donnees_api["refuse"]]
    # An Occitanie dossier is out of the ARA officer's perimeter, even by reference.
    reponse = client.get("/admin/projets/projet/", {"q": donnees_api["en_cours"].reference})
    assert list(reponse.context["cl"].result_list) == []
    # National: the reference jumps to the one dossier.
    client.force_login(personas["national"])
    reponse = client.get("/admin/projets/projet/", {"q": donnees_api["en_cours"].reference})
    assert list(reponse.context["cl"].result_list) == [donnees_api["en_cours"]]


def test_admin_territoires_et_autocompletion(client, donnees_api, personas, monde):
    client.force_login(personas["national"])
    reponse = client.get("/admin/territoires/territoire/", {"q": "ales"})
    assert list(reponse.context["cl"].result_list) == [monde["ales"]]
    reponse = client.get(
        "/admin/autocomplete/",
        {
            "term": "drome nord",
            "app_label": "projets",
            "model_name": "projet",
            "field_name": "territoire",
        },
    )
    assert reponse.status_code == 200
    assert [r["text"] for r in reponse.json()["results"]] == ["Ardèche-Drôme Nord"]


def test_admin_classement_par_pertinence(client, monde, personas):
    from . import factories as f

    dans_description = f.ProjetFactory(
        territoire=monde["adn"], titre="Atelier", description="Près d'une fonderie."
    )
    dans_titre = f.ProjetFactory(
        territoire=monde["adn"], titre="Fonderie d'aluminium", description="Autre."
    )
    client.force_login(personas["national"])
    reponse = client.get("/admin/projets/projet/", {"q": "fonderie"})
    assert list(reponse.context["cl"].result_list) == [dans_titre, dans_description]
    # A chosen column wins over relevance (column 1 = reference, ascending).
    reponse = client.get("/admin/projets/projet/", {"q": "fonderie", "o": "1"})
    assert list(reponse.context["cl"].result_list) == [dans_description, dans_titre]
