# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""The fast list path (api.rapide) gives exactly what the serializers give on detail."""

import csv
import io
import json

import pytest

from api.rapide import RenduJSON

from .api_outils import (  # noqa: F401
    _api_sans_quota_partage,
    api,
    donnees_api,
    emettre,
    entete,
)

# Resource → key of its detail URL in a list item.
RESSOURCES = {
    "regions": "code",
    "departements": "code",
    "intercommunalites": "siren",
    "communes": "code_insee",
    "phases": "code",
    "axes": "identifiant",
    "territoires": "slug",
    "projets": "reference",
    "dispositifs": "code",
    "enveloppes": "identifiant",
    "aides": "identifiant",
    "versements": "identifiant",
}


def _comparer(api, ressource, cle, **entetes):
    liste = api.get(f"/api/v1/{ressource}/?page_size=500", **entetes)
    assert liste.status_code == 200
    elements = liste.json()["results"]
    assert elements, ressource
    for element in elements:
        detail = api.get(f"/api/v1/{ressource}/{element[cle]}/", **entetes)
        assert detail.status_code == 200, (ressource, element[cle])
        assert element == detail.json(), (ressource, element[cle])
    return elements


@pytest.mark.parametrize("ressource", RESSOURCES)
def test_liste_identique_au_detail_acces_complet(api, donnees_api, personas, ressource):
    _, secret = emettre(personas, personas["partenaire-bpi"])
    _comparer(api, ressource, RESSOURCES[ressource], **entete(secret))


@pytest.mark.parametrize("ressource", ["projets", "aides", "territoires", "versements"])
def test_liste_identique_au_detail_sans_jeton(api, donnees_api, ressource):
    elements = _comparer(api, ressource, RESSOURCES[ressource])
    if ressource == "projets":
        assert "contact_email" not in elements[0]


def test_consommation_des_enveloppes_en_liste(api, donnees_api, personas):
    """The page's grouped sums give avec_consommation's figures (the detail)."""
    _, secret = emettre(personas, personas["partenaire-bpi"])
    enveloppes = {
        e["identifiant"]: e
        for e in api.get("/api/v1/enveloppes/", **entete(secret)).json()["results"]
    }
    ara = enveloppes["fonds-acceleration-84-2026"]
    assert (ara["montant_propose"], ara["montant_engage"], ara["montant_verse"]) == (
        "10000.00",
        "50000.00",
        "30000.00",
    )
    assert (ara["montant_disponible"], ara["taux_consommation"]) == ("950000.00", "5.0")


def test_csv_identique_a_la_liste(api, donnees_api, personas):
    _, secret = emettre(personas, personas["partenaire-bpi"])
    page = api.get("/api/v1/aides/?page_size=500", **entete(secret)).json()["results"]
    reponse = api.get("/api/v1/aides/?format=csv", **entete(secret))
    texte = b"".join(reponse.streaming_content).decode()
    lignes = list(csv.DictReader(io.StringIO(texte)))
    assert [ligne["identifiant"] for ligne in lignes] == [aide["identifiant"] for aide in page]
    for ligne, aide in zip(lignes, page, strict=True):
        assert ligne == {cle: "" if v is None else str(v) for cle, v in aide.items()}


def test_rendu_json_comme_drf():
    """orjson rendering: decimals, dates and lazy strings as DRF's encoder renders them."""
    from datetime import date
    from decimal import Decimal

    from django.utils.translation import gettext_lazy

    donnees = {"montant": Decimal("12.50"), "date": date(2026, 1, 2), "texte": gettext_lazy("a")}
    assert json.loads(RenduJSON().render(donnees)) == {
        "montant": 12.5,
        "date": "2026-01-02",
        "texte": "a",
    }


@pytest.mark.postgresql
@pytest.mark.parametrize("ressource", RESSOURCES)
def test_export_par_postgresql_identique_au_chemin_python(
    api, donnees_api, personas, monkeypatch, ressource
):
    """COPY … TO STDOUT (api.copie) writes the file the Python path writes."""
    from api import views

    _, secret = emettre(personas, personas["partenaire-bpi"])
    url = f"/api/v1/{ressource}/?format=csv"
    copies = []
    export_copie = views.export_copie

    def espion(*args, **kwargs):
        reponse = export_copie(*args, **kwargs)
        copies.append(reponse is not None)
        return reponse

    monkeypatch.setattr(views, "export_copie", espion)
    par_postgresql = b"".join(api.get(url, **entete(secret)).streaming_content).decode()
    monkeypatch.setattr(views, "export_copie", lambda *args, **kwargs: None)
    par_python = b"".join(api.get(url, **entete(secret)).streaming_content).decode()
    lignes_postgresql = list(csv.reader(io.StringIO(par_postgresql)))
    lignes_python = list(csv.reader(io.StringIO(par_python)))
    assert len(lignes_postgresql) == len(lignes_python)
    entetes = lignes_python[0]
    for ligne_pg, ligne_py in zip(lignes_postgresql, lignes_python, strict=True):
        differences = {
            entete: (pg, py)
            for entete, pg, py in zip(entetes, ligne_pg, ligne_py, strict=True)
            if pg != py
        }
        assert not differences
    if ressource in ("projets", "aides", "versements", "communes"):
        assert copies == [True]  # the large ones are written by PostgreSQL


