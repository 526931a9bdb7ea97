"""Automated accessibility audit (axe-core) of every portal page, with screenshots."""

import pytest

from projets import services

from .conftest import audit_axe, capture, decrire, se_connecter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def donnees(monde, personas, projet_adn):
    """A retained dossier (public pages) and a draft (lead's pages)."""
    services.projet_transitionner(
        projet=projet_adn, transition="deposer", user=personas["porteur-adn"]
    )
    services.projet_transitionner(
        projet=projet_adn, transition="instruire", user=personas["region-ara"]
    )
    services.projet_transitionner(
        projet=projet_adn, transition="retenir", user=personas["region-ara"], commentaire="Oui."
    )
    brouillon = services.projet_creer(
        user=personas["porteur-adn"],
        territoire=monde["adn"],
        phase=monde["phase"],
        titre="Atelier de maintenance",
    )
    return {"retenu": projet_adn, "brouillon": brouillon, "territoire": monde["adn"]}


def auditer(page, url, nom=None, statut=200):
    reponse = page.goto(url)
    assert reponse.status == statut, url
    page.wait_for_load_state("networkidle")
    if nom:
        capture(page, nom)
    violations = audit_axe(page)
    assert violations == [], f"{url} :\n{decrire(violations)}"
    if statut == 200:  # Chromium logs any 4xx page load as a console error
        assert page.erreurs_console == [], f"{url} : {page.erreurs_console}"
    assert page.requetes_externes == [], f"{url} : {page.requetes_externes}"


def test_pages_publiques(nouvelle_page, live_server, donnees):
    page = nouvelle_page()
    base = live_server.url
    auditer(page, base + "/", "accueil")
    assert page.locator("#graphique-regions").bounding_box()["height"] > 100  # chart drawn
    auditer(page, base + "/territoires/", "territoires")
    auditer(page, base + "/territoires/?region=84&q=nord")
    auditer(page, f"{base}/territoires/{donnees['territoire'].slug}/", "territoire")
    auditer(page, base + "/connexion/", "connexion")
    auditer(page, base + "/mot-de-passe/oublie/", "mot-de-passe-oublie")
    auditer(page, base + "/mot-de-passe/envoye/")
    # A failed login shows its errors accessibly too.
    page.goto(base + "/connexion/")
    page.fill("#id_username", "porteur-adn")
    page.fill("#id_password", "mauvais")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    violations = audit_axe(page)
    assert violations == [], decrire(violations)


def test_accueil_sur_mobile(nouvelle_page, live_server, donnees):
    page = nouvelle_page(largeur=375, hauteur=812)
    auditer(page, live_server.url + "/", "accueil-mobile")
    page.get_by_role("button", name="Menu").click()
    assert page.get_by_role("link", name="Territoires", exact=True).first.is_visible()


def test_pages_du_porteur(nouvelle_page, live_server, donnees):
    page = nouvelle_page()
    base = live_server.url
    se_connecter(page, live_server, "porteur-adn")
    brouillon, retenu = donnees["brouillon"].reference, donnees["retenu"].reference
    auditer(page, base + "/mes-dossiers/", "mes-dossiers")
    auditer(page, base + "/mes-dossiers/nouveau/")
    auditer(page, base + "/compte/", "compte")
    auditer(page, base + "/compte/mot-de-passe/")
    for section in ("porteur", "projet", "localisation", "financement", "impacts", "pieces"):
        auditer(page, f"{base}/dossiers/{brouillon}/modifier/{section}/", f"section-{section}")
    auditer(page, f"{base}/dossiers/{brouillon}/recapitulatif/", "recapitulatif-incomplet")
    auditer(page, f"{base}/dossiers/{brouillon}/", "dossier-brouillon")
    auditer(page, f"{base}/dossiers/{brouillon}/abandonner/")
    auditer(page, f"{base}/dossiers/{retenu}/", "dossier-retenu-lecture-seule")

    # Pages showing errors: a section and the withdrawal form.
    page.goto(f"{base}/dossiers/{brouillon}/modifier/porteur/")
    page.fill("#id_porteur_siret", "123")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    assert page.locator("#id_porteur_siret[aria-invalid=true]").count() == 1
    capture(page, "section-porteur-erreur")
    violations = audit_axe(page)
    assert violations == [], decrire(violations)
    page.goto(f"{base}/dossiers/{brouillon}/abandonner/")
    page.get_by_role("button", name="Confirmer l'abandon").click()
    violations = audit_axe(page)
    assert violations == [], decrire(violations)


def test_page_acces_refuse(nouvelle_page, live_server, donnees):
    page = nouvelle_page()
    se_connecter(page, live_server, "partenaire-bpi")
    auditer(page, live_server.url + "/mes-dossiers/", statut=403)
    assert page.get_by_role("heading", name="Accès réservé aux chefs de projet").is_visible()
