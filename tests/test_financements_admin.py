"""Issue 16 and the aid-entry part of issue 20, through the back-office door: each rule
refused with its French message (nothing changed) and the allowed case."""

import html
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from financements import services
from financements.models import Aide, Dispositif, Enveloppe, RegimeAide
from projets import services as projets_services
from projets.models import AvisRevue, Projet, RevueRegionale, Statut
from territoires.models import Habilitation

from . import factories as f

D = Decimal


@pytest.fixture
def argent(monde, personas):
    """Rebond (territorial, laureates, 2 M€, de minimis) and an ingénierie envelope."""
    monde["adn"].laureat_rebond_industriel = True
    monde["adn"].save()
    rebond = f.DispositifFactory(
        nom="Rebond industriel",
        code="rebond-industriel",
        phase=monde["phase"],
        montant_national=D("100000000"),
        laureats_seulement=True,
        plafond_par_territoire=D("2000000"),
        enveloppes_territoriales=True,
        regime_aide=RegimeAide.DE_MINIMIS,
    )
    ingenierie = f.DispositifFactory(nom="Ingénierie", phase=monde["phase"])
    national = personas["national"]
    adn = services.enveloppe_allouer(
        user=national, dispositif=rebond, territoire=monde["adn"], annee=2026, montant="2000000"
    )
    ara = services.enveloppe_allouer(
        user=national, dispositif=ingenierie, region=monde["ara"], annee=2025, montant="400000"
    )
    occ = services.enveloppe_allouer(
        user=national, dispositif=ingenierie, region=monde["occ"], annee=2025, montant="400000"
    )
    projet = f.ProjetFactory(
        territoire=monde["adn"],
        phase=monde["phase"],
        commune=monde["commune_07"],
        statut=Statut.RETENU,
        porteur_siret="73282932000074",
    )
    return {"rebond": rebond, "adn": adn, "ara": ara, "occ": occ, "projet": projet}


def connecte(client, user):
    client.force_login(user)
    return client


def ajouter(client, **donnees):
    return client.post(reverse("admin:financements_aide_add"), donnees, follow=True)


def texte(reponse) -> str:
    """The page as a person reads it (entities decoded)."""
    return html.unescape(reponse.content.decode())


def test_ajout_refuse_avec_la_regle_puis_accepte(client, personas, argent, monde):
    client = connecte(client, personas["region-ara"])
    ales = f.ProjetFactory(
        territoire=monde["ales"], commune=monde["commune_30"], statut=Statut.RETENU
    )
    # Rebond envelope of ADN for a dossier of another territory: outside the perimeter
    # of region-ara, refused by the form's choices.
    reponse = ajouter(
        client, projet=ales.pk, enveloppe=argent["adn"].pk, montant="1000", nature="subvention"
    )
    assert "Ce dossier ne peut pas recevoir d'aide" in texte(reponse)
    # De minimis above the ceiling: refused by the service with the rule's name.
    reponse = ajouter(
        client,
        projet=argent["projet"].pk,
        enveloppe=argent["adn"].pk,
        montant="300000.01",
        nature="subvention",
    )
    assert "Règlement (UE) 2023/2831 (de minimis)" in texte(reponse)
    assert not Aide.objects.exists()
    reponse = ajouter(
        client,
        projet=argent["projet"].pk,
        enveloppe=argent["adn"].pk,
        montant="250000",
        nature="subvention",
        date_decision="2026-03-02",
    )
    aide = Aide.objects.get()
    assert aide.montant == D("250000.00") and aide.attribuant == argent["rebond"].operateur
    reponse = client.get(reverse("admin:financements_aide_change", args=[aide.pk]))
    assert "cumul de minimis" in texte(reponse).lower()
    assert "250\u202f000,00\xa0€ sur 300\u202f000,00\xa0€" in texte(reponse)


def test_ajout_refuse_hors_laureat_par_le_service(client, personas, argent, monde):
    monde["adn"].laureat_rebond_industriel = False
    monde["adn"].save()
    client = connecte(client, personas["region-ara"])
    reponse = ajouter(
        client,
        projet=argent["projet"].pk,
        enveloppe=argent["adn"].pk,
        montant="1000",
        nature="subvention",
    )
    assert "réservé aux territoires lauréats" in texte(reponse)
    assert not Aide.objects.exists()


