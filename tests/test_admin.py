"""Issue 5: the back-office permission matrix, lifecycle buttons, exports, imports, queries."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from financements import services as fin
from projets import services
from projets.models import Projet

from . import factories as f

PERSONAS = [
    "national",
    "region-ara",
    "region-occitanie",
    "prefecture-07",
    "porteur-adn",
    "partenaire-bpi",
    "anonyme",
]
AGENTS = {"national", "region-ara", "region-occitanie", "prefecture-07"}
INSTRUCTEURS = {"national", "region-ara", "region-occitanie"}
# Who sees which dossier: ADN (84, EPCI seated in 07 and 26) and Alès (76, seated in 30).
VOIT = {
    "adn": {"national", "region-ara", "prefecture-07"},
    "ales": {"national", "region-occitanie"},
}


@pytest.fixture
def dossiers(monde, personas):
    adn = f.ProjetFactory(
        territoire=monde["adn"],
        phase=monde["phase"],
        commune=monde["commune_07"],
        titre="Usine ardéchoise",
    )
    ales = f.ProjetFactory(
        territoire=monde["ales"],
        phase=monde["phase"],
        commune=monde["commune_30"],
        titre="Usine gardoise",
    )
    return {"adn": adn, "ales": ales}


def client_de(client, personas, persona):
    if persona != "anonyme":
        client.force_login(personas[persona])
    return client


@pytest.mark.parametrize("persona", PERSONAS)
def test_acces_au_back_office(client, personas, persona):
    reponse = client_de(client, personas, persona).get("/admin/")
    if persona in AGENTS:
        assert reponse.status_code == 200
        assert "Territoires d&#x27;industrie — gestion" in reponse.text
    else:
        assert reponse.status_code == 302 and "/admin/login/" in reponse["Location"]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("cle", ["adn", "ales"])
@pytest.mark.parametrize("vue", ["change", "history", "transition", "piece"])
def test_pages_d_un_dossier(client, personas, dossiers, persona, cle, vue):
    projet = dossiers[cle]
    if vue == "transition":  # « Prendre en instruction » is possible on a filed dossier
        Projet.objects.filter(pk=projet.pk).update(statut="depose")
    urls = {
        "change": reverse("admin:projets_projet_change", args=[projet.pk]),
        "history": reverse("admin:projets_projet_history", args=[projet.pk]),
        "transition": reverse("admin:projets_projet_transition", args=[projet.pk, "instruire"]),
        "piece": reverse(
            "admin:projets_projet_piece", args=[projet.pk, projet.pieces_jointes.get().uuid]
        ),
    }
    reponse = client_de(client, personas, persona).get(urls[vue])
    if persona not in AGENTS:
        assert reponse.status_code == 302  # to the admin login
    elif persona not in VOIT[cle]:
        assert reponse.status_code == 404
    elif vue == "transition" and persona not in INSTRUCTEURS:
        assert reponse.status_code == 403  # a reader never sees the comment form
        assert "commentaire" not in reponse.text
    else:
        assert reponse.status_code == 200
        if vue == "piece":
            assert reponse["Content-Disposition"].startswith("attachment")
            assert reponse["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("persona", sorted(AGENTS))
def test_liste_filtree_par_le_perimetre(client, personas, dossiers, persona):
    reponse = client_de(client, personas, persona).get("/admin/projets/projet/")
    assert reponse.status_code == 200
    for cle, projet in dossiers.items():
        assert (projet.reference in reponse.text) is (persona in VOIT[cle])


@pytest.mark.parametrize("persona", sorted(AGENTS))
def test_ajout_et_suppression(client, personas, dossiers, persona):
    client = client_de(client, personas, persona)
    ajout = client.get("/admin/projets/projet/add/")
    assert ajout.status_code == (200 if persona in INSTRUCTEURS else 403)
    for cle, projet in dossiers.items():
        suppression = client.get(reverse("admin:projets_projet_delete", args=[projet.pk]))
        # Nothing is deleted from the back-office; outside the perimeter: 404.
        assert suppression.status_code == (403 if persona in VOIT[cle] else 404)
    assert Projet.objects.count() == 2


@pytest.mark.parametrize("persona", sorted(AGENTS))
def test_modification_reservee_aux_instructeurs(client, personas, dossiers, persona):
    projet = dossiers["adn"]
    if persona not in VOIT["adn"]:
        return
    client = client_de(client, personas, persona)
    page = client.get(reverse("admin:projets_projet_change", args=[projet.pk]))
    peut = persona in INSTRUCTEURS
    assert ('name="titre"' in page.text) is peut
    donnees = {"titre": "Titre changé", "nature": "extension", "_save": "1"}
    client.post(reverse("admin:projets_projet_change", args=[projet.pk]), donnees)
    projet.refresh_from_db()
    assert projet.titre == "Usine ardéchoise"  # incomplete form or reader: nothing changed


@pytest.mark.parametrize("persona", sorted(AGENTS))
def test_action_en_masse_hors_perimetre_404(client, personas, dossiers, persona, settings):
    for projet in dossiers.values():
        services.projet_transitionner(
            projet=projet,
            transition="deposer",
            user=personas["porteur-adn"]
            if projet.territoire.nom == "Ardèche-Drôme Nord"
            else personas["porteur-ales"],
        )
    client = client_de(client, personas, persona)
    for cle, projet in dossiers.items():
        reponse = client.post(
            "/admin/projets/projet/",
            {
                "action": "transition_instruire",
                ACTION_CHECKBOX_NAME: [projet.pk],
                "appliquer": "1",
                "commentaire": "",
            },
        )
        projet.refresh_from_db()
        if persona not in INSTRUCTEURS:
            assert projet.statut == "depose"  # readers have no action at all
        elif persona not in VOIT[cle]:
            assert reponse.status_code == 404
            assert projet.statut == "depose"
        else:
            assert projet.statut == "en_instruction"


def test_boutons_du_cycle_de_vie(client, personas, dossiers, mailoutbox):
    projet = dossiers["adn"]
    services.projet_transitionner(projet=projet, transition="deposer", user=personas["porteur-adn"])
    client = client_de(client, personas, "region-ara")
    page = client.get(reverse("admin:projets_projet_change", args=[projet.pk]))
    assert "Prendre en instruction" in page.text
    url = reverse("admin:projets_projet_transition", args=[projet.pk, "instruire"])
    client.post(url, {"commentaire": ""})
    projet.refresh_from_db()
    assert projet.statut == "en_instruction"
    # A refused transition shows the French message and changes nothing.
    url = reverse("admin:projets_projet_transition", args=[projet.pk, "retenir"])
    reponse = client.post(url, {"commentaire": ""}, follow=True)
    assert "Un motif ou un message est obligatoire" in reponse.text
    projet.refresh_from_db()
    assert projet.statut == "en_instruction"
    url = reverse("admin:projets_projet_transition", args=[projet.pk, "demander_complements"])
    client.post(url, {"commentaire": "Merci de joindre le Kbis."})
    projet.refresh_from_db()
    assert projet.statut == "a_completer"
    assert projet.messages.get().texte == "Merci de joindre le Kbis."
    # A lead transition is not offered to officers.
    url = reverse("admin:projets_projet_transition", args=[projet.pk, "repondre"])
    assert client.post(url, {"commentaire": "x"}).status_code == 403


def test_statut_non_modifiable_par_le_formulaire(client, personas, dossiers):
    projet = dossiers["adn"]
    client = client_de(client, personas, "national")
    page = client.get(reverse("admin:projets_projet_change", args=[projet.pk]))
    assert 'name="statut"' not in page.text


def test_export_csv_filtre_et_dans_le_perimetre(client, personas, dossiers):
    client = client_de(client, personas, "region-ara")
    reponse = client.get("/admin/projets/projet/exporter/?format=csv")
    assert reponse.status_code == 200
    contenu = b"".join(reponse.streaming_content).decode("utf-8-sig")
    lignes = list(csv.reader(io.StringIO(contenu), delimiter=";"))
    assert lignes[0][:3] == ["référence", "intitulé", "territoire"]
    assert [ligne[0] for ligne in lignes[1:]] == [dossiers["adn"].reference]
    filtre = client.get("/admin/projets/projet/exporter/?format=csv&statut__exact=retenu")
    assert len(b"".join(filtre.streaming_content).decode().strip().splitlines()) == 1
    xlsx = client.get("/admin/projets/projet/exporter/?format=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    assert (
        client_de(client, personas, "porteur-adn")
        .get("/admin/projets/projet/exporter/")
        .status_code
        == 302
    )


def _fichier_import(lignes):
    entete = "territoire;phase;titre;commune;porteur_siret;montant_investissement;aide_demandee\n"
    return SimpleUploadedFile("dossiers.csv", (entete + "".join(lignes)).encode())


def test_import_tout_ou_rien_avec_simulation(client, personas, monde):
    client = client_de(client, personas, "region-ara")
    bon = "ardeche-drome-nord;2023-2027;Projet importé;07010;73282932000074;1000;100\n"
    mauvais = [
        "ardeche-drome-nord;2023-2027;SIRET faux;07010;73282932000075;1000;100\n",
        "ardeche-drome-nord;2023-2027;Aide trop forte;07010;;1000;2000\n",
        "bassin-dales;2023-2027;Hors périmètre;30007;;;\n",
        "inconnu;2023-2027;Territoire inconnu;;;;\n",
    ]
    reponse = client.post(
        "/admin/projets/projet/importer/",
        {"fichier": _fichier_import([bon, *mauvais]), "simulation": ""},
    )
    assert reponse.status_code == 200
    texte = reponse.text
    assert "4 erreur(s) : rien n'a été enregistré" in texte
    for attendu in (
        "clé de contrôle",
        "ne peut pas dépasser",
        "créer de dossier pour ce",
        "territoire « inconnu » inconnu",
    ):
        assert attendu in texte
    assert not Projet.objects.exists()
    client.post(
        "/admin/projets/projet/importer/", {"fichier": _fichier_import([bon]), "simulation": "on"}
    )
    assert not Projet.objects.exists()
    client.post(
        "/admin/projets/projet/importer/", {"fichier": _fichier_import([bon]), "simulation": ""}
    )
    projet = Projet.objects.get()
    assert projet.statut == "brouillon" and projet.reference.startswith("TI-84-")
    lecteur = client_de(client, personas, "prefecture-07")
    assert lecteur.get("/admin/projets/projet/importer/").status_code == 403


def test_autocomplete_limite_au_perimetre(client, personas, dossiers):
    client = client_de(client, personas, "region-ara")
    reponse = client.get(
        "/admin/autocomplete/",
        {
            "app_label": "projets",
            "model_name": "avisrevue",
            "field_name": "projet",
            "term": "",
        },
    )
    assert reponse.status_code == 200
    textes = {r["text"] for r in reponse.json()["results"]}
    assert any(dossiers["adn"].reference in t for t in textes)
    assert not any(dossiers["ales"].reference in t for t in textes)
    anonyme = client_de(client.__class__(), personas, "anonyme")
    assert (
        anonyme.get(
            "/admin/autocomplete/",
            {
                "app_label": "projets",
                "model_name": "avisrevue",
                "field_name": "projet",
            },
        ).status_code
        == 302
    )


@pytest.fixture
def financement(monde, personas, dossiers):
    projet = dossiers["adn"]
    for nom in ("deposer", "instruire", "retenir"):
        acteur = personas["porteur-adn"] if nom == "deposer" else personas["region-ara"]
        services.projet_transitionner(projet=projet, transition=nom, user=acteur, commentaire="ok")
    dispositif = f.DispositifFactory(montant_national=Decimal("1000000"))
    enveloppe = fin.enveloppe_allouer(
        user=personas["national"],
        dispositif=dispositif,
        region=monde["ara"],
        annee=2026,
        montant="1000",
    )
    aide = fin.aide_proposer(
        user=personas["region-ara"],
        enveloppe=enveloppe,
        projet=projet,
        montant="600",
        nature="subvention",
    )
    return {"enveloppe": enveloppe, "aide": aide}


def test_operations_sur_une_aide(client, personas, financement):
    aide = financement["aide"]
    client = client_de(client, personas, "region-ara")
    url = reverse("admin:financements_aide_operation", args=[aide.pk, "engager"])
    client.post(url)
    aide.refresh_from_db()
    assert aide.statut == "engagee"
    url = reverse("admin:financements_aide_operation", args=[aide.pk, "verser"])
    reponse = client.post(url, {"montant": "700", "date_versement": "2026-05-01"}, follow=True)
    assert "dépasse le reste à verser" in reponse.text
    assert not aide.versements.exists()
    client.post(url, {"montant": "600", "date_versement": "2026-05-01", "reference": "V1"})
    aide.refresh_from_db()
    assert aide.statut == "soldee"
    autre = client_de(client.__class__(), personas, "region-occitanie")
    assert autre.get(reverse("admin:financements_aide_change", args=[aide.pk])).status_code == 404
    lecteur = client_de(client.__class__(), personas, "prefecture-07")
    assert (
        lecteur.post(
            reverse("admin:financements_aide_operation", args=[aide.pk, "annuler"]), {"motif": "x"}
        ).status_code
        == 403
    )


def test_enveloppes_allouees_par_le_national_seulement(client, personas, financement, monde):
    enveloppe = financement["enveloppe"]
    regional = client_de(client, personas, "region-ara")
    assert regional.get("/admin/financements/enveloppe/add/").status_code == 403
    national = client_de(client.__class__(), personas, "national")
    reponse = national.post(
        reverse("admin:financements_enveloppe_change", args=[enveloppe.pk]),
        {"montant": "100", "_save": "1"},
        follow=True,
    )
    assert "sous le montant déjà engagé" not in reponse.text  # only proposed: 0 engaged
    enveloppe.refresh_from_db()
    assert enveloppe.montant == Decimal("100.00")
    assert enveloppe.history.count() == 2


def test_tableau_de_bord(client, personas, financement):
    reponse = client_de(client, personas, "region-ara").get("/admin/")
    assert "Consommation des enveloppes" in reponse.text
    assert "<progress" in reponse.text
    assert str(financement["enveloppe"]) in reponse.text


def _dossiers_en_masse(monde, n):
    for _ in range(n):
        f.ProjetFactory(
            territoire=monde["adn"],
            phase=monde["phase"],
            commune=monde["commune_07"],
            complet=False,
        )


@pytest.mark.parametrize("nombre", [10, 200])
@pytest.mark.parametrize(
    "url", ["/admin/projets/projet/", "/admin/financements/aide/", "/admin/territoires/territoire/"]
)
def test_listes_a_nombre_de_requetes_constant(
    client, personas, monde, nombre, url, django_assert_max_num_queries
):
    _dossiers_en_masse(monde, nombre)
    if "aide" in url:
        dispositif = f.DispositifFactory(montant_national=Decimal("100000000"))
        enveloppe = f.EnveloppeFactory(dispositif=dispositif, region=monde["ara"])
        for projet in Projet.objects.all()[:nombre]:
            f.AideFactory(enveloppe=enveloppe, projet=projet)
    if "territoire" in url:
        for i in range(nombre):
            f.TerritoireFactory(nom=f"T{i}", region_pilote=monde["ara"], epcis=[monde["epci_07"]])
    client = client_de(client, personas, "national")
    # Session, user, habilitation, perimeter, counts, filters' choices and the page rows:
    # a fixed budget whatever the number of rows.
    with django_assert_max_num_queries(30):
        reponse = client.get(url)
    assert reponse.status_code == 200


def test_page_d_un_dossier_avec_20_aides_et_50_historiques(
    client, personas, financement, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    aide = financement["aide"]
    projet = aide.projet
    page = reverse("admin:projets_projet_change", args=[projet.pk])
    une_aide = client_de(client, personas, "national")
    une_aide.get(page)
    with CaptureQueriesContext(connection) as avec_une_aide:
        une_aide.get(page)
    for _ in range(19):
        f.AideFactory(enveloppe=aide.enveloppe, projet=projet, montant=Decimal("1"))
    with CaptureQueriesContext(connection) as avec_vingt_aides:
        une_aide.get(page)
    # Constant: no query per aid row (their dossier and envelope come with them).
    assert len(avec_vingt_aides) == len(avec_une_aide)
    for i in range(50):
        services.projet_modifier(
            projet=projet, user=personas["national"], emplois_crees=i
        ) if projet.statut == "brouillon" else None
        Projet.history.bulk_history_create([projet], update=True)
    client = client_de(client, personas, "national")
    with django_assert_max_num_queries(45):
        reponse = client.get(reverse("admin:projets_projet_change", args=[projet.pk]))
    assert reponse.status_code == 200
    assert reponse.text.count("Aide n°") == 20
    with django_assert_max_num_queries(30):
        assert (
            client.get(reverse("admin:projets_projet_history", args=[projet.pk])).status_code == 200
        )


def test_filtre_des_territoires_limite_au_perimetre(client, personas, monde, projet_adn):
    client = client_de(client, personas, "region-ara")
    contenu = client.get("/admin/projets/projet/").content.decode()
    assert f"?territoire={monde['adn'].pk}" in contenu
    assert f"?territoire={monde['ales'].pk}" not in contenu
    filtre = client.get(f"/admin/projets/projet/?territoire={monde['adn'].pk}")
    assert projet_adn.reference in filtre.content.decode()
