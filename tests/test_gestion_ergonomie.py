"""Issue 20: back-office ergonomics — French formats, titles, readable history, readers."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from commun import formats
from financements import services as fin
from gestion.bases import avec_article_defini, titres
from projets import services

from . import factories as f

NNBSP, NBSP = "\u202f", "\u00a0"


def test_formats_francais():
    assert formats.euros(Decimal("200000")) == f"200{NNBSP}000,00{NBSP}€"
    assert formats.euros("1234567.891") == f"1{NNBSP}234{NNBSP}567,89{NBSP}€"
    assert formats.euros(Decimal("1234567.5"), centimes=False) == f"1{NNBSP}234{NNBSP}568{NBSP}€"
    assert formats.euros(None) == "—"
    assert formats.nombre(Decimal("12.50")) == "12,5"
    assert formats.nombre(3736614) == f"3{NNBSP}736{NNBSP}614"
    assert formats.pourcentage(Decimal("96.04")) == f"96,0{NBSP}%"
    assert formats.date_fr(date(2026, 1, 15)) == "15/01/2026"
    paris = datetime(2026, 1, 15, 8, 30, tzinfo=ZoneInfo("UTC"))
    assert formats.date_heure(paris) == "15/01/2026 à 09:30"  # local time
    assert formats.oui_non(False) == "Non" and formats.lisible(True) == "Oui"


def test_titres_avec_genre_et_elision():
    assert titres("aide")["ajout"] == "Ajout d'une aide"
    assert titres("dossier de projet")["bouton_ajout"] == "Ajouter un dossier de projet"
    assert titres("enveloppe régionale")["modification"] == "Modification de l'enveloppe régionale"
    assert titres("dossier de projet")["modification"] == "Modification du dossier de projet"
    assert avec_article_defini("revue régionale") == "la revue régionale"


@pytest.fixture
def aide(monde, personas, projet_adn):
    for nom in ("deposer", "instruire", "retenir"):
        acteur = personas["porteur-adn"] if nom == "deposer" else personas["region-ara"]
        services.projet_transitionner(
            projet=projet_adn, transition=nom, user=acteur, commentaire="ok"
        )
    dispositif = f.DispositifFactory(montant_national=Decimal("10000000"))
    enveloppe = fin.enveloppe_allouer(
        user=personas["national"],
        dispositif=dispositif,
        region=monde["ara"],
        annee=2026,
        montant="3736614.58",
    )
    return fin.aide_proposer(
        user=personas["region-ara"],
        enveloppe=enveloppe,
        projet=projet_adn,
        montant="200000",
        nature="subvention",
    )


def test_montants_en_francais_dans_les_titres_et_les_listes(client, personas, aide):
    assert str(aide).startswith(f"200{NNBSP}000,00{NBSP}€ — TI-84-")
    client.force_login(personas["region-ara"])
    liste = client.get("/admin/projets/projet/").text
    assert f"1{NNBSP}000{NNBSP}000,00{NBSP}€" in liste  # investment
    assert "1000000,00" not in liste and "1000000.00" not in liste
    enveloppes = client.get("/admin/financements/enveloppe/").text
    assert f"3{NNBSP}736{NNBSP}614,58{NBSP}€" in enveloppes and "3736614" not in enveloppes
    tableau = client.get("/admin/").text
    assert f"3{NNBSP}736{NNBSP}615{NBSP}€" in tableau
    fiche = client.get(reverse("admin:projets_projet_change", args=[aide.projet_id])).text
    assert "200000.00 €" not in fiche and "None" not in fiche
    assert "Retenu" in fiche and "retenu →" not in fiche  # inline headings with labels


def test_titres_des_pages(client, personas, aide):
    client.force_login(personas["region-ara"])
    assert "Ajout d&#x27;une aide" in client.get("/admin/financements/aide/add/").text
    liste = client.get("/admin/projets/projet/").text
    assert "Ajouter un dossier de projet" in liste
    assert "Sélectionnez" not in liste
    fiche = client.get(reverse("admin:financements_aide_change", args=[aide.pk])).text
    assert "Modification de l&#x27;aide" in fiche
    assert f"200{NNBSP}000,00{NBSP}€" in fiche and "200000,00" not in fiche  # read-only amount
    lecteur = client.__class__()
    lecteur.force_login(personas["prefecture-07"])
    fiche = lecteur.get(reverse("admin:financements_aide_change", args=[aide.pk])).text
    assert "Consultation de l&#x27;aide" in fiche


def test_historique_en_phrases(client, personas, aide):
    projet = aide.projet
    client.force_login(personas["region-ara"])
    page = client.get(reverse("admin:projets_projet_history", args=[projet.pk])).text
    assert (
        '<strong>Statut</strong> : <span class="ancienne-valeur">Déposé</span> → En instruction'
        in page
    )
    assert "Statut : Retenir le dossier" in page or "Statut : Retenir" in page
    for brut in ("None", "False", "pk=", "en_instruction", "Deleted", "Historique de vue"):
        assert brut not in page, brut
    assert "Historique : " in page
    aide_page = client.get(reverse("admin:financements_aide_history", args=[aide.pk])).text
    assert "Création" in aide_page and "None" not in aide_page


def test_un_lecteur_n_a_pas_de_formulaire_de_transition(client, personas, projet_adn):
    services.projet_transitionner(
        projet=projet_adn, transition="deposer", user=personas["porteur-adn"]
    )
    url = reverse("admin:projets_projet_transition", args=[projet_adn.pk, "instruire"])
    client.force_login(personas["prefecture-07"])
    refus = client.get(url)
    assert refus.status_code == 403 and "commentaire" not in refus.text
    assert client.post(url, {"commentaire": "x"}).status_code == 403
    projet_adn.refresh_from_db()
    assert projet_adn.statut == "depose"
    # An instructor gets the form, and a transition impossible now is refused before it.
    client.force_login(personas["region-ara"])
    assert client.get(url).status_code == 200
    impossible = reverse("admin:projets_projet_transition", args=[projet_adn.pk, "retenir"])
    assert client.get(impossible).status_code == 403


def test_exports_pour_tableurs_francais(client, personas, aide):
    """CSV: « ; », decimal commas, dates « 15/01/2026 », Oui/Non, BOM, labels and codes;
    XLSX: real numbers and dates with formats, widths, frozen header."""
    import csv
    import io

    from openpyxl import load_workbook

    client.force_login(personas["region-ara"])
    reponse = client.get("/admin/projets/projet/exporter/?format=csv")
    brut = b"".join(reponse.streaming_content)
    assert brut.startswith(b"\xef\xbb\xbf")
    lignes = list(csv.DictReader(io.StringIO(brut.decode("utf-8-sig")), delimiter=";"))
    ligne = lignes[0]
    assert ligne["investissement"] == "1000000,00" and ligne["aide demandée"] == "200000,00"
    assert ligne["statut"] == "Retenu" and ligne["code statut"] == "retenu"
    assert ligne["nature"] == "Extension de site" and ligne["code nature"] == "extension"
    assert ligne["QPV"] == "Non"
    assert ligne["déposé le"].count("/") == 2 and "T" not in ligne["déposé le"]

    xlsx = client.get("/admin/financements/aide/exporter/?format=xlsx")
    feuille = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    entetes = [c.value for c in feuille[1]]
    assert feuille.freeze_panes == "A2"
    assert feuille[1][0].font.bold
    montant = feuille.cell(row=2, column=entetes.index("montant") + 1)
    assert montant.value == 200000 and montant.number_format == '#,##0.00 "€"'
    statut = feuille.cell(row=2, column=entetes.index("statut") + 1).value
    assert statut == "Proposée"
    assert feuille.cell(row=2, column=entetes.index("code statut") + 1).value == "proposee"
    assert feuille.column_dimensions["A"].width >= 12

    projets = client.get("/admin/projets/projet/exporter/?format=xlsx")
    feuille = load_workbook(io.BytesIO(b"".join(projets.streaming_content))).active
    entetes = [c.value for c in feuille[1]]
    depose = feuille.cell(row=2, column=entetes.index("déposé le") + 1)
    assert hasattr(depose.value, "year") and depose.number_format == "DD/MM/YYYY HH:MM"
    assert feuille.cell(row=2, column=entetes.index("QPV") + 1).value == "Non"


def test_import_signale_toutes_les_erreurs_et_fournit_un_modele(client, personas, monde):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import load_workbook

    from projets.models import Projet

    client.force_login(personas["region-ara"])
    entete = (
        "territoire;phase;titre;porteur_siret;montant_investissement;aide_demandee;"
        "date_debut_prevue\n"
    )
    # First row: a bad SIRET (service), a bad amount and a bad date (conversion); second
    # row: no title and an aid above the investment (both found by the service).
    ligne = "ardeche-drome-nord;2023-2027;Projet;73282932000075;12x;100;01-02-2026\n"
    seconde = "ardeche-drome-nord;2023-2027;;;1000;2000;\n"
    fichier = SimpleUploadedFile("d.csv", (entete + ligne + seconde).encode())
    texte = client.post(
        "/admin/projets/projet/importer/", {"fichier": fichier, "simulation": "on"}
    ).text
    for attendu in (
        "montant invalide",
        "date invalide",
        "clé de contrôle",
        "ne peut pas dépasser",
        "obligatoire",
    ):
        assert attendu in texte, attendu
    assert "2 ligne(s) à corriger" in texte
    assert not Projet.objects.exists()

    modele = client.get("/admin/projets/projet/importer/modele.xlsx")
    assert modele.status_code == 200
    classeur = load_workbook(io.BytesIO(b"".join(modele.streaming_content)))
    assert classeur.sheetnames == ["dossiers", "codes acceptés"]
    assert [c.value for c in classeur["dossiers"][1]][:3] == ["territoire", "phase", "titre"]
    codes = {
        (r[0], r[1]) for r in classeur["codes acceptés"].iter_rows(min_row=2, values_only=True)
    }
    assert ("nature", "extension") in codes and ("porteur_taille", "PME") in codes
    assert ("territoire", "ardeche-drome-nord") in codes
    assert ("territoire", monde["ales"].slug) not in codes  # outside the perimeter
    csv_ = client.get("/admin/projets/projet/importer/modele.csv")
    contenu = b"".join(csv_.streaming_content)
    assert contenu.startswith(b"\xef\xbb\xbfterritoire;phase;titre")
    assert client.get("/admin/projets/projet/importer/modele.pdf").status_code == 404
    lecteur = client.__class__()
    lecteur.force_login(personas["prefecture-07"])
    assert lecteur.get("/admin/projets/projet/importer/modele.xlsx").status_code == 403


def test_journal_d_audit_lisible(client, personas):
    from comptes.audit import details_lisibles, journaliser

    evenement = journaliser(
        "connexion", user=personas["national"], backend="comptes.backends.MotDePasseBackend"
    )
    journaliser(
        "double_authentification",
        user=personas["national"],
        action="verification",
        moyen="code_secours",
        resultat="echec",
    )
    journaliser(
        "export",
        user=personas["national"],
        ressource="projets.projet",
        format="xlsx",
        lignes=12000,
        differe=True,
        filtres={"statut__exact": ["retenu"]},
    )
    assert details_lisibles(evenement.details) == ["Moyen de connexion : mot de passe"]
    client.force_login(personas["national"])
    liste = client.get("/admin/comptes/evenementaudit/").text
    for attendu in (
        "Moyen de connexion : mot de passe",
        "Résultat : échec",
        "Moyen : code de secours",
        "Données exportées : dossiers de projet",
        f"Lignes : 12{NNBSP}000",
        "Préparé en arrière-plan : Oui",
    ):
        assert attendu in liste, attendu
    for brut in ("comptes.backends", "code_secours", ": True", ": False", "projets.projet"):
        assert brut not in liste, brut
    fiche = client.get(reverse("admin:comptes_evenementaudit_change", args=[evenement.pk])).text
    assert "<li>Moyen de connexion : mot de passe</li>" in fiche


def test_un_lecteur_n_a_pas_de_formulaire_d_operation_sur_une_aide(client, personas, aide):
    client.force_login(personas["prefecture-07"])
    for operation in ("conventionner", "annuler", "verser"):
        url = reverse("admin:financements_aide_operation", args=[aide.pk, operation])
        refus = client.get(url)
        assert refus.status_code == 403 and "<form" not in refus.text.split("<main", 1)[-1]
    client.force_login(personas["region-ara"])
    url = reverse("admin:financements_aide_operation", args=[aide.pk, "annuler"])
    assert client.get(url).status_code == 200
