"""The one French search (commun.recherche): accents, stemming, typos, identifiers,
perimeter — on SQLite (fallback) and on PostgreSQL (full text, marked `postgresql`)."""

import pytest
from django.db import connection

from commun.recherche import Identifiant, reconnaitre, sans_accents
from financements.models import Aide
from projets.models import Projet
from territoires.models import Territoire

from . import factories as f

postgresql = pytest.mark.postgresql


@pytest.fixture
def dossiers(monde):
    mecanique = f.ProjetFactory(
        titre="Atelier de Mécanique de précision",
        description="Usinage de pièces pour l'aéronautique.",
        porteur_raison_sociale="Forges du Vivarais",
        porteur_siret="73282932000074",
        territoire=monde["adn"],
        commune=monde["commune_07"],
        phase=monde["phase"],
    )
    usines = f.ProjetFactory(
        titre="Deux nouvelles usines de batteries",
        description="Production de cellules.",
        porteur_raison_sociale="Cellules d'Occitanie",
        territoire=monde["ales"],
        commune=monde["commune_30"],
        phase=monde["phase"],
    )
    return {"mecanique": mecanique, "usines": usines}


def test_sans_accents_python():
    assert sans_accents("Mécanique ŒUVRE Ærodrome") == "mecanique oeuvre aerodrome"


@pytest.mark.parametrize(
    ("texte", "attendu"),
    [
        ("TI-84-2026-00012", Identifiant("reference", "TI-84-2026-00012")),
        (" ti-84-2026-00012 ", Identifiant("reference", "TI-84-2026-00012")),
        ("732 829 320 00074", Identifiant("siret", "73282932000074")),
        ("732829320", Identifiant("siren", "732829320")),
        ("07010", Identifiant("insee", "07010")),
        ("2a004", Identifiant("insee", "2A004")),
        ("732829321", None),  # wrong Luhn key: plain text
        ("73282932000075", None),
        ("mécanique", None),
        ("TI-84-2026-0001", None),
    ],
)
def test_reconnaitre_identifiants(texte, attendu):
    assert reconnaitre(texte) == attendu


def test_accents_et_casse(dossiers):
    assert list(Projet.objects.rechercher("mecanique")) == [dossiers["mecanique"]]
    assert list(Projet.objects.rechercher("MÉCANIQUE")) == [dossiers["mecanique"]]
    assert list(Projet.objects.rechercher("aeronautique")) == [dossiers["mecanique"]]


def test_pluriels(dossiers):
    # SQLite: plural endings; PostgreSQL: French stemming.
    assert list(Projet.objects.rechercher("usine")) == [dossiers["usines"]]
    assert list(Projet.objects.rechercher("mécaniques")) == [dossiers["mecanique"]]


def test_tous_les_mots_et_aucun_resultat(dossiers):
    assert list(Projet.objects.rechercher("mécanique batteries")) == []
    assert list(Projet.objects.rechercher("introuvable")) == []
    assert Projet.objects.rechercher("").count() == 2


def test_champs_lies_commune_et_territoire(dossiers):
    assert list(Projet.objects.rechercher("annonay")) == [dossiers["mecanique"]]
    assert list(Projet.objects.rechercher("ales")) == [dossiers["usines"]]


def test_identifiants_sautent_a_l_objet(dossiers, monde):
    mecanique = dossiers["mecanique"]
    assert list(Projet.objects.rechercher(mecanique.reference.lower())) == [mecanique]
    assert list(Projet.objects.rechercher("73282932000074")) == [mecanique]
    assert list(Projet.objects.rechercher("732829320")) == [mecanique]
    assert list(Projet.objects.rechercher("07010")) == [mecanique]
    # An EPCI's SIREN finds its territories, a commune's code the territory holding it.
    siren = monde["epci_26"].siren
    assert set(Territoire.objects.rechercher(siren)) == {monde["adn"], monde["interregional"]}
    assert list(Territoire.objects.rechercher("30007")) == [monde["ales"]]


def test_territoires_par_nom_epci_et_commune(monde):
    assert list(Territoire.objects.rechercher("ardeche drome")) == [monde["adn"]]
    # Through an EPCI name and a commune name, without duplicates.
    assert list(Territoire.objects.rechercher("rhodanien")) == [monde["interregional"]]
    trouves = list(Territoire.objects.rechercher("saint-vallier"))
    assert len(trouves) == 2
    assert set(trouves) == {monde["adn"], monde["interregional"]}


def test_aides(dossiers):
    aide = f.AideFactory(projet=dossiers["mecanique"], reference_decision="DEL-2026-117")
    f.AideFactory(projet=dossiers["usines"])
    assert list(Aide.objects.rechercher("mecanique")) == [aide]
    assert list(Aide.objects.rechercher(dossiers["mecanique"].reference)) == [aide]


def test_perimetre_toujours_applique(dossiers, personas):
    # The Occitanie officer searches for an Ardèche dossier: nothing, even by reference.
    occitanie = Projet.objects.visibles_par(personas["region-occitanie"])
    assert list(occitanie.rechercher("mécanique")) == []
    assert list(occitanie.rechercher(dossiers["mecanique"].reference)) == []
    assert list(occitanie.rechercher("usines")) == [dossiers["usines"]]


def test_classement_titre_avant_description(monde):
    dans_titre = f.ProjetFactory(titre="Fonderie d'aluminium", description="Autre chose.")
    dans_description = f.ProjetFactory(titre="Atelier", description="Près d'une fonderie.")
    assert list(Projet.objects.rechercher("fonderie")) == [dans_titre, dans_description]


def test_caracteres_speciaux_sans_erreur(dossiers):
    for texte in ["%", "_", "'", '"', "\\", "(a | b) & !c", ":*", "-", "a" * 500]:
        list(Projet.objects.rechercher(texte))


@postgresql
def test_postgresql_racinisation_et_fautes(dossiers):
    assert connection.vendor == "postgresql"
    # French stemming: « productions » and « production » share one lexeme.
    assert list(Projet.objects.rechercher("productions cellules")) == [dossiers["usines"]]
    # A typo is caught by trigram word similarity on the title.
    assert list(Projet.objects.rechercher("mecaniqe")) == [dossiers["mecanique"]]
    # websearch syntax: an excluded word.
    assert list(Projet.objects.rechercher("atelier -batteries")) == [dossiers["mecanique"]]


@postgresql
def test_postgresql_index_utilise(dossiers):
    from commun.recherche import Correspond, RequeteFrancaise, VecteurFrancais

    regles = type(Projet.objects.all()).recherche
    requete = Projet.objects.filter(
        Correspond(VecteurFrancais(regles.locaux), RequeteFrancaise("mecanique"))
    )
    with connection.cursor() as curseur:
        curseur.execute("SET enable_seqscan = off")
        sql, params = requete.query.sql_with_params()
        curseur.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(ligne[0] for ligne in curseur.fetchall())
        curseur.execute("SET enable_seqscan = on")
    assert "projets_projet_recherche" in plan