def test_ajouter_une_aide_depuis_le_dossier(client, personas, argent):
    client = connecte(client, personas["region-ara"])
    projet = argent["projet"]
    fiche = client.get(reverse("admin:projets_projet_change", args=[projet.pk]))
    lien = f"{reverse('admin:financements_aide_add')}?projet={projet.pk}"
    assert lien in fiche.text
    formulaire = client.get(lien)
    assert formulaire.status_code == 200
    choix = {str(e) for e in formulaire.context["adminform"].form.fields["enveloppe"].queryset}
    # Only the envelopes that fit the dossier (its territory's Rebond, its région's).
    assert choix == {str(argent["adn"]), str(argent["ara"])}
    assert formulaire.context["adminform"].form.initial["projet"] == str(projet.pk)
    # A draft dossier has no « Ajouter une aide ».
    brouillon = f.ProjetFactory(territoire=projet.territoire, commune=projet.commune)
    fiche = client.get(reverse("admin:projets_projet_change", args=[brouillon.pk]))
    assert "Ajouter une aide" not in fiche.text


@pytest.mark.parametrize(
    ("terme", "attendus"),
    [("2026", {"adn"}), ("2025 occitanie", {"occ"}), ("ingénierie", {"ara", "occ"})],
)
def test_autocompletion_des_enveloppes(client, personas, argent, terme, attendus):
    client = connecte(client, personas["national"])
    reponse = client.get(
        "/admin/autocomplete/",
        {
            "app_label": "financements",
            "model_name": "aide",
            "field_name": "enveloppe",
            "term": terme,
        },
    )
    assert reponse.status_code == 200
    ids = {r["id"] for r in reponse.json()["results"]}
    assert ids == {str(argent[cle].pk) for cle in attendus}


def test_seules_les_operations_valides_sont_proposees(client, personas, argent):
    agent = personas["region-ara"]
    aide = services.aide_proposer(
        user=agent, enveloppe=argent["ara"], projet=argent["projet"], montant="1000",
        nature="subvention",
    )  # fmt: skip
    client = connecte(client, agent)
    page = client.get(reverse("admin:financements_aide_change", args=[aide.pk]))
    assert "Engager" in page.text and "Corriger le montant" in page.text
    assert "Enregistrer un versement" not in page.text
    assert "Conventionner" not in page.text
    url = reverse("admin:financements_aide_operation", args=[aide.pk, "verser"])
    reponse = client.post(url, {"montant": "1", "date_versement": "2026-05-01"}, follow=True)
    assert "n'est pas possible sur une aide « proposée »" in texte(reponse)
    assert not aide.versements.exists()
    # Correction while proposed, with its reason in the history.
    url = reverse("admin:financements_aide_operation", args=[aide.pk, "corriger"])
    formulaire = client.get(url)
    assert 'name="motif"' in formulaire.text
    client.post(url, {"montant": "1500", "motif": "Erreur de saisie"})
    aide.refresh_from_db()
    assert aide.montant == D("1500.00")
    assert aide.history.first().history_change_reason == "Correction du montant : Erreur de saisie"
    client.post(reverse("admin:financements_aide_operation", args=[aide.pk, "engager"]))
    page = client.get(reverse("admin:financements_aide_change", args=[aide.pk]))
    assert "/operation/conventionner/" in page.text
    assert "/operation/corriger/" not in page.text and "/operation/engager/" not in page.text
    # Date widgets: the browser's date picker.
    url = reverse("admin:financements_aide_operation", args=[aide.pk, "conventionner"])
    assert 'type="date"' in client.get(url).text


