# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""The changes feed `/api/v1/changements/`: order, cursor, tombstones (a dossier leaving
the public set, an aid cancelled), scope by token level and perimeter."""

import pytest

from financements import services as financements_services
from projets import services as projets_services

from . import factories as f
from .api_outils import _api_sans_quota_partage, api, emettre, entete  # noqa: F401

ADRESSE = "/api/v1/changements/"


def _tout(api, **entetes):
    """Every entry, following the cursor page by page (2 per page)."""
    entrees, curseur = [], None
    for _ in range(50):
        params = {"page_size": 2, **({"curseur": curseur} if curseur else {})}
        reponse = api.get(ADRESSE, params, **entetes)
        assert reponse.status_code == 200, reponse.json()
        corps = reponse.json()
        entrees += corps["results"]
        curseur = corps["curseur"]
        if corps["next"] is None:
            return entrees, curseur
    raise AssertionError("le curseur ne s'arrête pas")


@pytest.fixture
def vie(monde, personas, projet_adn):
    """A dossier retained, funded, then its aid cancelled and the dossier abandoned."""
    agent, porteur = personas["region-ara"], personas["porteur-adn"]
    for nom in ("deposer", "instruire", "retenir"):
        acteur = porteur if nom == "deposer" else agent
        projets_services.projet_transitionner(
            projet=projet_adn, transition=nom, user=acteur, commentaire="ok"
        )
    enveloppe = financements_services.enveloppe_allouer(
        user=personas["national"],
        dispositif=f.DispositifFactory(phase=monde["phase"]),
        region=monde["ara"],
        annee=2026,
        montant="1000000",
    )
    aide = financements_services.aide_proposer(
        user=agent, enveloppe=enveloppe, projet=projet_adn, montant="100000", nature="subvention"
    )
    financements_services.aide_engager(user=agent, aide=aide)
    return {"projet": projet_adn, "aide": aide, "enveloppe": enveloppe}


def test_donnees_ouvertes_avec_pierres_tombales(api, vie, personas):
    projet, aide = vie["projet"], vie["aide"]
    avant, curseur = _tout(api)
    evenements = [(e["ressource"], e["evenement"]) for e in avant]
    # Drafts and deposits are not open data: the dossier enters when retained.
    assert evenements == [("projet", "creation"), ("aide", "creation")]
    assert avant[0]["identifiant"] == projet.reference
    assert avant[0]["adresse"] == f"/api/v1/projets/{projet.reference}/"
    assert avant[1]["identifiant"] == str(aide.uuid)

    financements_services.aide_annuler(user=personas["region-ara"], aide=aide, motif="Réduit")
    projets_services.projet_transitionner(
        projet=projet, transition="abandonner", user=personas["porteur-adn"], commentaire="Fin"
    )
    reponse = api.get(ADRESSE, {"curseur": curseur})
    suite = reponse.json()["results"]
    assert [(e["ressource"], e["evenement"], e["adresse"]) for e in suite] == [
        ("aide", "annulation", None),
        ("projet", "sortie", None),
    ]
    # Polling again from the last cursor: nothing new, the cursor stays usable.
    corps = api.get(ADRESSE, {"curseur": reponse.json()["curseur"]}).json()
    assert corps["results"] == [] and corps["curseur"] == reponse.json()["curseur"]


def test_ordre_strict_et_pages_sans_doublon(api, vie):
    entrees, _ = _tout(api)
    dates = [e["date"] for e in entrees]
    assert dates == sorted(dates)
    complet = api.get(ADRESSE, {"page_size": 100}).json()["results"]
    assert entrees == complet


def test_acces_complet_dans_le_perimetre(api, vie, personas, monde):
    _, secret_ara = emettre(personas, personas["region-ara"])
    entrees, _ = _tout(api, **entete(secret_ara))
    ressources = {e["ressource"] for e in entrees}
    # Full access: the draft's creation and each step, the envelope too.
    assert {"projet", "aide", "enveloppe"} <= ressources
    assert sum(1 for e in entrees if e["ressource"] == "projet") >= 4
    # Occitanie sees nothing of an Ardèche dossier, even its creation.
    _, secret_occ = emettre(personas, personas["region-occitanie"])
    entrees_occ, _ = _tout(api, **entete(secret_occ))
    assert all(e["identifiant"] != vie["projet"].reference for e in entrees_occ)
    assert all(e["ressource"] != "aide" for e in entrees_occ)


def test_depuis(api, vie):
    reponse = api.get(ADRESSE, {"depuis": "2999-01-01T00:00:00Z"})
    assert reponse.status_code == 200 and reponse.json()["results"] == []


@pytest.mark.parametrize(
    ("parametres", "cle"),
    [
        ({"curseur": "n'importe quoi"}, "curseur"),
        ({"depuis": "hier"}, "depuis"),
        ({"depuis": "2026-01-01T00:00:00"}, "depuis"),  # no time zone
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "abc"}, "page_size"),
        ({"modifie_depuis": "2026-01-01"}, "modifie_depuis"),
    ],
)
def test_parametres_invalides_400(api, db, parametres, cle):
    reponse = api.get(ADRESSE, parametres)
    assert reponse.status_code == 400
    assert cle in reponse.json()["erreurs"]
