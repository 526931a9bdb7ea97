"""Issue 17: the SCDL « subventions » 2.1.1 file — selection rules, refusal report and
validation of the demo file against the vendored schema (frictionless + SIRET check)."""

# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import frictionless
from django.conf import settings
from django.core.management import call_command
from stdnum.fr import siret

from financements.importation import importer_dispositifs
from financements.models import Aide
from territoires.importation import importer_phases_axes

from . import factories as f
from .api_outils import api, avec_statut  # noqa: F401
from .test_api_exports import lire_csv
from .test_demo import _labelliser_2018_2022

SCHEMA = Path(settings.BASE_DIR) / "fixtures" / "scdl" / "subventions-2.1.1" / "schema.json"
URL = "/api/v1/opendata/subventions.csv"


def _aide(montant="50000.00", nature="subvention", statut="conventionnee", **champs):
    """A signed aid written directly (the money service is tested in test_financements)."""
    projet = f.ProjetFactory(complet=False)
    avec_statut(projet, champs.pop("statut_projet", "retenu"))
    valeurs = {
        "date_convention": date(2025, 3, 1),
        "versement_modalite": "unique",
        "versement_debut": date(2025, 4, 1),
        **champs,
    }
    aide = f.AideFactory(projet=projet, montant=Decimal(montant), nature=nature, **valeurs)
    Aide.objects.filter(pk=aide.pk).update(statut=statut)
    aide.refresh_from_db()
    return aide


def _references(api):
    return [ligne["referenceDecision"] for ligne in lire_csv(api.get(URL))]


def test_prets_et_avances_exclus_subventions_publiees(api, monde):
    _aide(reference_decision="SUB", nature="subvention")
    _aide(reference_decision="ING", nature="ingenierie")
    _aide(reference_decision="PRET", nature="pret")
    _aide(reference_decision="AVANCE", nature="avance_remboursable")
    lignes = {ligne["referenceDecision"]: ligne for ligne in lire_csv(api.get(URL))}
    assert set(lignes) == {"SUB", "ING"}
    assert lignes["SUB"]["nature"] == "aide en numéraire"
    assert lignes["ING"]["nature"] == "aide en nature"


def test_seuil_strictement_superieur_a_23000(api, monde):
    _aide("23000.00", reference_decision="EGAL")
    _aide("23000.01", reference_decision="AU-DESSUS")
    assert _references(api) == ["AU-DESSUS"]


def test_non_signee_exclue(api, monde):
    _aide(
        reference_decision="ENGAGEE",
        statut="engagee",
        date_convention=None,
        versement_modalite="",
        versement_debut=None,
    )
    _aide(reference_decision="SOLDEE", statut="soldee")
    assert _references(api) == ["SOLDEE"]


def test_signee_puis_abandonnee_reste_publiee(api, monde):
    """A signed convention stays public: the dossier abandoned, the aid résiliée with the
    paid part kept, the file still shows the amount the convention granted."""
    _aide(
        "40000.00",
        reference_decision="RESILIEE",
        statut="resiliee",
        statut_projet="abandonne",
        montant_libere=Decimal("30000.00"),
        montant_a_reverser=Decimal("0.00"),
        date_ordre_reversement=date(2025, 9, 1),
    )
    (ligne,) = lire_csv(api.get(URL))
    assert ligne["referenceDecision"] == "RESILIEE"
    assert ligne["montant"] == "70000.00"


def test_echeancier_de_la_convention_pas_des_versements(api, monde):
    aide = _aide(
        versement_modalite="echelonne",
        versement_debut=date(2025, 4, 1),
        versement_fin=date(2026, 4, 1),
    )
    aide.versements.create(montant=Decimal("1000.00"), date=date(2025, 4, 2))
    (ligne,) = lire_csv(api.get(URL))
    assert ligne["conditionsVersement"] == "échelonné"
    assert ligne["datesPeriodeVersement"] == "2025-04-01/2026-04-01"
    _aide(reference_decision="UNIQUE")
    unique = next(x for x in lire_csv(api.get(URL)) if x["referenceDecision"] == "UNIQUE")
    assert (unique["conditionsVersement"], unique["datesPeriodeVersement"]) == (
        "unique",
        "2025-04-01",
    )