def test_reglement_d_un_abandon_par_le_back_office(client, personas, argent):
    agent = personas["region-ara"]
    projet = argent["projet"]
    aide = services.aide_proposer(
        user=agent, enveloppe=argent["ara"], projet=projet, montant="10000", nature="subvention"
    )
    services.aide_engager(user=agent, aide=aide)
    services.versement_enregistrer(
        user=agent, aide=aide, montant="4000", date_versement=date(2026, 5, 1)
    )
    porteur = f.utilisateur(
        "porteur-adn-2", role="porteur", echelon="territoire", territoires=[projet.territoire]
    )
    projets_services.projet_transitionner(
        projet=projet, transition="abandonner", user=porteur, commentaire="Projet arrêté"
    )
    client = connecte(client, agent)
    accueil = client.get("/admin/")
    assert "Argent à régler" in accueil.text and projet.reference in accueil.text
    url = reverse("admin:financements_aide_regler_abandon", args=[projet.pk])
    assert "4\u202f000,00\xa0€ à reverser" in texte(client.get(url))
    # A reader gets no settlement.
    lecteur = connecte(client.__class__(), personas["prefecture-07"])
    assert lecteur.post(url, {"date_ordre_reversement": "2026-07-01"}).status_code == 403
    reponse = client.post(url, {"date_ordre_reversement": ""}, follow=True)
    assert Projet.objects.get(pk=projet.pk).statut == Statut.RETENU
    reponse = client.post(url, {"date_ordre_reversement": "2026-07-01"}, follow=True)
    assert "Abandon constaté" in texte(reponse)
    aide.refresh_from_db()
    assert (aide.statut, aide.montant_a_reverser, aide.montant_libere) == (
        "resiliee",
        D("4000.00"),
        D("6000.00"),
    )
    assert Projet.objects.get(pk=projet.pk).statut == Statut.ABANDONNE


def test_regles_du_dispositif_modifiables_par_le_national(client, personas, argent):
    rebond = argent["rebond"]
    url = reverse("admin:financements_dispositif_change", args=[rebond.pk])
    regional = connecte(client.__class__(), personas["region-ara"])
    page = regional.get(url)
    assert page.status_code == 200 and 'name="plafond_par_territoire"' not in page.text
    client = connecte(client, personas["national"])
    formulaire = client.get(url).context["adminform"].form
    donnees = {
        k: ("" if v is None else v) for k, v in formulaire.initial.items() if k in formulaire.fields
    }
    donnees.update(
        {
            "operateur": rebond.operateur_id,
            "phase": rebond.phase_id,
            "natures": '["subvention"]',
            "regime_aide": "notifie",
            "numero_sa": "",
            "plafond_par_territoire": "1500000",
        }
    )
    for booleen in ("laureats_seulement", "enveloppes_territoriales", "revue_favorable_requise"):
        donnees.pop(booleen, None)
        if getattr(rebond, booleen):
            donnees[booleen] = "on"
    reponse = client.post(url, donnees)
    assert "Un régime notifié doit porter son numéro SA." in texte(reponse)
    assert Dispositif.objects.get(pk=rebond.pk).regime_aide == "de_minimis"
    donnees["numero_sa"] = "SA.12345"
    reponse = client.post(url, donnees)
    assert reponse.status_code == 302, reponse.context["adminform"].form.errors
    rebond.refresh_from_db()
    assert rebond.plafond_par_territoire == D("1500000.00") and rebond.numero_sa == "SA.12345"


def test_enveloppe_territoriale_par_le_back_office(client, personas, argent, monde):
    client = connecte(client, personas["national"])
    url = reverse("admin:financements_enveloppe_add")
    reponse = client.post(
        url,
        {
            "dispositif": argent["rebond"].pk,
            "territoire": monde["ales"].pk,
            "annee": "2027",
            "montant": "100",
        },
        follow=True,
    )
    assert "réservé aux territoires lauréats" in texte(reponse)
    assert not Enveloppe.objects.filter(annee=2027).exists()
    reponse = client.post(
        url,
        {
            "dispositif": argent["rebond"].pk,
            "territoire": monde["adn"].pk,
            "annee": "2027",
            "montant": "100",
        },
        follow=True,
    )
    assert "plafond de" in texte(reponse)  # 2 M€ already allocated to ADN in 2026
    assert not Enveloppe.objects.filter(annee=2027).exists()


