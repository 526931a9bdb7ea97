"""A dossier's whole life, driven in the browser: the lead files it on the portal, the
regional officer instructs it in the admin."""

import re

import pytest
from django.core import mail

from demo.donnees import PDF_MINIMAL
from projets.models import Projet

from .conftest import capture, se_connecter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
    porteur.locator("label", has_text="Zone de revitalisation rurale").click()
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

    # 4. The lead sees the request, completes, answers and sends it back.
    porteur.goto(f"{live_server.url}/dossiers/{projet.reference}/")
    assert porteur.get_by_text("Merci de joindre le plan de financement signé.").first.is_visible()
    capture(porteur, "dossier-complements-demandes")
    porteur.get_by_role("link", name="Compléter le dossier").first.click()
    porteur.get_by_role("link", name="6. Pièces jointes").click()
    plan = tmp_path / "plan-financement.pdf"
    plan.write_bytes(PDF_MINIMAL)
    porteur.select_option("#id_type", "plan_financement")
    porteur.set_input_files("#id_fichier", str(plan))
    porteur.get_by_role("button", name="Joindre le fichier").click()
    porteur.get_by_role("link", name="Continuer vers le récapitulatif").click()
    porteur.fill("#id_commentaire", "Plan de financement signé ajouté.")
    porteur.get_by_role("button", name="Renvoyer le dossier complété").click()
    assert porteur.get_by_text("renvoyé à l'équipe d'instruction").is_visible()
    projet.refresh_from_db()
    assert projet.statut == "depose"

    # 5. The officer retains it.
    agent_declenche(agent, live_server, projet, "Prendre en instruction")
    agent_declenche(agent, live_server, projet, "Retenir", "Avis favorable de la revue.")
    projet.refresh_from_db()
    assert projet.statut == "retenu"

    # 6. The lead sees the new status; e-mails went out at each step.
    porteur.goto(f"{live_server.url}/mes-dossiers/")
    ligne = porteur.locator("tr", has_text=projet.reference)
    assert "Retenu" in ligne.text_content()
    porteur.goto(f"{live_server.url}/dossiers/{projet.reference}/")
    assert porteur.get_by_text("Avis favorable de la revue.").first.is_visible()
    capture(porteur, "dossier-retenu")
    sujets = [m.subject for m in mail.outbox if "porteur-adn@exemple.gouv.fr" in m.to]
    assert any(sujet.endswith(": Compléments demandés") for sujet in sujets)
    assert any(sujet.endswith(": Retenu") for sujet in sujets)
    aux_instructeurs = [m for m in mail.outbox if "region-ara@exemple.gouv.fr" in m.to]
    assert len([m for m in aux_instructeurs if "Dossier déposé" in m.subject]) == 2
    assert all(re.search(rf"/dossiers/{projet.reference}/", m.body) for m in mail.outbox)
    assert porteur.requetes_externes == []
    assert agent.requetes_externes == []
