"""The territory lead's space: dossiers, sections, attachments, submission, refusals."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from demo.donnees import PDF_MINIMAL
from projets import services
from projets.models import Message, PieceJointe, Projet

from . import factories as f


@pytest.fixture
def porteur(client, personas):
    client.force_login(personas["porteur-adn"])
    return client


@pytest.fixture
def brouillon(monde, personas):
    """An empty draft of Ardèche-Drôme Nord (only a title)."""
    return services.projet_creer(
        user=personas["porteur-adn"],
        territoire=monde["adn"],
        phase=monde["phase"],
        titre="Nouvelle ligne",
    )


@pytest.fixture
def projet_ales(monde, personas):
    return f.ProjetFactory(territoire=monde["ales"], phase=monde["phase"])


def section(projet, nom):
    return reverse("dossier_section", args=[projet.reference, nom])


def fichier(nom, contenu):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(nom, contenu)


# --- Access ----------------------------------------------------------------------------


def test_anonyme_renvoye_vers_la_connexion(client, projet_adn):
    for url in (
        reverse("mes_dossiers"),
        reverse("dossier_detail", args=[projet_adn.reference]),
        section(projet_adn, "porteur"),
    ):
        reponse = client.get(url)
        assert reponse.status_code == 302
        assert reponse.url.startswith(reverse("connexion"))


def test_agent_renvoye_vers_l_administration(client, personas, projet_adn):
    client.force_login(personas["region-ara"])
    assert client.get(reverse("mes_dossiers")).url == reverse("admin:index")
    # The e-mail link of a dossier leads an officer to its back-office page...
    reponse = client.get(reverse("dossier_detail", args=[projet_adn.reference]))
    assert reponse.status_code == 302
    assert reponse.url.startswith("/admin/")
    # ... only within the officer's perimeter.
    client.force_login(personas["region-occitanie"])
    assert client.get(reverse("dossier_detail", args=[projet_adn.reference])).status_code == 404


def test_partenaire_renvoye_vers_son_espace(client, personas):
    client.force_login(personas["partenaire-bpi"])
    reponse = client.get(reverse("mes_dossiers"))
    assert reponse.status_code == 302 and reponse.url == reverse("espace_partenaire")


def test_compte_sans_habilitation_refuse(client, monde):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="inconnu"))
    reponse = client.get(reverse("mes_dossiers"))
    assert reponse.status_code == 403
    assert "réservé aux chefs de projet" in reponse.content.decode()


def test_mes_dossiers_seulement_du_territoire(porteur, monde, projet_adn, projet_ales):
    reponse = porteur.get(reverse("mes_dossiers"))
    assert reponse.status_code == 200
    assert [p.reference for p in reponse.context["dossiers"]] == [projet_adn.reference]
    contenu = reponse.content.decode()
    assert "Brouillon" in contenu
    assert "Compléter puis déposer le dossier" in contenu
    assert projet_ales.reference not in contenu


def test_mes_dossiers_nombre_de_requetes_constant(
    porteur, monde, personas, django_assert_max_num_queries
):
    for _ in range(15):
        f.ProjetFactory(territoire=monde["adn"], phase=monde["phase"])
    # session, user, habilitation (porteur check), dossiers with territory/commune, the
    # perimeter's habilitation + territories subquery, DSFR site config (2 without a row)
    with django_assert_max_num_queries(8):
        reponse = porteur.get(reverse("mes_dossiers"))
    assert len(reponse.context["dossiers"]) == 15


@pytest.mark.parametrize(
    "nom_url", ["dossier_detail", "dossier_recapitulatif", "dossier_abandonner"]
)
def test_dossier_d_un_autre_territoire_404(porteur, projet_ales, nom_url):
    assert porteur.get(reverse(nom_url, args=[projet_ales.reference])).status_code == 404


def test_autre_territoire_404_en_ecriture(porteur, projet_ales):
    titre = projet_ales.titre
    reponse = porteur.post(section(projet_ales, "projet"), {"titre": "Piraté"})
    assert reponse.status_code == 404
    assert porteur.post(reverse("dossier_deposer", args=[projet_ales.reference])).status_code == 404
    reponse = porteur.post(reverse("dossier_detail", args=[projet_ales.reference]), {"texte": "x"})
    assert reponse.status_code == 404
    projet_ales.refresh_from_db()
    assert projet_ales.titre == titre
    assert projet_ales.statut == "brouillon"
    assert not Message.objects.exists()


# --- Creating and editing a draft ---------------------------------------------------------


def test_creer_un_brouillon(porteur, monde):
    reponse = porteur.post(
        reverse("dossier_nouveau"), {"territoire": monde["adn"].pk, "titre": "Four"}
    )
    projet = Projet.objects.get()
    assert reponse.url == section(projet, "porteur")
    assert projet.statut == "brouillon"
    assert projet.territoire == monde["adn"]
    assert projet.phase == monde["phase"]


def test_creer_sans_titre_ou_pour_un_autre_territoire(porteur, monde):
    reponse = porteur.post(reverse("dossier_nouveau"), {"territoire": monde["adn"].pk, "titre": ""})
    assert reponse.status_code == 200
    assert "Ce champ est obligatoire." in reponse.content.decode()
    reponse = porteur.post(
        reverse("dossier_nouveau"), {"territoire": monde["ales"].pk, "titre": "Intrus"}
    )
    assert reponse.status_code == 200
    assert "Sélectionnez un choix valide" in reponse.context["form"].errors["territoire"][0]
    assert not Projet.objects.exists()


def test_enregistrer_une_section_puis_continuer(porteur, brouillon):
    reponse = porteur.post(
        section(brouillon, "porteur"),
        {
            "porteur_raison_sociale": "Ateliers du Vivarais",
            "porteur_siret": "732 829 320 00074",
            "porteur_taille": "PME",
            "contact_email": "contact@vivarais.example",
            "action": "continuer",
        },
    )
    assert reponse.url == section(brouillon, "projet")
    brouillon.refresh_from_db()
    assert brouillon.porteur_siret == "73282932000074"
    assert brouillon.history.first().history_user.username == "porteur-adn"


def test_siret_invalide_message_au_champ_rien_enregistre(porteur, brouillon):
    reponse = porteur.post(
        section(brouillon, "porteur"),
        {"porteur_raison_sociale": "Ateliers du Vivarais", "porteur_siret": "73282932000075"},
    )
    assert reponse.status_code == 200
    form = reponse.context["form"]
    assert form.errors["porteur_siret"] == [
        "Ce numéro SIRET n'est pas valide (clé de contrôle incorrecte)."
    ]
    contenu = reponse.content.decode()
    assert 'value="Ateliers du Vivarais"' in contenu  # the rest of the form is kept
    assert 'aria-invalid="true"' in contenu
    brouillon.refresh_from_db()
    assert brouillon.porteur_raison_sociale == ""


@pytest.mark.parametrize(
    ("donnees", "champ", "message"),
    [
        (
            {"montant_investissement": "-5", "aide_demandee": "0"},
            "montant_investissement",
            "Le montant ne peut pas être négatif.",
        ),
        (
            {"montant_investissement": "100 000", "aide_demandee": "150000"},
            "aide_demandee",
            "L'aide demandée ne peut pas dépasser le montant de l'investissement.",
        ),
        (
            {"montant_investissement": "beaucoup", "aide_demandee": ""},
            "montant_investissement",
            "Saisissez un montant en euros, par exemple « 250000 ».",
        ),
    ],
)
def test_financement_invalide(porteur, brouillon, donnees, champ, message):
    reponse = porteur.post(section(brouillon, "financement"), donnees)
    assert reponse.status_code == 200
    assert reponse.context["form"].errors[champ] == [message]
    brouillon.refresh_from_db()
    assert brouillon.montant_investissement is None
    assert brouillon.aide_demandee is None


def test_financement_montants_en_francais(porteur, brouillon):
    porteur.post(
        section(brouillon, "financement"),
        {"montant_investissement": "1 250 000,50", "aide_demandee": "200000"},
    )
    brouillon.refresh_from_db()
    assert str(brouillon.montant_investissement) == "1250000.50"


def test_projet_dates_et_axes(porteur, brouillon, monde):
    axe = monde["axes"][1]
    reponse = porteur.post(
        section(brouillon, "projet"),
        {
            "titre": "Nouvelle ligne",
            "date_debut_prevue": "2026-05-01",
            "date_fin_prevue": "2026-01-01",
            "axes": [axe.pk],
        },
    )
    assert reponse.context["form"].errors["date_fin_prevue"] == [
        "La date de fin prévue précède la date de début."
    ]
    assert not brouillon.axes.exists()
    porteur.post(
        section(brouillon, "projet"),
        {"titre": "Nouvelle ligne", "date_debut_prevue": "2026-05-01", "axes": [axe.pk]},
    )
    assert list(brouillon.axes.all()) == [axe]


def test_localisation_recherche_sans_javascript(porteur, brouillon, monde):
    reponse = porteur.post(
        section(brouillon, "localisation"),
        {"recherche_commune": "annon", "action": "rechercher", "zone_qpv": "on"},
    )
    assert reponse.status_code == 200
    contenu = reponse.content.decode()
    assert "Annonay (07010)" in contenu
    assert "Saint-Vallier (26002)" not in contenu
    assert "1 commune proposée" in contenu
    brouillon.refresh_from_db()
    assert not brouillon.zone_qpv  # a search saves nothing

    reponse = porteur.get(section(brouillon, "localisation"))
    contenu = reponse.content.decode()
    assert "Saint-Vallier (26002)" in contenu
    assert 'label="CA Annonay Rhône Agglo"' in contenu  # grouped by EPCI
    assert "Alès (30007)" not in contenu  # another territory's commune


def test_localisation_commune_hors_territoire_refusee(porteur, brouillon, monde):
    reponse = porteur.post(section(brouillon, "localisation"), {"commune": "30007"})
    assert "Sélectionnez un choix valide" in reponse.context["form"].errors["commune"][0]
    # Since 1 July 2024 the rural zone is FRR (ZRR is no longer offered).
    porteur.post(section(brouillon, "localisation"), {"commune": "07010", "zone_frr": "on"})
    brouillon.refresh_from_db()
    assert brouillon.commune_id == "07010"
    assert brouillon.zone_frr and not brouillon.zone_zrr


def test_reprendre_un_brouillon_affiche_les_valeurs(porteur, projet_adn):
    reponse = porteur.get(section(projet_adn, "porteur"))
    assert 'value="73282932000074"' in reponse.content.decode()
    reponse = porteur.get(section(projet_adn, "financement"))
    assert 'value="1000000,00"' in reponse.content.decode()


def test_section_inconnue(porteur, brouillon):
    assert porteur.get(section(brouillon, "inconnue")).status_code == 404


def test_lecture_seule_apres_depot(porteur, projet_adn, personas):
    services.projet_transitionner(
        projet=projet_adn, transition="deposer", user=personas["porteur-adn"]
    )
    reponse = porteur.post(section(projet_adn, "projet"), {"titre": "Changé après dépôt"})
    assert reponse.url == reverse("dossier_detail", args=[projet_adn.reference])
    reponse = porteur.post(
        section(projet_adn, "pieces"),
        {"type": "devis", "fichier": fichier("devis.pdf", PDF_MINIMAL)},
    )
    assert reponse.status_code == 302
    projet_adn.refresh_from_db()
    assert projet_adn.titre == "Extension de l'atelier"
    assert projet_adn.pieces_jointes.count() == 1
    reponse = porteur.get(reverse("dossier_detail", args=[projet_adn.reference]))
    assert "Modifier le brouillon" not in reponse.content.decode()


def test_csrf_exige(personas, brouillon):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["porteur-adn"])
    reponse = client.post(section(brouillon, "projet"), {"titre": "Sans jeton"})
    assert reponse.status_code == 403
    reponse = client.post(reverse("dossier_deposer", args=[brouillon.reference]))
    assert reponse.status_code == 403
    brouillon.refresh_from_db()
    assert brouillon.titre == "Nouvelle ligne"
    # With the token from the page, the same post goes through.
    page = client.get(section(brouillon, "projet"))
    jeton = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    client.post(section(brouillon, "projet"), {"titre": "Avec jeton", "csrfmiddlewaretoken": jeton})
    brouillon.refresh_from_db()
    assert brouillon.titre == "Avec jeton"


# --- Attachments ------------------------------------------------------------------------


def test_joindre_un_pdf(porteur, brouillon):
    reponse = porteur.post(
        section(brouillon, "pieces"),
        {"type": "devis", "fichier": fichier("Devis machine.pdf", PDF_MINIMAL)},
    )
    assert reponse.status_code == 302
    piece = brouillon.pieces_jointes.get()
    assert piece.nom_original == "Devis machine.pdf"
    assert piece.type_mime == "application/pdf"


@pytest.mark.parametrize(
    ("nom", "contenu", "message"),
    [
        ("devis.pdf", b"<html>pas un pdf</html>", "Format de fichier non accepté"),
        ("vide.pdf", b"", "Le fichier soumis est vide."),
    ],
)
def test_piece_refusee(porteur, brouillon, nom, contenu, message):
    reponse = porteur.post(
        section(brouillon, "pieces"), {"type": "devis", "fichier": fichier(nom, contenu)}
    )
    assert reponse.status_code == 200
    assert message in " ".join(reponse.context["form"].errors["fichier"])
    assert not PieceJointe.objects.exists()


def test_piece_trop_grosse(porteur, brouillon, settings):
    settings.PIECE_JOINTE_TAILLE_MAX = 1024 * 1024
    gros = PDF_MINIMAL + b"0" * (1024 * 1024)
    reponse = porteur.post(
        section(brouillon, "pieces"), {"type": "devis", "fichier": fichier("gros.pdf", gros)}
    )
    assert reponse.context["form"].errors["fichier"] == [
        "Le fichier dépasse la taille maximale de 1 Mo."
    ]
    assert not PieceJointe.objects.exists()


def test_telecharger_une_piece(porteur, projet_adn):
    piece = projet_adn.pieces_jointes.get()
    url = reverse("piece_jointe_telecharger", args=[projet_adn.reference, piece.uuid])
    reponse = porteur.get(url)
    assert reponse.status_code == 200
    assert reponse["Content-Disposition"].startswith("attachment;")
    assert reponse["X-Content-Type-Options"] == "nosniff"
    assert reponse["Content-Type"] == "application/pdf"
    assert b"".join(reponse.streaming_content).startswith(b"%PDF-")


def test_telecharger_hors_perimetre_404(client, personas, projet_adn):
    piece = projet_adn.pieces_jointes.get()
    url = reverse("piece_jointe_telecharger", args=[projet_adn.reference, piece.uuid])
    client.force_login(personas["porteur-ales"])
    assert client.get(url).status_code == 404
    client.force_login(personas["region-occitanie"])
    assert client.get(url).status_code == 404
    client.force_login(personas["prefecture-07"])  # reader of the territory's département
    assert client.get(url).status_code == 200
    client.logout()
    assert client.get(url).status_code == 302


# --- Summary, submission, complements, withdrawal ---------------------------------------------


def test_recapitulatif_liste_les_manques(porteur, brouillon):
    reponse = porteur.get(reverse("dossier_recapitulatif", args=[brouillon.reference]))
    contenu = reponse.content.decode()
    assert "Dossier incomplet" in contenu
    assert "le SIRET du porteur" in contenu


def test_depot_incomplet_refuse(porteur, brouillon):
    reponse = porteur.post(
        reverse("dossier_deposer", args=[brouillon.reference]), {"attestation": "on"}, follow=True
    )
    assert "Le dossier ne peut pas être déposé" in reponse.content.decode()
    brouillon.refresh_from_db()
    assert brouillon.statut == "brouillon"


def test_deposer_previent_les_instructeurs(
    porteur, projet_adn, personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reponse = porteur.post(
            reverse("dossier_deposer", args=[projet_adn.reference]), {"attestation": "on"}
        )
    assert reponse.url == reverse("dossier_detail", args=[projet_adn.reference])
    projet_adn.refresh_from_db()
    assert projet_adn.statut == "depose"
    destinataires = {adresse for message in mail.outbox for adresse in message.to}
    assert "region-ara@exemple.gouv.fr" in destinataires
    assert "porteur-adn@exemple.gouv.fr" in destinataires
    # Leads get the portal's page, officers the back-office's.
    for message in mail.outbox:
        if "porteur-adn@exemple.gouv.fr" in message.to:
            assert f"/dossiers/{projet_adn.reference}/" in message.body
        else:
            assert f"/admin/projets/projet/{projet_adn.pk}/change/" in message.body


def test_repondre_a_une_demande_de_complements(
    porteur, projet_adn, personas, django_capture_on_commit_callbacks
):
    agent = personas["region-ara"]
    services.projet_transitionner(
        projet=projet_adn, transition="deposer", user=personas["porteur-adn"]
    )
    services.projet_transitionner(projet=projet_adn, transition="instruire", user=agent)
    services.projet_transitionner(
        projet=projet_adn,
        transition="demander_complements",
        user=agent,
        commentaire="Merci de joindre le Kbis.",
    )
    detail = porteur.get(reverse("dossier_detail", args=[projet_adn.reference]))
    assert "Merci de joindre le Kbis." in detail.content.decode()
    assert "À compléter" in detail.content.decode()

    # Edit while « à compléter », then send back with a message.
    porteur.post(
        section(projet_adn, "pieces"), {"type": "kbis", "fichier": fichier("kbis.pdf", PDF_MINIMAL)}
    )
    with django_capture_on_commit_callbacks(execute=True):
        porteur.post(
            reverse("dossier_deposer", args=[projet_adn.reference]),
            {"commentaire": "Kbis ajouté.", "attestation": "on"},
        )
    projet_adn.refresh_from_db()
    # Back in the same officer's queue, flagged as answered.
    assert projet_adn.statut == "en_instruction" and projet_adn.instructeur == agent
    assert projet_adn.complete_le is not None
    assert projet_adn.pieces_jointes.count() == 2
    assert projet_adn.messages.filter(texte="Kbis ajouté.", auteur=personas["porteur-adn"]).exists()
    a_l_instructeur = [m for m in mail.outbox if "region-ara@exemple.gouv.fr" in m.to]
    assert [m.subject for m in a_l_instructeur] == [
        f"[Territoires d'industrie] Compléments reçus : {projet_adn.reference}"
    ]


def test_abandon_exige_un_motif(porteur, projet_adn):
    url = reverse("dossier_abandonner", args=[projet_adn.reference])
    reponse = porteur.post(url, {"commentaire": ""})
    assert reponse.context["form"].errors["commentaire"] == ["Indiquez le motif de l'abandon."]
    projet_adn.refresh_from_db()
    assert projet_adn.statut == "brouillon"
    porteur.post(url, {"commentaire": "Projet reporté."})
    projet_adn.refresh_from_db()
    assert projet_adn.statut == "abandonne"
    assert projet_adn.transitions.get().commentaire == "Projet reporté."


def test_message_a_l_instructeur(porteur, projet_adn, django_capture_on_commit_callbacks):
    url = reverse("dossier_detail", args=[projet_adn.reference])
    reponse = porteur.post(url, {"texte": "  "})
    assert reponse.context["form_message"].errors["texte"] == ["Le message est vide."]
    with django_capture_on_commit_callbacks(execute=True):
        porteur.post(url, {"texte": "Une question sur le calendrier."})
    assert projet_adn.messages.get().texte == "Une question sur le calendrier."
    assert any("region-ara@exemple.gouv.fr" in m.to for m in mail.outbox)


def test_chronologie_du_dossier(porteur, projet_adn, personas):
    services.projet_transitionner(
        projet=projet_adn, transition="deposer", user=personas["porteur-adn"]
    )
    services.projet_transitionner(
        projet=projet_adn, transition="instruire", user=personas["region-ara"]
    )
    reponse = porteur.get(reverse("dossier_detail", args=[projet_adn.reference]))
    assert [t.statut_apres for t in reponse.context["transitions"]] == [
        "depose",
        "en_instruction",
    ]
    assert "En instruction" in reponse.content.decode()
