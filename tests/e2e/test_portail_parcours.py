"""A dossier's whole life, driven in the browser: the lead files it on the portal, the
regional officer instructs it in the admin, they exchange messages, the lead replaces an
attachment and follows the aid until it is paid."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail

from demo.donnees import PDF_MINIMAL
from financements import services as fin
from projets.models import PieceJointe, Projet

from .conftest import capture, se_connecter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def conftest_dispositif():
    from tests.factories import DispositifFactory

    return DispositifFactory(nom="Fonds d'accélération", montant_national=Decimal("10000000"))


def agent_declenche(page, live_server, projet, bouton, commentaire=""):
    """In the admin change page of `projet`, fire a lifecycle button with a comment."""
    page.goto(f"{live_server.url}/admin/projets/projet/{projet.pk}/change/")
    page.get_by_role("link", name=bouton).click()
    if commentaire:
        page.fill("textarea[name=commentaire]", commentaire)
    page.locator("input[type=submit]").click()
    page.wait_for_load_state()


def test_parcours_complet_d_un_dossier(nouvelle_page, live_server, monde, personas, tmp_path):
    porteur = nouvelle_page()
    se_connecter(porteur, live_server, "porteur-adn")
    assert porteur.url.endswith("/mes-dossiers/")

    # 1. Create a draft and fill the first section.
    porteur.get_by_role("link", name="Nouveau dossier").click()
    porteur.fill("#id_titre", "Ligne de recyclage des composites")
    porteur.get_by_role("button", name="Créer le brouillon").click()
    projet = Projet.objects.get()
    assert projet.statut == "brouillon"
    porteur.fill("#id_porteur_raison_sociale", "Composites du Vivarais")
    porteur.fill("#id_porteur_siret", "73282932000075")  # wrong check digit
    porteur.get_by_role("button", name="Enregistrer le brouillon").click()
    erreur = porteur.locator("#id_porteur_siret-desc-error")  # next to the field
    assert "clé de contrôle incorrecte" in erreur.inner_text()
    porteur.get_by_role("link", name=re.compile("SIRET du porteur")).click()  # error summary
    assert porteur.evaluate("document.activeElement.id") == "id_porteur_siret"
    assert porteur.input_value("#id_porteur_raison_sociale") == "Composites du Vivarais"
    porteur.fill("#id_porteur_siret", "73282932000074")
    porteur.select_option("#id_porteur_taille", "PME")
    porteur.get_by_role("button", name="Enregistrer le brouillon").click()
    assert porteur.get_by_text("Section « Porteur du projet » enregistrée.").is_visible()

    # 2. Leave, come back later and resume the draft from « Mes dossiers ».
    porteur.get_by_role("link", name="Territoires", exact=True).first.click()
    porteur.get_by_role("link", name="Mes dossiers").first.click()
    porteur.get_by_role("link", name="Compléter puis déposer le dossier").click()
    assert porteur.input_value("#id_porteur_siret") == "73282932000074"
    porteur.get_by_role("button", name="Enregistrer et continuer").click()

    porteur.fill("#id_description", "Recyclage des chutes de fibres de carbone.")
    porteur.select_option("#id_nature", "equipement")
    porteur.locator("label", has_text="Foncier industriel").click()  # DSFR styled checkbox
    porteur.fill("#id_date_debut_prevue", "2026-09-01")
    porteur.get_by_role("button", name="Enregistrer et continuer").click()

    # Localisation: the search narrows the select while typing (progressive enhancement).
    porteur.fill("#id_recherche_commune", "annon")
    options = porteur.locator("#id_commune option").all_text_contents()
    assert "Annonay (07010)" in options
    assert "Saint-Vallier (26002)" not in options
    porteur.select_option("#id_commune", "07010")
    porteur.locator("label", has_text="France Ruralités Revitalisation").click()
    capture(porteur, "dossier-localisation")
    porteur.get_by_role("button", name="Enregistrer et continuer").click()

    porteur.fill("#id_montant_investissement", "2 400 000")
    porteur.fill("#id_aide_demandee", "3 000 000")
    porteur.get_by_role("button", name="Enregistrer et continuer").click()
    erreur = porteur.locator("#id_aide_demandee-desc-error")
    assert "ne peut pas dépasser le montant de l'investissement" in erreur.inner_text()
    capture(porteur, "dossier-financement-erreur")
    porteur.fill("#id_aide_demandee", "480 000")
    porteur.get_by_role("button", name="Enregistrer et continuer").click()

    porteur.fill("#id_emplois_crees", "18")
    porteur.fill("#id_emplois_maintenus", "45")
    porteur.get_by_role("button", name="Enregistrer et continuer").click()

    # Attach a PDF.
    devis = tmp_path / "devis-broyeur.pdf"
    devis.write_bytes(PDF_MINIMAL)
    porteur.select_option("#id_type", "devis")
    porteur.set_input_files("#id_fichier", str(devis))
    porteur.get_by_role("button", name="Joindre le fichier").click()
    assert porteur.get_by_text("Pièce « devis-broyeur.pdf » ajoutée.").is_visible()

    # Summary, then submit.
    porteur.get_by_role("link", name="Continuer vers le récapitulatif").click()
    assert porteur.get_by_text("Dossier incomplet").count() == 0
    capture(porteur, "dossier-recapitulatif")
    # Not without the certification on honour (a required checkbox).
    assert porteur.locator("#id_attestation").get_attribute("required") is not None
    porteur.locator("label", has_text="J'atteste sur l'honneur").click()
    porteur.get_by_role("button", name="Déposer le dossier").click()
    assert porteur.get_by_text("Votre dossier a été déposé.").is_visible()
    projet.refresh_from_db()
    assert projet.statut == "depose"
    assert projet.commune_id == "07010"
    assert str(projet.aide_demandee) == "480000.00"
    assert any("region-ara@exemple.gouv.fr" in m.to for m in mail.outbox)

    # 3. The regional officer takes it and asks for complements, in the admin.
    agent = nouvelle_page()
    se_connecter(agent, live_server, "region-ara", url="/admin/login/")
    agent_declenche(agent, live_server, projet, "Prendre en instruction")
    agent_declenche(
        agent,
        live_server,
        projet,
        "Demander des compléments",
        "Merci de joindre le plan de financement signé.",
    )
    projet.refresh_from_db()
    assert projet.statut == "a_completer"
    # The officer also writes a message, with an attachment, from the dossier page.
    agent.goto(f"{live_server.url}/admin/projets/projet/{projet.pk}/change/")
    agent.fill("#id_texte", "Le modèle de plan de financement est joint.")
    modele = tmp_path / "modele-plan.pdf"
    modele.write_bytes(PDF_MINIMAL)
    agent.set_input_files("#id_fichier", str(modele))
    agent.get_by_role("button", name="Envoyer le message").click()
    envoye = agent.get_by_text("Message envoyé au porteur")
    envoye.wait_for(timeout=15000)  # after the redirect, not the page still on screen
    assert envoye.is_visible()
    capture(agent, "gestion-message-envoye")

    # 4. The lead sees the unread message and the request, replaces the quote, completes,
    #    answers and sends it back.
    porteur.goto(f"{live_server.url}/mes-dossiers/")
    # The complements request and the message.
    assert porteur.locator("#messages-non-lus").text_content() == "2 messages non lus"
    porteur.goto(f"{live_server.url}/dossiers/{projet.reference}/")
    assert porteur.get_by_text("Merci de joindre le plan de financement signé.").first.is_visible()
    assert porteur.get_by_text("Le modèle de plan de financement est joint.").is_visible()
    assert porteur.get_by_role("link", name=re.compile("modele-plan.pdf")).is_visible()
    capture(porteur, "dossier-complements-demandes")
    porteur.reload()
    assert porteur.locator("#messages-non-lus").count() == 0  # read now
    porteur.get_by_role("link", name="Compléter le dossier").first.click()
    porteur.get_by_role("link", name="6. Pièces jointes").click()
    porteur.get_by_role("link", name=re.compile("Remplacer.*devis-broyeur.pdf")).click()
    devis_v2 = tmp_path / "devis-broyeur-v2.pdf"
    devis_v2.write_bytes(PDF_MINIMAL.replace(b"%%EOF", b"% v2\n%%EOF"))
    porteur.set_input_files("#id_fichier", str(devis_v2))
    porteur.get_by_role("button", name="Remplacer la pièce").click()
    assert porteur.get_by_text("remplacée par « devis-broyeur-v2.pdf »").is_visible()
    capture(porteur, "dossier-piece-remplacee")
    ancienne = PieceJointe.objects.get(nom_original="devis-broyeur.pdf")
    assert ancienne.retiree_le is not None and ancienne.remplacee_par.nom_original == (
        "devis-broyeur-v2.pdf"
    )
    plan = tmp_path / "plan-financement.pdf"
    plan.write_bytes(PDF_MINIMAL)
    porteur.select_option("#id_type", "plan_financement")
    porteur.set_input_files("#id_fichier", str(plan))
    porteur.get_by_role("button", name="Joindre le fichier").click()
    porteur.get_by_role("link", name="Continuer vers le récapitulatif").click()
    porteur.fill("#id_commentaire", "Plan de financement signé ajouté.")
    porteur.locator("label", has_text="J'atteste sur l'honneur").click()
    porteur.get_by_role("button", name="Renvoyer le dossier complété").click()
    assert porteur.get_by_text("renvoyé à votre instructeur").is_visible()
    projet.refresh_from_db()
    assert projet.statut == "en_instruction" and projet.complete_le is not None

    # 5. Back in the same officer's queue, flagged as answered: the officer retains it.
    agent.goto(f"{live_server.url}/admin/")
    assert agent.get_by_text(re.compile("compléments reçus le")).first.is_visible()
    agent_declenche(agent, live_server, projet, "Retenir", "Avis favorable de la revue.")
    projet.refresh_from_db()
    assert projet.statut == "retenu"

    # The aid is engaged, signed and partly paid (money service).
    instructeur = personas["region-ara"]
    dispositif = conftest_dispositif()
    enveloppe = fin.enveloppe_allouer(
        user=personas["national"],
        dispositif=dispositif,
        region=monde["ara"],
        annee=2026,
        montant="1000000",
    )
    aide = fin.aide_proposer(
        user=instructeur, enveloppe=enveloppe, projet=projet, montant="400000", nature="subvention"
    )
    fin.aide_engager(user=instructeur, aide=aide, reference_decision="CP-2026-07")
    fin.aide_conventionner(
        user=instructeur,
        aide=aide,
        date_convention=date(2026, 6, 15),
        versement_modalite="unique",
        versement_debut=date(2026, 6, 15),
    )
    fin.versement_enregistrer(
        user=instructeur, aide=aide, montant="100000", date_versement=date(2026, 7, 1)
    )

    # 6. The lead sees the new status; e-mails went out at each step.
    porteur.goto(f"{live_server.url}/mes-dossiers/")
    ligne = porteur.locator("tr", has_text=projet.reference)
    assert "Retenu" in ligne.text_content()
    porteur.goto(f"{live_server.url}/dossiers/{projet.reference}/")
    assert porteur.get_by_text("Avis favorable de la revue.").first.is_visible()
    aides = porteur.locator("table", has_text="Reste à verser")
    assert "Conventionnée" in aides.inner_text()
    assert "signée le 15/06/2026" in aides.inner_text()
    assert "100\u202f000\u00a0€ le 01/07/2026" in aides.inner_text()
    assert "300\u202f000\u00a0€" in aides.inner_text()  # remaining
    capture(porteur, "dossier-retenu")
    porteur.set_viewport_size({"width": 390, "height": 844})
    capture(porteur, "dossier-retenu-mobile")
    sujets = [m.subject for m in mail.outbox if "porteur-adn@exemple.gouv.fr" in m.to]
    assert any(sujet.endswith(": À compléter") for sujet in sujets)
    assert any(sujet.endswith(": Retenu") for sujet in sujets)
    assert any("Nouveau message" in sujet for sujet in sujets)
    assert any(sujet.endswith(": aide engagée") for sujet in sujets)
    assert any("versement de 100\u202f000,00\xa0€" in sujet for sujet in sujets)
    aux_instructeurs = [m for m in mail.outbox if "region-ara@exemple.gouv.fr" in m.to]
    assert len([m for m in aux_instructeurs if "Dossier déposé" in m.subject]) == 1
    assert len([m for m in aux_instructeurs if "Compléments reçus" in m.subject]) == 1
    # Leads get the portal's page, officers the back-office's; both from SITE_URL.
    for m in mail.outbox:
        lien = (
            f"/dossiers/{projet.reference}/"
            if "porteur-adn@exemple.gouv.fr" in m.to
            else f"/admin/projets/projet/{projet.pk}/change/"
        )
        assert lien in m.body, m.subject
    assert porteur.requetes_externes == []
    assert agent.requetes_externes == []
