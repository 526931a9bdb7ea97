# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""Issue 15, item 1: no export lets a spreadsheet evaluate text typed by a user.

One list of hostile values (tests/hostiles.py) typed as a dossier's title, company name,
contact and decision reference, checked on every writer: back-office CSV and XLSX
(direct and deferred), API CSV (anonymous and full access, Python path and PostgreSQL
COPY path, lists and detail), SCDL open-data file.
"""

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib import admin
from django.db.models import F, Value
from openpyxl import load_workbook

from commun.tableur import CARACTERES_FORMULE, NeutraliserSQL, est_formule, neutraliser
from comptes.models import ExportDiffere
from financements.models import Aide
from territoires.models import Region

from . import factories as f
from .api_outils import (  # noqa: F401
    _api_sans_quota_partage,
    api,
    avec_statut,
    emettre,
    entete,
)
from .hostiles import DANGEREUX, FORMULES, LEGITIMES, neutralise


@pytest.fixture
def hostiles(monde):
    """One retained dossier per hostile value (title, company, contact), each with a
    conventionnée aid of 30,000 € whose decision reference is the same value."""
    operateur = f.OperateurFactory(nom="Bpifrance", siret="50735154000014")
    dispositif = f.DispositifFactory(operateur=operateur, id_dispositif_scdl="FR-FAIIT")
    enveloppe = f.EnveloppeFactory(dispositif=dispositif, region=monde["ara"], annee=2026)
    projets = []
    for valeur in DANGEREUX:
        projet = f.ProjetFactory(
            territoire=monde["adn"],
            phase=monde["phase"],
            commune=monde["commune_07"],
            complet=False,
            titre=valeur,
            porteur_raison_sociale=valeur,
            contact_nom=valeur,
        )
        avec_statut(projet, "retenu")
        aide = f.AideFactory(enveloppe=enveloppe, projet=projet, montant=Decimal("30000.00"))
        Aide.objects.filter(pk=aide.pk).update(
            statut="conventionnee",
            reference_decision=valeur,
            date_decision=date(2026, 2, 1),
            date_convention=date(2026, 3, 1),
            # The convention's schedule: a signed subsidy is published with it (issue 17).
            versement_modalite="unique",
            versement_debut=date(2026, 4, 1),
        )
        projets.append(projet)
    return projets


def _contenu(reponse) -> bytes:
    if getattr(reponse, "streaming", False):
        return b"".join(reponse.streaming_content)
    return reponse.content


def _lignes_csv(contenu: bytes, delimiter=",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(contenu.decode("utf-8-sig")), delimiter=delimiter))


def _verifier_csv(lignes: list[list[str]], attendus=DANGEREUX):
    """No cell could be read as a formula; each hostile value is there, neutralised."""
    assert len(lignes) > 1
    cellules = {cellule for ligne in lignes for cellule in ligne}
    formules = sorted(c for c in cellules if est_formule(c))
    assert not formules
    for valeur in attendus:
        assert neutralise(valeur) in cellules, valeur


def _verifier_xlsx(contenu: bytes, attendus=DANGEREUX):
    """No cell is a formula; hostile text is there unchanged, as text, quote-prefixed;
    numbers stay numbers."""
    feuille = load_workbook(io.BytesIO(contenu)).active
    cellules = [cellule for ligne in feuille.iter_rows() for cellule in ligne]
    assert not [c.coordinate for c in cellules if c.data_type == "f"]
    textes = {}
    for cellule in cellules:
        if isinstance(cellule.value, str):
            textes[cellule.value] = cellule
            assert cellule.data_type == "s"
    for valeur in attendus:
        # XML keeps a carriage return as a line feed.
        cellule = textes[valeur.replace("\r", "\n")] if "\r" in valeur else textes[valeur]
        assert cellule.quotePrefix, valeur
    assert any(c.data_type == "n" and isinstance(c.value, int | float) for c in cellules)


# The neutralising function and its SQL twin.


@pytest.mark.parametrize("valeur", DANGEREUX)
def test_neutraliser_prefixe_le_texte_dangereux(valeur):
    assert est_formule(valeur)
    assert neutraliser(valeur) == neutralise(valeur)
    assert not est_formule(neutraliser(valeur))


@pytest.mark.parametrize(
    "valeur", ["", "Usine de Tournon", "2 + 2", "A=1", " =1", "'=1", None, -5, Decimal("-1")]
)
def test_neutraliser_laisse_le_reste(valeur):
    assert neutraliser(valeur) is valeur


@pytest.mark.django_db
@pytest.mark.parametrize("valeur", [*DANGEREUX, "Usine", "", "A=1"])
def test_neutraliser_sql_comme_python(valeur):
    """The SQL expression (PostgreSQL: regexp_replace; elsewhere: CASE) gives the Python
    function's text, from the same list of characters."""
    f.RegionFactory(code="99", nom="Test")
    lu = (
        Region.objects.filter(code="99")
        .annotate(t=NeutraliserSQL(Value(valeur)))
        .values_list("t", flat=True)
        .get()
    )
    assert lu == neutraliser(valeur)