def test_avis_de_revue_visibles_et_saisis_par_les_instructeurs_regionaux(
    client, personas, argent, monde
):
    revue = RevueRegionale.objects.create(
        region=monde["ara"],
        date=date(2026, 3, 1),
        conseil_regional="Région Auvergne-Rhône-Alpes",
        prefecture_region="Préfecture de la région Auvergne-Rhône-Alpes",
        membres_presents="Vice-présidente (Région)\nSGAR",
    )
    projet = argent["projet"]
    client = connecte(client, personas["region-ara"])
    url = reverse("admin:projets_revueregionale_change", args=[revue.pk])
    page = client.get(url)
    assert page.status_code == 200 and "avis-0-projet" in page.text
    donnees = {
        "region": "84",
        "date": "2026-03-01",
        "intitule": "",
        "conseil_regional": revue.conseil_regional,
        "prefecture_region": revue.prefecture_region,
        "membres_presents": revue.membres_presents,
        "avis-TOTAL_FORMS": "1",
        "avis-INITIAL_FORMS": "0",
        "avis-MIN_NUM_FORMS": "0",
        "avis-MAX_NUM_FORMS": "1000",
        "avis-0-projet": str(projet.pk),
        "avis-0-avis": "favorable",
        "avis-0-commentaire": "Structurant",
    }
    ales = f.ProjetFactory(territoire=monde["ales"], commune=monde["commune_30"])
    hors = {**donnees, "avis-0-projet": str(ales.pk)}
    client.post(url, hors)
    assert not AvisRevue.objects.exists()  # outside the perimeter: not a valid choice
    reponse = client.post(url, donnees)
    assert reponse.status_code == 302
    assert AvisRevue.objects.get().avis == "favorable"
    releve = client.get(reverse("admin:projets_revueregionale_releve", args=[revue.pk]))
    assert releve.status_code == 200
    assert releve["Content-Type"] == "application/pdf"
    assert releve.content.startswith(b"%PDF")
    # A reader of the région reads the opinions.
    lecteur = f.utilisateur(
        "lecteur-ara", role="agent", echelon="region", niveau=Habilitation.Niveau.LECTEUR,
        regions=[monde["ara"]],
    )  # fmt: skip
    page = connecte(client.__class__(), lecteur).get(url)
    assert "Structurant" in page.text


def test_autocompletion_des_dossiers_financables(client, personas, argent, monde):
    brouillon = f.ProjetFactory(territoire=monde["adn"], commune=monde["commune_07"])
    client = connecte(client, personas["region-ara"])
    reponse = client.get(
        "/admin/autocomplete/",
        {"app_label": "financements", "model_name": "aide", "field_name": "projet", "term": ""},
    )
    ids = {r["id"] for r in reponse.json()["results"]}
    assert str(argent["projet"].pk) in ids and str(brouillon.pk) not in ids


def test_conventionner_depuis_le_back_office_avec_echeancier(client, personas, argent):
    from financements import services as fin

    agent = personas["region-ara"]
    aide = fin.aide_proposer(
        user=agent,
        enveloppe=argent["ara"],
        projet=argent["projet"],
        montant="30000",
        nature="subvention",
    )
    fin.aide_engager(user=agent, aide=aide)
    client.force_login(agent)
    url = reverse("admin:financements_aide_operation", args=[aide.pk, "conventionner"])
    refus = client.post(
        url,
        follow=True,
        data={
            "date_convention": "2026-04-01",
            "versement_modalite": "echelonne",
            "versement_debut": "2026-05-01",
        },
    )
    assert "dernier versement prévu" in html.unescape(refus.content.decode())
    aide.refresh_from_db()
    assert aide.statut == "engagee"
    client.post(
        url,
        {
            "date_convention": "2026-04-01",
            "versement_modalite": "unique",
            "versement_debut": "2026-05-01",
        },
    )
    aide.refresh_from_db()
    assert (aide.statut, aide.versement_modalite, aide.versement_debut) == (
        "conventionnee",
        "unique",
        date(2026, 5, 1),
    )
