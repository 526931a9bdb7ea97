"""Shared fixtures: a tiny territorial world and the programme's personas.

World:
- régions 84 (ARA) and 76 (Occitanie); départements 07, 26 (84), 30 (76);
- territory `adn` (pilot 84): EPCI seated in 07 and in 26;
- territory `ales` (pilot 76): one EPCI seated in 30;
- territory `interregional` (pilot 76): one EPCI in 30 and one in 26 (two régions);
- EPCI `epci_07` has a commune in 26 too (seat in another département than a commune).
"""

import pytest

from territoires.models import Habilitation

from . import factories as f


@pytest.fixture(autouse=True)
def _reglages_de_test(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Two-factor authentication is on by default without DEBUG: tests that need it say so.
    settings.DOUBLE_AUTHENTIFICATION = False
    # The in-memory cache outlives a test: start each one empty.
    from django.core.cache import cache

    cache.clear()


# A public address (outside every reserved range) for the test names under `.example`:
# the machine has no DNS, and the webhook guard (commun/reseau.py) resolves every host.
ADRESSE_PUBLIQUE_FACTICE = "93.184.215.14"


@pytest.fixture(autouse=True)
def _dns_factice(monkeypatch):
    from commun import reseau

    vrai = reseau.resoudre

    def resoudre(hote, port):
        if hote == "example" or hote.endswith(".example"):
            return [ADRESSE_PUBLIQUE_FACTICE]
        return vrai(hote, port)

    monkeypatch.setattr(reseau, "resoudre", resoudre)


@pytest.fixture
def monde(db):
    ara = f.RegionFactory(code="84", nom="Auvergne-Rhône-Alpes")
    occ = f.RegionFactory(code="76", nom="Occitanie")
    d07 = f.DepartementFactory(code="07", nom="Ardèche", region=ara)
    d26 = f.DepartementFactory(code="26", nom="Drôme", region=ara)
    d30 = f.DepartementFactory(code="30", nom="Gard", region=occ)
    phase = f.PhaseFactory()
    axes = [
        f.AxeFactory(phase=phase, code="foncier", nom="Foncier industriel"),
        f.AxeFactory(phase=phase, code="competences", nom="Compétences"),
    ]
    epci_07 = f.IntercommunaliteFactory(nom="CA Annonay Rhône Agglo", departement=d07)
    epci_26 = f.IntercommunaliteFactory(nom="CC Porte de DrômArdèche", departement=d26)
    epci_30 = f.IntercommunaliteFactory(nom="Alès Agglomération", departement=d30)
    epci_30b = f.IntercommunaliteFactory(nom="CA du Gard rhodanien", departement=d30)
    commune_07 = f.CommuneFactory(code_insee="07010", nom="Annonay", epci=epci_07)
    commune_07_en_26 = f.CommuneFactory(
        code_insee="26001", nom="Commune drômoise", epci=epci_07, departement=d26
    )
    commune_26 = f.CommuneFactory(code_insee="26002", nom="Saint-Vallier", epci=epci_26)
    commune_30 = f.CommuneFactory(code_insee="30007", nom="Alès", epci=epci_30)
    adn = f.TerritoireFactory(nom="Ardèche-Drôme Nord", region_pilote=ara, epcis=[epci_07, epci_26])
    ales = f.TerritoireFactory(nom="Bassin d'Alès", region_pilote=occ, epcis=[epci_30])
    interregional = f.TerritoireFactory(
        nom="Interrégional", region_pilote=occ, epcis=[epci_30b, epci_26]
    )
    return {
        "ara": ara,
        "occ": occ,
        "d07": d07,
        "d26": d26,
        "d30": d30,
        "phase": phase,
        "axes": axes,
        "epci_07": epci_07,
        "epci_26": epci_26,
        "epci_30": epci_30,
        "epci_30b": epci_30b,
        "commune_07": commune_07,
        "commune_07_en_26": commune_07_en_26,
        "commune_26": commune_26,
        "commune_30": commune_30,
        "adn": adn,
        "ales": ales,
        "interregional": interregional,
    }


@pytest.fixture
def personas(monde):
    """The demo roles, on the tiny world."""
    A = Habilitation
    return {
        "national": f.utilisateur(
            "national", role="agent", echelon="national", niveau=A.Niveau.ADMINISTRATEUR
        ),
        "region-ara": f.utilisateur(
            "region-ara", role="agent", echelon="region", regions=[monde["ara"]]
        ),
        "region-occitanie": f.utilisateur(
            "region-occitanie", role="agent", echelon="region", regions=[monde["occ"]]
        ),
        "prefecture-07": f.utilisateur(
            "prefecture-07",
            role="agent",
            echelon="departement",
            niveau=A.Niveau.LECTEUR,
            departements=[monde["d07"]],
        ),
        "porteur-adn": f.utilisateur(
            "porteur-adn", role="porteur", echelon="territoire", territoires=[monde["adn"]]
        ),
        "porteur-ales": f.utilisateur(
            "porteur-ales", role="porteur", echelon="territoire", territoires=[monde["ales"]]
        ),
        "partenaire-bpi": f.utilisateur(
            "partenaire-bpi", role="partenaire", echelon="national", niveau=A.Niveau.LECTEUR
        ),
    }


@pytest.fixture
def projet_adn(monde, personas):
    """A complete draft dossier of Ardèche-Drôme Nord with one attachment."""
    from demo.donnees import pdf_factice
    from projets import services

    porteur = personas["porteur-adn"]
    projet = services.projet_creer(
        user=porteur,
        territoire=monde["adn"],
        phase=monde["phase"],
        axes=monde["axes"][:1],
        titre="Extension de l'atelier",
        description="Nouvelle ligne de production.",
        nature="extension",
        porteur_raison_sociale="Ateliers du Vivarais",
        porteur_siret="73282932000074",
        porteur_taille="PME",
        commune=monde["commune_07"],
        montant_investissement="1000000.00",
        aide_demandee="200000.00",
        emplois_crees=12,
        emplois_maintenus=40,
        date_debut_prevue="2026-03-01",
    )
    services.piece_jointe_ajouter(
        projet=projet, user=porteur, fichier=pdf_factice("devis"), type="devis"
    )
    return projet


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests skip with a reason on SQLite."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="nécessite PostgreSQL (DATABASE_URL=postgres://…)")
    for item in items:
        if "postgresql" in item.keywords:
            item.add_marker(skip)
