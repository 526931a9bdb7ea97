# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""CSV exports of the lists and the SCDL « subventions » open-data file."""

import csv
import io

from django.http import StreamingHttpResponse

from api.scdl import COLONNES_SCDL

from .api_outils import (  # noqa: F401
    _api_sans_quota_partage,
    api,
    donnees_api,
    emettre,
    entete,
)


def lire_csv(reponse):
    assert isinstance(reponse, StreamingHttpResponse)
    texte = b"".join(reponse.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(texte)))


def verifier_licence(reponse):
    assert reponse["X-Licence"] == "Licence Ouverte / Open Licence 2.0"
    assert 'rel="license"' in reponse["Link"]
    assert reponse["X-Genere-Le"][:4].isdigit()
    assert reponse["Content-Disposition"].startswith("attachment; filename=")


def test_export_csv_des_projets_suit_les_filtres(api, donnees_api):
    reponse = api.get("/api/v1/projets/?format=csv&region=84")
    assert reponse.status_code == 200
    assert reponse["Content-Type"] == "text/csv; charset=utf-8"
    verifier_licence(reponse)
    lignes = lire_csv(reponse)
    assert [ligne["reference"] for ligne in lignes] == [donnees_api["retenu"].reference]
    assert lignes[0]["axes"] == "2023-2027-foncier"
    assert lignes[0]["montant_investissement"] == "1000000.00"
    assert lignes[0]["zone_zrr"] == "true"


def test_export_csv_ignore_la_pagination(api, donnees_api):
    lignes = lire_csv(api.get("/api/v1/aides/?format=csv&page_size=1"))
    assert len(lignes) == 3


def test_export_csv_aplatit_les_objets_imbriques(api, donnees_api, monde):
    lignes = lire_csv(api.get("/api/v1/territoires/?format=csv"))
    adn = next(ligne for ligne in lignes if ligne["slug"] == monde["adn"].slug)
    assert adn["binome_elu_nom"] == "Simon Plénet"
    assert monde["epci_07"].siren in adn["composition"]
    dispositif = lire_csv(api.get("/api/v1/dispositifs/?format=csv"))[0]
    assert dispositif["operateur_nom"] == "Bpifrance"


def test_export_csv_avec_jeton_complet(api, donnees_api, personas):
    _, secret = emettre(personas, personas["region-ara"])
    lignes = lire_csv(api.get("/api/v1/projets/?format=csv", **entete(secret)))
    assert len(lignes) == 3
    assert {ligne["contact_email"] for ligne in lignes} == {"jeanne.secret@example.org", ""}


def test_erreur_en_json_meme_en_csv(api, donnees_api):
    reponse = api.get("/api/v1/projets/?format=csv&statut=inconnu")
    assert reponse.status_code == 400
    assert reponse.json()["erreurs"]["statut"]


def test_chaque_liste_s_exporte_en_csv(api, donnees_api, personas):
    _, secret = emettre(personas, personas["partenaire-bpi"])
    for ressource in (
        "regions",
        "departements",
        "intercommunalites",
        "communes",
        "phases",
        "axes",
        "territoires",
        "projets",
        "dispositifs",
        "enveloppes",
        "aides",
        "versements",
    ):
        reponse = api.get(f"/api/v1/{ressource}/?format=csv", **entete(secret))
        assert reponse.status_code == 200, ressource
        assert lire_csv(reponse), ressource


def test_fichier_scdl_subventions(api, donnees_api):
    reponse = api.get("/api/v1/opendata/subventions.csv")
    assert reponse.status_code == 200
    verifier_licence(reponse)
    texte = b"".join(reponse.streaming_content).decode("utf-8")
    assert texte.splitlines()[0] == ",".join(COLONNES_SCDL)
    lignes = list(csv.DictReader(io.StringIO(texte)))
    # Only the signed subsidy above 23 000 €: the engaged advance (neither signed nor a
    # subsidy) and the settled one (20 000 €) are not published.
    assert len(lignes) == 1
    retenu = donnees_api["retenu"]
    assert lignes[0] == {
        "nomAttribuant": "Bpifrance",
        "idAttribuant": "50735154000014",
        "dateConvention": "2026-03-01",
        "referenceDecision": "DEC-2026-001",
        "nomBeneficiaire": retenu.porteur_raison_sociale,
        "idBeneficiaire": retenu.porteur_siret,
        "rnaBeneficiaire": "",
        "objet": "Extension de l'atelier",
        "montant": "50000.00",
        "nature": "aide en numéraire",
        "conditionsVersement": "échelonné",
        "datesPeriodeVersement": "2026-04-01/2026-09-01",
        "idRAE": "",
        "notificationUE": "oui",
        "pourcentageSubvention": "1.00",
        "dispositifAide": "FR-FAIIT",
    }


def test_scdl_versement_unique_et_seuil(api, donnees_api):
    from decimal import Decimal

    from financements.models import Aide

    soldee = donnees_api["soldee"]
    Aide.objects.filter(pk=soldee.pk).update(montant=Decimal("23000.01"))
    lignes = lire_csv(api.get("/api/v1/opendata/subventions.csv"))
    ligne = next(ligne for ligne in lignes if ligne["dateConvention"] == "2025-06-01")
    assert ligne["montant"] == "23000.01"
    assert ligne["conditionsVersement"] == "unique"
    assert ligne["datesPeriodeVersement"] == "2025-07-01"
    assert ligne["referenceDecision"] == ""


def test_export_complet_journalise_donnees_ouvertes_non(api, donnees_api, personas):
    from comptes.models import EvenementAudit

    b"".join(api.get("/api/v1/projets/?format=csv").streaming_content)
    assert not EvenementAudit.objects.filter(type="export").exists()
    jeton, secret = emettre(personas, personas["region-ara"])
    b"".join(api.get("/api/v1/aides/?format=csv", **entete(secret)).streaming_content)
    evenement = EvenementAudit.objects.get(type="export")
    assert evenement.details == {"ressource": "aides", "format": "csv"}
    assert evenement.user == jeton.user
