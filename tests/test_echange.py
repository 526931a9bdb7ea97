"""The instruction exchange (issue 19): two-way messages, the lead's view of its aids,
attachment withdrawal and replacement, the complements loop, the certification and the
printable récapitulatif, the partner space, the back-office login refusals, e-mail links
and the legal pages."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from demo.donnees import PDF_MINIMAL, pdf_factice
from financements import services as fin
from projets import services
from projets.models import Message, PieceJointe, Projet

from . import factories as f

MOT_DE_PASSE = "motdepasse-de-test-123"


@pytest.fixture
def porteur(client, personas):
    client.force_login(personas["porteur-adn"])
    return client


@pytest.fixture
def agent(personas):
    client = Client()
    client.force_login(personas["region-ara"])
    return client


def amener_en_instruction(projet, personas):
    services.projet_deposer(projet=projet, user=personas["porteur-adn"], attestation=True)
    services.projet_transitionner(
        projet=projet, transition="instruire", user=personas["region-ara"]
    )
    projet.refresh_from_db()
    return projet


def page_admin(projet):
    return reverse("admin:projets_projet_change", args=[projet.pk])


# --- Two-way messages -------------------------------------------------------------------


def test_agent_ecrit_au_porteur_depuis_le_back_office(
    agent, porteur, projet_adn, personas, django_capture_on_commit_callbacks
):
    projet = amener_en_instruction(projet_adn, personas)
    page = agent.get(page_admin(projet))
    assert "Écrire au porteur" in page.text
    with django_capture_on_commit_callbacks(execute=True):
        reponse = agent.post(
            reverse("admin:projets_projet_message", args=[projet.pk]),
            {
                "texte": "Pouvez-vous préciser le calendrier ?",
                "fichier": pdf_factice("courrier"),
                "type_piece": "autre",
            },
        )
    assert reponse.status_code == 302
    message = Message.objects.get(projet=projet)
    assert not message.de_porteur and message.lu_le is None
    assert message.pieces_jointes.get().nom_original == "courrier.pdf"
    # The lead is told by e-mail, with the portal's link.
    courriel = next(m for m in mail.outbox if "porteur-adn@exemple.gouv.fr" in m.to)
    assert "Nouveau message" in courriel.subject
    assert f"http://127.0.0.1:8000/dossiers/{projet.reference}/#messages" in courriel.body
    # The portal's header counts it until the lead opens the dossier.
    accueil = porteur.get(reverse("accueil")).text
    assert "1 message non lu" in accueil
    liste = porteur.get(reverse("mes_dossiers")).text
    assert "1 message non lu" in liste
    detail = porteur.get(reverse("dossier_detail", args=[projet.reference])).text
    assert "Pouvez-vous préciser le calendrier ?" in detail
    assert "courrier.pdf" in detail and "Nouveau" in detail
    message.refresh_from_db()
    assert message.lu_le is not None
    assert "message non lu" not in porteur.get(reverse("accueil")).text
    # The message's attachment is not one of the dossier's pieces.
    assert list(services.champs_manquants(projet)) == []
    assert projet.pieces_jointes.actives().du_dossier().count() == 1


@pytest.mark.parametrize(
    "donnees, erreur",
    [
        ({"texte": "  ", "type_piece": "autre"}, "Le message est vide."),
        ({"texte": "Voici", "type_piece": "autre", "fichier": "exe"}, "Format de fichier"),
    ],
)
def test_message_agent_refuse_sans_rien_enregistrer(agent, projet_adn, personas, donnees, erreur):
    projet = amener_en_instruction(projet_adn, personas)
    if donnees.get("fichier") == "exe":
        donnees["fichier"] = ContentFile(b"MZ\x90\x00 not a pdf", name="virus.pdf")
    reponse = agent.post(
        reverse("admin:projets_projet_message", args=[projet.pk]), donnees, follow=True
    )
    assert reponse.status_code == 200
    assert erreur in reponse.text
    assert not Message.objects.exists()
    assert PieceJointe.objects.count() == 1  # the dossier's own


def test_lecteur_et_hors_perimetre_ne_peuvent_pas_ecrire(client, projet_adn, personas):
    projet = amener_en_instruction(projet_adn, personas)
    url = reverse("admin:projets_projet_message", args=[projet.pk])
    client.force_login(personas["prefecture-07"])  # reader of the perimeter
    assert "Écrire au porteur" not in client.get(page_admin(projet)).text
    reponse = client.post(url, {"texte": "Bonjour", "type_piece": "autre"}, follow=True)
    assert "Message non envoyé" in reponse.text
    client.force_login(personas["region-occitanie"])  # outside the perimeter
    assert client.post(url, {"texte": "Bonjour", "type_piece": "autre"}).status_code == 404
    assert not Message.objects.exists()


def test_pas_de_message_sur_un_dossier_clos(projet_adn, personas):
    projet = amener_en_instruction(projet_adn, personas)
    services.projet_transitionner(
        projet=projet, transition="refuser", user=personas["region-ara"], commentaire="Non."
    )
    projet.refresh_from_db()
    with pytest.raises(Exception, match="n'accepte plus"):
        services.message_envoyer(projet=projet, user=personas["region-ara"], texte="Bonjour")


def test_message_du_porteur_non_lu_au_tableau_de_bord(
    agent, porteur, projet_adn, personas, django_capture_on_commit_callbacks
):
    projet = amener_en_instruction(projet_adn, personas)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        porteur.post(reverse("dossier_detail", args=[projet.reference]), {"texte": "Une question."})
    message = Message.objects.get()
    assert message.de_porteur
    # Only the dossier's officer is told, with the back-office link.
    assert [m.to for m in mail.outbox] == [["region-ara@exemple.gouv.fr"]]
    assert f"/admin/projets/projet/{projet.pk}/change/" in mail.outbox[0].body
    tableau = agent.get(reverse("admin:index")).text
    assert "Messages non lus des porteurs (1)" in tableau and "Une question." in tableau
    # A reader's visit does not mark it read; the officer's does.
    lecteur = Client()
    lecteur.force_login(personas["prefecture-07"])
    lecteur.get(page_admin(projet))
    message.refresh_from_db()
    assert message.lu_le is None
    agent.get(page_admin(projet))
    message.refresh_from_db()
    assert message.lu_le is not None
    assert "Messages non lus des porteurs (0)" in agent.get(reverse("admin:index")).text


def test_compteur_de_l_entete_en_une_requete(
    porteur, projet_adn, personas, django_assert_num_queries
):
    from portail.templatetags.portail import espace_connecte

    class Requete:
        user = personas["porteur-adn"]

    Requete.user.habilitation  # noqa: B018 (loaded once per request by the middleware chain)
    # Expected: the unread count (one query, perimeter in a subquery).
    with django_assert_num_queries(1):
        assert espace_connecte({"request": Requete()}) == {"role": "porteur", "non_lus": 0}


# --- The lead sees its aids, with e-mails on money events ---------------------------------


@pytest.fixture
def aide_retenue(projet_adn, personas, monde):
    projet = amener_en_instruction(projet_adn, personas)
    services.projet_transitionner(
        projet=projet, transition="retenir", user=personas["region-ara"], commentaire="Oui."
    )
    dispositif = f.DispositifFactory(
        nom="Fonds d'accélération", montant_national=Decimal("1000000")
    )
    enveloppe = fin.enveloppe_allouer(
        user=personas["national"],
        dispositif=dispositif,
        region=monde["ara"],
        annee=2026,
        montant="500000",
    )
    return fin.aide_proposer(
        user=personas["region-ara"],
        enveloppe=enveloppe,
        projet=projet,
        montant="150000",
        nature="subvention",
    )


def test_le_porteur_suit_son_aide_et_recoit_les_courriels(
    porteur, aide_retenue, personas, django_capture_on_commit_callbacks
):
    projet = aide_retenue.projet
    url = reverse("dossier_detail", args=[projet.reference])
    # A mere proposal is not shown to the lead.
    assert "Aucune aide n'a encore été décidée" in porteur.get(url).text
    mail.outbox.clear()
    agent = personas["region-ara"]
    with django_capture_on_commit_callbacks(execute=True):
        fin.aide_engager(user=agent, aide=aide_retenue, reference_decision="CP-2026-12")
    with django_capture_on_commit_callbacks(execute=True):
        fin.aide_conventionner(
            user=agent,
            aide=aide_retenue,
            date_convention=date(2026, 4, 2),
            versement_modalite="unique",
            versement_debut=date(2026, 4, 2),
        )
    with django_capture_on_commit_callbacks(execute=True):
        fin.versement_enregistrer(
            user=agent, aide=aide_retenue, montant="50000", date_versement=date(2026, 5, 4)
        )
    sujets = [m.subject for m in mail.outbox if "porteur-adn@exemple.gouv.fr" in m.to]
    assert sujets == [
        f"[Territoires d'industrie] {projet.reference} : aide engagée",
        f"[Territoires d'industrie] {projet.reference} : aide conventionnée (convention signée)",
        f"[Territoires d'industrie] {projet.reference} : versement de 50\u202f000,00\xa0€",
    ]
    assert "reste à verser : 100\u202f000,00\xa0€" in mail.outbox[-1].body
    assert f"/dossiers/{projet.reference}/#aides" in mail.outbox[-1].body
    page = porteur.get(url).text
    assert "Fonds d&#x27;accélération" in page
    assert "Conventionnée" in page
    assert "signée le 02/04/2026" in page
    assert "150\u202f000\u00a0€" in page  # signed amount
    assert "50\u202f000\u00a0€ le 04/05/2026" in page  # payment received
    assert "100\u202f000\u00a0€" in page  # remaining


def test_refus_d_operation_sans_courriel(
    aide_retenue, personas, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(fin.OperationRefusee):
        fin.versement_enregistrer(
            user=personas["region-ara"],
            aide=aide_retenue,
            montant="10",
            date_versement=date(2026, 5, 4),
        )  # a proposed aide cannot be paid
    assert mail.outbox == []


# --- Attachments: withdraw, replace, kind not MIME ------------------------------------------


def test_retirer_et_remplacer_une_piece_du_brouillon(porteur, projet_adn, personas):
    piece = projet_adn.pieces_jointes.get()
    pieces = reverse("dossier_section", args=[projet_adn.reference, "pieces"])
    page = porteur.get(pieces).text
    assert "Document PDF" in page and "application/pdf" not in page
    url = reverse("piece_jointe_remplacer", args=[projet_adn.reference, piece.uuid])
    # A bad file is refused and nothing changes.
    reponse = porteur.post(url, {"fichier": ContentFile(b"texte", name="devis.pdf")})
    assert "Format de fichier non accepté" in reponse.text
    assert projet_adn.pieces_jointes.actives().get() == piece
    reponse = porteur.post(url, {"fichier": pdf_factice("devis-v2")})
    assert reponse.url == pieces
    piece.refresh_from_db()
    nouvelle = projet_adn.pieces_jointes.actives().get()
    assert nouvelle.nom_original == "devis-v2.pdf" and nouvelle.type == piece.type
    assert piece.remplacee_par == nouvelle and piece.retiree_le is not None
    assert piece.fichier.storage.exists(piece.fichier.name)  # kept, never destroyed
    porteur.post(reverse("piece_jointe_retirer", args=[projet_adn.reference, nouvelle.uuid]))
    nouvelle.refresh_from_db()
    assert nouvelle.retiree_par == personas["porteur-adn"]
    assert PieceJointe.objects.filter(projet=projet_adn).count() == 2
    assert "au moins une pièce jointe" in services.champs_manquants(projet_adn)
    # A withdrawn piece cannot be withdrawn again (404: no longer in the dossier).
    url = reverse("piece_jointe_retirer", args=[projet_adn.reference, nouvelle.uuid])
    assert porteur.post(url).status_code == 404


def test_pieces_figees_apres_depot(porteur, projet_adn, personas):
    services.projet_deposer(projet=projet_adn, user=personas["porteur-adn"], attestation=True)
    piece = projet_adn.pieces_jointes.get()
    reponse = porteur.post(
        reverse("piece_jointe_retirer", args=[projet_adn.reference, piece.uuid]), follow=True
    )
    assert "ne sont plus modifiables" in reponse.text
    piece.refresh_from_db()
    assert piece.retiree_le is None
    with pytest.raises(Exception, match="ne sont plus modifiables"):
        services.piece_jointe_remplacer(
            piece=piece, user=personas["porteur-adn"], fichier=pdf_factice("x")
        )
    # An officer cannot withdraw the lead's pieces either.
    with pytest.raises(Exception, match="Seul le porteur"):
        services.piece_jointe_retirer(piece=piece, user=personas["region-ara"])


def test_pieces_remplacables_quand_a_completer(porteur, projet_adn, personas):
    projet = amener_en_instruction(projet_adn, personas)
    services.projet_transitionner(
        projet=projet,
        transition="demander_complements",
        user=personas["region-ara"],
        commentaire="Devis à jour svp.",
    )
    piece = projet.pieces_jointes.get()
    url = reverse("piece_jointe_remplacer", args=[projet.reference, piece.uuid])
    porteur.post(url, {"fichier": pdf_factice("devis-a-jour")})
    assert projet.pieces_jointes.actives().get().nom_original == "devis-a-jour.pdf"


def test_autre_territoire_ne_touche_pas_aux_pieces(client, projet_adn, personas):
    client.force_login(personas["porteur-ales"])
    piece = projet_adn.pieces_jointes.get()
    url = reverse("piece_jointe_retirer", args=[projet_adn.reference, piece.uuid])
    assert client.post(url).status_code == 404
    piece.refresh_from_db()
    assert piece.retiree_le is None


# --- Complements loop ---------------------------------------------------------------------


def test_dossier_complete_revient_a_son_instructeur(agent, projet_adn, personas):
    projet = amener_en_instruction(projet_adn, personas)
    services.projet_transitionner(
        projet=projet,
        transition="demander_complements",
        user=personas["region-ara"],
        commentaire="Kbis svp.",
    )
    services.projet_deposer(
        projet=projet, user=personas["porteur-adn"], attestation=True, commentaire="Fait."
    )
    projet.refresh_from_db()
    assert projet.statut == "en_instruction" and projet.instructeur == personas["region-ara"]
    tableau = agent.get(reverse("admin:index")).text
    assert projet.reference in tableau and "compléments reçus le" in tableau
    # The officer can decide at once, without taking it again.
    services.projet_transitionner(
        projet=projet, transition="retenir", user=personas["region-ara"], commentaire="Oui."
    )
    projet.refresh_from_db()
    assert projet.statut == "retenu" and projet.complete_le is None


# --- Certification and printable récapitulatif -----------------------------------------------


def test_depot_exige_l_attestation(porteur, projet_adn, personas):
    url = reverse("dossier_deposer", args=[projet_adn.reference])
    recapitulatif = porteur.get(reverse("dossier_recapitulatif", args=[projet_adn.reference]))
    assert "J&#x27;atteste sur l&#x27;honneur l&#x27;exactitude des informations" in (
        recapitulatif.text
    )
    reponse = porteur.post(url, follow=True)
    assert "Cochez l&#x27;attestation sur l&#x27;honneur" in reponse.text
    projet_adn.refresh_from_db()
    assert projet_adn.statut == "brouillon" and projet_adn.atteste_le is None
    porteur.post(url, {"attestation": "on"})
    projet_adn.refresh_from_db()
    assert projet_adn.statut == "depose"
    assert projet_adn.atteste_par == personas["porteur-adn"] and projet_adn.atteste_le
    assert projet_adn.history.first().history_change_reason == "Attestation sur l'honneur"


def test_recapitulatif_pdf(porteur, projet_adn, personas, client):
    url = reverse("dossier_pdf", args=[projet_adn.reference])
    # Not before submission.
    assert porteur.get(url).url == reverse("dossier_detail", args=[projet_adn.reference])
    services.projet_deposer(projet=projet_adn, user=personas["porteur-adn"], attestation=True)
    assert (
        "Récapitulatif imprimable (PDF)"
        in porteur.get(reverse("dossier_detail", args=[projet_adn.reference])).text
    )
    reponse = porteur.get(url)
    assert reponse.status_code == 200
    assert reponse["Content-Type"] == "application/pdf"
    contenu = b"".join(reponse.streaming_content) if reponse.streaming else reponse.content
    assert contenu.startswith(b"%PDF-")
    # Another territory's lead gets a 404.
    client.force_login(personas["porteur-ales"])
    assert client.get(url).status_code == 404


def test_gabarit_imprimable_reprend_le_sommaire(rf, projet_adn, personas):
    from django.template.loader import render_to_string

    services.projet_deposer(projet=projet_adn, user=personas["porteur-adn"], attestation=True)
    projet = Projet.objects.get(pk=projet_adn.pk)
    requete = rf.get("/")
    requete.user = personas["porteur-adn"]
    html = render_to_string(
        "portail/dossier_imprimable.html",
        {"projet": projet, "axes": projet.axes.all(), "pieces": [], "imprimable": True},
        request=requete,
    )
    assert "1. Porteur du projet" in html and "Ateliers du Vivarais" in html
    assert "Attesté le" in html and "Modifier" not in html


# --- Partner space --------------------------------------------------------------------------


def test_espace_partenaire(client, personas):
    from api.models import JetonPartenaire
    from api.services import jeton_emettre

    partenaire = personas["partenaire-bpi"]
    secret = jeton_emettre(
        par=personas["national"],
        jeton=JetonPartenaire(user=partenaire, nom="Synchronisation Bpifrance", niveau="complet"),
    )
    jeton = JetonPartenaire.objects.get()
    client.force_login(partenaire)
    # After sign-in (LOGIN_REDIRECT_URL is « Mes dossiers ») a partner lands on its space.
    assert client.get(reverse("mes_dossiers")).url == reverse("espace_partenaire")
    page = client.get(reverse("espace_partenaire")).text
    assert "Synchronisation Bpifrance" in page and f"{jeton.prefixe}…" in page
    assert secret not in page
    assert "Dossiers complets dans le périmètre" in page and "jamais" in page
    assert "1\u202f200 requêtes par minute" in page
    assert reverse("api:docs") in page
    assert "<h1>Espace partenaire</h1>" in page and "Accès réservé" not in page


def test_espace_partenaire_refuse_aux_autres(client, personas):
    assert client.get(reverse("espace_partenaire")).status_code == 302  # sign in first
    client.force_login(personas["porteur-adn"])
    assert client.get(reverse("espace_partenaire")).url == reverse("mes_dossiers")


# --- Back-office login ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona, indice",
    [("porteur-adn", "Chefs de projet"), ("partenaire-bpi", "Partenaires")],
)
def test_connexion_gestion_oriente_porteurs_et_partenaires(client, personas, persona, indice):
    reponse = client.post(reverse("admin:login"), {"username": persona, "password": MOT_DE_PASSE})
    assert reponse.status_code == 200
    assert indice in reponse.text and 'href="/connexion/"' in reponse.text
    assert "_auth_user_id" not in client.session
    # A wrong password says nothing about the account.
    reponse = client.post(reverse("admin:login"), {"username": persona, "password": "faux"})
    assert indice not in reponse.text


def test_connexion_gestion_agent(client, personas):
    reponse = client.post(
        reverse("admin:login"), {"username": "region-ara", "password": MOT_DE_PASSE}
    )
    assert reponse.status_code == 302


# --- E-mail links from SITE_URL ----------------------------------------------------------------


def test_liens_des_courriels_depuis_site_url(
    client, settings, projet_adn, personas, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "http://127.0.0.1:8101/"
    with django_capture_on_commit_callbacks(execute=True):
        services.projet_deposer(projet=projet_adn, user=personas["porteur-adn"], attestation=True)
    assert mail.outbox and all("http://127.0.0.1:8101/" in m.body for m in mail.outbox)
    mail.outbox.clear()
    # The password-reset e-mail too, whatever the request's Host.
    client.post(
        reverse("mot_de_passe_oublie"),
        {"email": "porteur-adn@exemple.gouv.fr"},
        HTTP_HOST="localhost",
    )
    assert re.search(r"http://127\.0\.0\.1:8101/mot-de-passe/nouveau/\S+/", mail.outbox[0].body)
    assert "localhost" not in mail.outbox[0].body


def test_make_run_regle_site_url():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    assert "SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} $(MANAGE) runserver" in makefile


# --- Legal pages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "nom, titre",
    [
        ("mentions_legales", "Mentions légales"),
        ("donnees_personnelles", "Données personnelles"),
        ("accessibilite", "Déclaration d'accessibilité"),
        ("plan_du_site", "Plan du site"),
        ("cookies", "Gestion des cookies"),
    ],
)
def test_pages_legales_dans_le_pied_de_page(client, db, nom, titre):
    url = reverse(nom)
    accueil = client.get(reverse("accueil")).text
    assert f'href="{url}"' in accueil
    page = client.get(url)
    assert page.status_code == 200
    assert f"<h1>{titre}</h1>" in page.text
    if nom != "plan_du_site":
        assert "À compléter par l'exploitant" in page.text


def test_declaration_d_accessibilite(client, db):
    page = client.get(reverse("accessibilite")).text
    assert "<strong>non conforme</strong>" in page and "RGAA 4.1" in page
    assert "Accessibilité : non conforme</a>" in client.get(reverse("accueil")).text


def test_donnees_personnelles_dit_quoi_pourquoi_combien_de_temps(client, db):
    page = client.get(reverse("donnees_personnelles")).text
    for attendu in ("Données traitées", "Pourquoi", "Durée de conservation", "Vos droits", "CNIL"):
        assert attendu in page
    assert "8 heures au plus" in page and "7 jours" in page


def test_piece_inconnue_404(porteur, projet_adn):
    import uuid

    url = reverse("piece_jointe_remplacer", args=[projet_adn.reference, uuid.uuid4()])
    assert porteur.get(url).status_code == 404
    assert PDF_MINIMAL.startswith(b"%PDF")


def test_export_du_back_office_avec_les_libelles(agent, projet_adn, personas):
    amener_en_instruction(projet_adn, personas)
    reponse = agent.get(reverse("admin:projets_projet_export"))
    contenu = b"".join(reponse.streaming_content).decode("utf-8-sig")
    import csv

    entetes, ligne = list(csv.reader(contenu.splitlines(), delimiter=";"))[:2]
    # The label for people; the code only in its own column, for machines (issue 20).
    assert ligne[entetes.index("statut")] == "En instruction"
    assert ligne[entetes.index("code statut")] == "en_instruction"
