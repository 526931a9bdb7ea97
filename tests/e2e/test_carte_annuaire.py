"""The map, the public directory and the site search in Chromium: axe-core clean, no
console error, nothing fetched outside the site (offline, strict CSP)."""

import pytest

from projets.models import Projet
from territoires.contours import calculer_contours

from .conftest import audit_axe, capture, decrire

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def donnees(monde, personas, projet_adn):
    Projet.objects.filter(pk=projet_adn.pk).update(statut="retenu")
    # Real outlines (fixtures/contours): the tiny world's EPCI are not in them, so its
    # territories are drawn from their declared départements (known-territories file).
    calculer_contours()
    return {"retenu": projet_adn}


def _auditer(page, url, nom):
    reponse = page.goto(url)
    assert reponse.status == 200, url
    page.wait_for_load_state("networkidle")
    capture(page, nom)
    violations = audit_axe(page)
    assert violations == [], f"{url} :\n{decrire(violations)}"
    assert page.erreurs_console == [], f"{url} : {page.erreurs_console}"
    assert page.requetes_externes == [], f"{url} : {page.requetes_externes}"


def test_carte_annuaire_recherche(nouvelle_page, live_server, donnees):
    base = live_server.url
    for largeur, hauteur, suffixe in [(1280, 800, "bureau"), (390, 844, "telephone")]:
        page = nouvelle_page(largeur, hauteur)
        _auditer(page, base + "/carte/", f"carte-{suffixe}")
        assert page.locator(".portail-carte__svg").bounding_box()["height"] > 200
        _auditer(page, base + "/projets/", f"annuaire-{suffixe}")
        _auditer(page, f"{base}/projets/{donnees['retenu'].reference}/", f"projet-public-{suffixe}")
        _auditer(page, base + "/recherche/?q=atelier", f"recherche-{suffixe}")
    # The header search leads to the results page.
    page = nouvelle_page()
    page.goto(base + "/")
    page.fill("#recherche-entete-q", "vivarais")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/recherche/?q=vivarais" in page.url
    assert page.locator("text=Extension de l'atelier").count() >= 1