@pytest.mark.django_db
@pytest.mark.parametrize("valeur", [*DANGEREUX, "Usine", "A=1"])
def test_neutraliser_sql_d_une_colonne_comme_python(valeur):
    """On a column PostgreSQL takes a CASE (the column read again costs nothing)."""
    f.RegionFactory(code="99", nom=valeur)
    lu = Region.objects.filter(code="99").annotate(t=NeutraliserSQL(F("nom"))).get().t
    assert lu == neutraliser(valeur)


@pytest.mark.django_db
def test_neutraliser_sql_garde_null():
    f.RegionFactory(code="99", nom="Test")
    lu = Region.objects.annotate(t=NeutraliserSQL(Value(None))).filter(code="99").get().t
    assert lu is None


def test_la_liste_couvre_owasp():
    assert set(CARACTERES_FORMULE) == {"=", "+", "-", "@", "\t", "\r"}
    assert {valeur[0] for valeur in FORMULES} == set(CARACTERES_FORMULE)
    assert LEGITIMES


# Back-office exports (commun.exports), direct and deferred.

EXPORTS_ADMIN = ["/admin/projets/projet/exporter/", "/admin/financements/aide/exporter/"]


@pytest.mark.parametrize("url", EXPORTS_ADMIN)
def test_export_admin_csv_neutralise(client, personas, hostiles, url):
    client.force_login(personas["national"])
    reponse = client.get(f"{url}?format=csv")
    assert reponse.status_code == 200
    _verifier_csv(_lignes_csv(_contenu(reponse), delimiter=";"))


@pytest.mark.parametrize("url", EXPORTS_ADMIN)
def test_export_admin_xlsx_sans_formule(client, personas, hostiles, url):
    client.force_login(personas["national"])
    reponse = client.get(f"{url}?format=xlsx")
    assert reponse.status_code == 200
    _verifier_xlsx(_contenu(reponse))


@pytest.mark.parametrize("format_", ["csv", "xlsx"])
def test_export_differe_neutralise(
    client, personas, hostiles, settings, django_capture_on_commit_callbacks, format_
):
    settings.EXPORT_SEUIL_DIFFERE = 1
    client.force_login(personas["national"])
    with django_capture_on_commit_callbacks(execute=True):
        reponse = client.get(f"/admin/projets/projet/exporter/?format={format_}")
    assert reponse.status_code == 302
    export = ExportDiffere.objects.get()
    assert export.statut == ExportDiffere.Statut.PRET, export.erreur
    with export.fichier.open("rb") as fichier:
        contenu = fichier.read()
    if format_ == "xlsx":
        _verifier_xlsx(contenu)
    else:
        _verifier_csv(_lignes_csv(contenu, delimiter=";"))


def test_aucune_porte_django_import_export():
    """django-import-export is installed but exposes no export: any admin that would use
    its mixins must first neutralise through commun.tableur."""
    from import_export.admin import ExportMixin

    assert not [
        type(model_admin).__name__
        for model_admin in admin.site._registry.values()
        if isinstance(model_admin, ExportMixin)
    ]


# API CSV: lists (Python path, PostgreSQL COPY path), detail, open data.

EXPORTS_API = ["projets", "aides"]


def _api_csv(api, url, **entetes):
    reponse = api.get(url, **entetes)
    assert reponse.status_code == 200, reponse.content[:300]
    return _lignes_csv(_contenu(reponse))


@pytest.fixture
def chemin_python(monkeypatch):
    from api import views

    monkeypatch.setattr(views, "export_copie", lambda *args, **kwargs: None)


