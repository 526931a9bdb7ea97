# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""Every list runs a constant number of SQL queries whatever the page size."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commun.cache_donnees import invalider
from financements.models import Aide, Dispositif, Enveloppe, Versement
from projets.models import Projet
from territoires.models import (
    Axe,
    Binome,
    Commune,
    CompositionTerritoire,
    Intercommunalite,
    Labellisation,
    Territoire,
)

from . import factories as f
from .api_outils import _api_sans_quota_partage, api, emettre, entete  # noqa: F401

N = 200


@pytest.fixture
def volume(monde, personas):
    """N rows of every resource (bulk inserts: the API only reads them)."""
    phase, ara = monde["phase"], monde["ara"]
    epcis = Intercommunalite.objects.bulk_create(
        Intercommunalite(
            siren=f.siren_valide(5000 + n), nom=f"EPCI {n}", nature="CC", departement=monde["d07"]
        )
        for n in range(N)
    )
    Commune.objects.bulk_create(
        Commune(
            code_insee=f"07{n + 300:03d}",
            nom=f"Commune {n}",
            departement=monde["d07"],
            epci=epcis[n],
        )
        for n in range(N)
    )
    axes = Axe.objects.bulk_create(
        Axe(phase=phase, code=f"axe-{n}", nom=f"Axe {n}", ordre=n) for n in range(N)
    )
    territoires = Territoire.objects.bulk_create(
        Territoire(nom=f"Territoire {n}", slug=f"territoire-{n}", region_pilote=ara)
        for n in range(N)
    )
    CompositionTerritoire.objects.bulk_create(
        CompositionTerritoire(territoire=t, phase=phase, epci=epcis[n])
        for n, t in enumerate(territoires)
    )
    Labellisation.objects.bulk_create(
        Labellisation(territoire=t, phase=phase, date=date(2023, 11, 9)) for t in territoires
    )
    Binome.objects.bulk_create(
        Binome(
            territoire=t,
            elu_nom="Élu",
            elu_mandat="Maire",
            industriel_nom="Industriel",
            industriel_entreprise="Usine",
            date_debut=date(2024, 1, 1),
        )
        for t in territoires
    )
    projets = Projet.objects.bulk_create(
        Projet(
            reference=f"TI-84-2030-{n:05d}",
            titre=f"Projet {n}",
            territoire=monde["adn"],
            phase=phase,
            statut="retenu",
            deposant=personas["porteur-adn"],
            commune=monde["commune_07"],
            montant_investissement=Decimal("1000000"),
        )
        for n in range(N)
    )
    Projet.axes.through.objects.bulk_create(
        Projet.axes.through(projet=p, axe=axes[n]) for n, p in enumerate(projets)
    )
    operateur = f.OperateurFactory()
    dispositifs = Dispositif.objects.bulk_create(
        Dispositif(
            nom=f"Dispositif {n}",
            code=f"dispositif-{n}",
            operateur=operateur,
            phase=phase,
            natures=["subvention"],
            montant_national=Decimal("1000000"),
            date_debut=date(2024, 1, 1),
        )
        for n in range(N)
    )
    enveloppes = Enveloppe.objects.bulk_create(
        Enveloppe(dispositif=d, region=ara, annee=2026, montant=Decimal("500000"))
        for d in dispositifs
    )
    aides = Aide.objects.bulk_create(
        Aide(
            enveloppe=enveloppes[n],
            projet=p,
            montant=Decimal("100000"),
            nature="subvention",
            statut="conventionnee",
            date_convention=date(2026, 1, 1),
        )
        for n, p in enumerate(projets)
    )
    Versement.objects.bulk_create(
        Versement(aide=a, montant=Decimal("50000"), date=date(2026, 2, 1)) for a in aides
    )
    Enveloppe.objects.recalculer_totaux()


# Queries with a `complet` token: 1 token (+ its user and habilitation), 1 count, 1 page,
# plus what the comment says.
RESSOURCES = [
    ("regions", 3),
    ("departements", 3),
    ("intercommunalites", 3),
    ("communes", 3),
    ("phases", 3),
    ("axes", 3),
    ("territoires", 7),  # + compositions, labels, their declared départements, binômes
    ("projets", 5),  # + perimeter (Territoire.objects.visibles_par), axes
    ("dispositifs", 4),  # + national totals of the page (cached until a write)
    ("enveloppes", 5),  # + the page's aid and payment sums, grouped
    ("aides", 4),  # + perimeter
    ("versements", 4),  # + perimeter
]


def requetes(api, url, **kwargs):
    with CaptureQueriesContext(connection) as contexte:
        reponse = api.get(url, **kwargs)
    assert reponse.status_code == 200, reponse.content[:300]
    return len(contexte), len(reponse.json()["results"])


@pytest.mark.parametrize(("ressource", "maximum"), RESSOURCES)
def test_nombre_de_requetes_constant(
    api, volume, personas, django_assert_max_num_queries, ressource, maximum
):
    """The same count for 10 and for 200 rows: nothing is fetched per row."""
    _, secret = emettre(personas, personas["region-ara"])
    api.get("/api/v1/phases/", **entete(secret))  # records the token's last use once
    mesures = {}
    for taille in (10, 200):
        url = f"/api/v1/{ressource}/?page_size={taille}"
        invalider()  # counts are cached until the next write: count both times
        with django_assert_max_num_queries(maximum):
            mesures[taille] = requetes(api, url, **entete(secret))
    assert mesures[10][0] == mesures[200][0]
    if ressource not in ("regions", "departements", "phases"):
        assert (mesures[10][1], mesures[200][1]) == (10, 200)


@pytest.mark.parametrize("ressource", ["projets", "aides", "versements", "territoires"])
def test_nombre_de_requetes_constant_anonyme(api, volume, django_assert_max_num_queries, ressource):
    mesures = []
    for taille in (10, 200):
        invalider()
        # Territories read their labels' declared départements too.
        with django_assert_max_num_queries(6 if ressource == "territoires" else 5):
            mesures.append(requetes(api, f"/api/v1/{ressource}/?page_size={taille}")[0])
    assert mesures[0] == mesures[1]


def test_export_csv_en_flux_constant(api, volume, django_assert_max_num_queries):
    """The CSV export reads by chunks of 500 rows: 200 dossiers in one chunk."""
    with django_assert_max_num_queries(3):  # dossiers, their axes
        reponse = api.get("/api/v1/projets/?format=csv")
        lignes = b"".join(reponse.streaming_content).decode().splitlines()
    assert len(lignes) == 1 + N


def test_statistiques_en_requetes_constantes(api, volume, django_assert_max_num_queries):
    # 22 as before issue 17, plus the figures per dispositif (financements.chiffres):
    # aid grouped by dispositif, payments grouped by dispositif, the dispositifs.
    with django_assert_max_num_queries(25):
        assert api.get("/api/v1/statistiques/").status_code == 200


def test_compte_en_cache_jusqu_a_la_prochaine_ecriture(api, volume):
    """The page count is kept until a write on what is counted; the rows never are."""
    premiere = api.get("/api/v1/aides/?page_size=1").json()
    nombre_requetes, _ = requetes(api, "/api/v1/aides/?page_size=1")
    invalider()
    assert requetes(api, "/api/v1/aides/?page_size=1")[0] == nombre_requetes + 1
    aide = Aide.objects.filter(statut__in=Aide.STATUTS_ENGAGES).first()
    aide.statut = Aide.Statut.ANNULEE
    aide.save()  # post_save: new data version, counted again
    apres = api.get("/api/v1/aides/?page_size=1").json()
    assert apres["count"] == premiere["count"] - 1