def test_consommation_recalculee_apres_une_ecriture(api, donnees_api, personas):
    from datetime import date
    from decimal import Decimal

    from financements import services
    from financements.models import Aide

    _, secret = emettre(personas, personas["partenaire-bpi"])

    def verse():
        enveloppes = api.get("/api/v1/enveloppes/", **entete(secret)).json()["results"]
        return {e["identifiant"]: e["montant_verse"] for e in enveloppes}

    avant = verse()["fonds-acceleration-84-2026"]
    aide = Aide.objects.get(statut="conventionnee")
    # Through the service, the only writer of money (it moves the maintained totals).
    services.versement_enregistrer(
        user=personas["region-ara"], aide=aide, montant="5000", date_versement=date(2026, 10, 1)
    )
    assert verse()["fonds-acceleration-84-2026"] == f"{Decimal(avant) + 5000:.2f}"


@pytest.mark.postgresql
@pytest.mark.django_db
@pytest.mark.parametrize(
    "horodatage",
    [
        "2026-01-15T09:30:00+00:00",  # winter, no microseconds
        "2026-07-14T22:15:07.000250+00:00",  # summer (+02:00), microseconds
        "2026-03-29T00:59:59.999999+00:00",  # last instant before the spring change
        "2026-10-25T01:00:00+00:00",  # first instant after the autumn change
    ],
)
def test_horodatage_sql_identique_a_drf(horodatage):
    """PostgreSQL writes timestamps exactly as DRF does (site time zone, offset,
    microseconds only when not zero)."""
    from datetime import datetime

    from django.db import connection
    from django.db.models import DateTimeField, Value
    from rest_framework import serializers

    from api.rapide import HorodatageISO
    from territoires.models import Region

    valeur = datetime.fromisoformat(horodatage)
    compilateur = Region.objects.all().query.get_compiler(using="default")
    sql, params = compilateur.compile(HorodatageISO(Value(valeur, output_field=DateTimeField())))
    with connection.cursor() as curseur:
        curseur.execute(f"SELECT {sql}", params)
        texte = curseur.fetchone()[0]
    assert texte == serializers.DateTimeField().to_representation(valeur)


@pytest.mark.parametrize("ressource", RESSOURCES)
@pytest.mark.parametrize("tri", ["", "&ordering=-modifie_le"])
def test_pages_suivantes_identiques_a_la_liste_complete(api, donnees_api, personas, ressource, tri):
    """Pages after the first read their ids first (api.pagination.Paginateur.page): the
    pages put together are the whole list, in the same order, nothing twice."""
    _, secret = emettre(personas, personas["partenaire-bpi"])
    if tri and ressource not in ("territoires", "enveloppes", "aides"):
        tri = ""
    complete = api.get(f"/api/v1/{ressource}/?page_size=500{tri}", **entete(secret)).json()
    tous = complete["results"]
    pages = []
    for numero in range(1, len(tous) // 2 + 2):
        reponse = api.get(f"/api/v1/{ressource}/?page_size=2&page={numero}{tri}", **entete(secret))
        if reponse.status_code == 404:
            break
        assert reponse.status_code == 200
        pages += reponse.json()["results"]
    assert pages == tous


@pytest.mark.parametrize("ressource", ["projets", "aides", "versements"])
def test_page_profonde_sans_sommes_pour_les_lignes_sautees(api, donnees_api, personas, ressource):
    """The OFFSET runs on the filtered rows' ids alone; sums and joins are computed for
    the page's ids only."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _, secret = emettre(personas, personas["partenaire-bpi"])
    with CaptureQueriesContext(connection) as requetes:
        reponse = api.get(f"/api/v1/{ressource}/?page_size=1&page=2", **entete(secret))
    assert reponse.status_code == 200
    avec_offset = [q["sql"] for q in requetes if "OFFSET" in q["sql"]]
    assert len(avec_offset) == 1
    assert "SUM(" not in avec_offset[0].upper()
    assert avec_offset[0].upper().split(" FROM ")[0].count(",") == 0  # the pk alone