def test_attribuant_de_l_aide_et_dispositif_scdl(api, monde):
    region = f.OperateurFactory()  # Région Auvergne-Rhône-Alpes, with its SIRET
    aide = _aide(attribuant=region)
    dispositif = aide.enveloppe.dispositif
    dispositif.id_dispositif_scdl = "65d5b6c7-102c-4440-ac3b-768f708edc0a"
    dispositif.save()
    (ligne,) = lire_csv(api.get(URL))
    assert (ligne["nomAttribuant"], ligne["idAttribuant"]) == (region.nom, region.siret)
    assert ligne["dispositifAide"] == "65d5b6c7-102c-4440-ac3b-768f708edc0a"


def test_sans_siret_exclue_et_signalee(api, monde, personas, client):
    sans_siret = f.OperateurFactory(nom="Direction générale des entreprises", siret="")
    aide = _aide(reference_decision="DGE", attribuant=sans_siret)
    _aide(reference_decision="AURA")
    assert _references(api) == ["AURA"]
    assert list(Aide.objects.non_publiables_scdl().values_list("pk", "motif_non_publiable")) == [
        (aide.pk, "SIRET de l'attribuant inconnu")
    ]
    # The national administrators' report in the back-office; not for a regional agent.
    client.force_login(personas["national"])
    page = client.get("/admin/financements/aidenonpubliee/")
    assert page.status_code == 200
    assert "SIRET de l&#x27;attribuant inconnu" in page.content.decode()
    assert aide.projet.reference in page.content.decode()
    client.force_login(personas["region-ara"])
    assert client.get("/admin/financements/aidenonpubliee/").status_code == 403


class SiretValide(frictionless.Check):
    """Custom check: the SIRET columns hold valid SIRETs (Luhn, python-stdnum)."""

    type = "siret-valide"
    Errors = [frictionless.errors.RowConstraintError]

    def validate_row(self, row):
        for champ in ("idAttribuant", "idBeneficiaire"):
            valeur = row[champ]
            if valeur and not siret.is_valid(valeur):
                yield frictionless.errors.RowConstraintError.from_row(
                    row, note=f"{champ} : SIRET invalide ({valeur})"
                )


def valider_scdl(contenu: bytes) -> frictionless.Report:
    ressource = frictionless.Resource(
        data=contenu,
        format="csv",
        encoding="utf-8",
        schema=frictionless.Schema.from_descriptor(json.loads(SCHEMA.read_text())),
    )
    return ressource.validate(checklist=frictionless.Checklist(checks=[SiretValide()]))


def test_la_verification_sait_echouer():
    entete = "nomAttribuant,idAttribuant,dateConvention,referenceDecision,nomBeneficiaire,"
    entete += "idBeneficiaire,rnaBeneficiaire,objet,montant,nature,conditionsVersement,"
    entete += "datesPeriodeVersement,idRAE,notificationUE,pourcentageSubvention,dispositifAide"
    ligne = "État,,2025-01-01,,Ateliers,12345678901234,,Objet,1000.00,prêt,unique,2025,,oui,2,"
    rapport = valider_scdl(f"{entete}\n{ligne}\n".encode())
    types = {type_ for (type_,) in rapport.flatten(["type"])}
    assert not rapport.valid
    assert {"constraint-error", "row-constraint"} <= types


def test_fichier_de_la_demo_valide(api, monde, settings):
    settings.DEBUG = True
    importer_phases_axes()
    importer_dispositifs()
    _labelliser_2018_2022(monde)
    call_command("demo")
    reponse = api.get(URL)
    contenu = b"".join(reponse.streaming_content)
    assert len(contenu.decode().splitlines()) > 1, "fichier vide"
    rapport = valider_scdl(contenu)
    assert rapport.valid, rapport.flatten(["rowNumber", "fieldName", "type", "note"])
    # The demo's Fonds d'accélération aid granted by the DGE (no SIRET sourced) is left
    # out and reported, never written with an empty idAttribuant.
    assert Aide.objects.non_publiables_scdl().exists()