@pytest.fixture
def chemin_copie(monkeypatch):
    """COPY … TO STDOUT, and a check that it was the one taken."""
    from api import views

    copies = []
    export_copie = views.export_copie

    def espion(*args, **kwargs):
        reponse = export_copie(*args, **kwargs)
        copies.append(reponse is not None)
        return reponse

    monkeypatch.setattr(views, "export_copie", espion)
    return copies


@pytest.mark.parametrize("ressource", EXPORTS_API)
def test_api_csv_anonyme_neutralise(api, hostiles, chemin_python, ressource):
    # Open data: the title (dossiers), the decision reference (aides).
    _verifier_csv(_api_csv(api, f"/api/v1/{ressource}/?format=csv"))


@pytest.mark.parametrize("ressource", EXPORTS_API)
def test_api_csv_complet_neutralise(api, personas, hostiles, chemin_python, ressource):
    _, secret = emettre(personas, personas["partenaire-bpi"])
    lignes = _api_csv(api, f"/api/v1/{ressource}/?format=csv", **entete(secret))
    _verifier_csv(lignes)
    if ressource == "projets":
        colonne = lignes[0].index("contact_nom")
        assert {ligne[colonne] for ligne in lignes[1:]} >= {neutralise(v) for v in DANGEREUX}


@pytest.mark.postgresql
@pytest.mark.parametrize("complet", [False, True])
@pytest.mark.parametrize("ressource", EXPORTS_API)
def test_api_csv_copie_postgresql_neutralise(
    api, personas, hostiles, chemin_copie, ressource, complet
):
    entetes = {}
    if complet:
        _, secret = emettre(personas, personas["partenaire-bpi"])
        entetes = entete(secret)
    lignes = _api_csv(api, f"/api/v1/{ressource}/?format=csv", **entetes)
    assert chemin_copie == [True]
    _verifier_csv(lignes)


@pytest.mark.postgresql
@pytest.mark.parametrize("ressource", EXPORTS_API)
def test_api_csv_copie_identique_au_chemin_python(
    api, personas, hostiles, monkeypatch, chemin_copie, ressource
):
    from api import views

    _, secret = emettre(personas, personas["partenaire-bpi"])
    url = f"/api/v1/{ressource}/?format=csv"
    par_copie = _contenu(api.get(url, **entete(secret)))
    assert chemin_copie == [True]
    monkeypatch.setattr(views, "export_copie", lambda *args, **kwargs: None)
    par_python = _contenu(api.get(url, **entete(secret)))
    # Parsed: PostgreSQL quotes an empty text ("") where Python writes nothing.
    assert _lignes_csv(par_python) == _lignes_csv(par_copie)


def test_api_csv_detail_neutralise(api, hostiles):
    for projet in hostiles:
        lignes = _api_csv(api, f"/api/v1/projets/{projet.reference}/?format=csv")
        titre = lignes[0].index("titre")
        assert lignes[1][titre] == neutralise(projet.titre)
        _verifier_csv(lignes, [projet.titre])


def test_scdl_subventions_neutralise(api, hostiles):
    lignes = _api_csv(api, "/api/v1/opendata/subventions.csv")
    _verifier_csv(lignes)
    entetes = lignes[0]
    for colonne in ("nomBeneficiaire", "objet", "referenceDecision"):
        i = entetes.index(colonne)
        assert {ligne[i] for ligne in lignes[1:]} == {neutralise(v) for v in DANGEREUX}
    montant = entetes.index("montant")
    assert {ligne[montant] for ligne in lignes[1:]} == {"30000.00"}


def test_chaque_ecrivain_de_tableur_passe_par_commun_tableur(settings):
    """A new CSV or XLSX writer in the portal's code must use commun.tableur."""
    racine = Path(settings.BASE_DIR)
    ecrivains = re.compile(r"csv\.(writer|DictWriter)\(|Workbook\(|COPY \(")
    modules = [
        chemin
        for chemin in racine.glob("*/**/*.py")
        # outils/: measurement floors (bench), never a file served to anyone.
        if chemin.relative_to(racine).parts[0] not in {".venv", "tests", "node_modules", "outils"}
        and ecrivains.search(chemin.read_text(encoding="utf-8"))
    ]
    assert {str(m.relative_to(racine)) for m in modules} >= {
        "commun/exports.py",
        "api/exports.py",
        "api/copie.py",
    }
    for module in modules:
        assert "tableur" in module.read_text(encoding="utf-8"), module
