"""The Content-Security-Policy in the browser: every kind of page (DSFR portal, charts,
back-office, API documentation) works without a single violation."""

import pytest

from projets import services

from .conftest import ARTEFACTS, capture, se_connecter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script (injected by the browser driver, not subject to the CSP).
ECOUTE_VIOLATIONS = """
window.__violationsCsp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violationsCsp.push(
    `${e.violatedDirective} ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`
  );
});
"""

# Number of non-transparent pixels of a canvas (0 for a chart that was never drawn).
PIXELS_DESSINES = """(id) => {
  const canvas = document.getElementById(id);
  const { width, height } = canvas;
  const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  let dessines = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i]) dessines++; }
  return dessines;
}"""


@pytest.fixture
def page_csp(nouvelle_page):
    """A page that records CSP violations (DOM events and console reports)."""
    page = nouvelle_page()
    page.context.add_init_script(ECOUTE_VIOLATIONS)
    page.rapports_csp = []
    page.on(
        "console",
        lambda message: (
            page.rapports_csp.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return page


def visiter(page, url, nom=None, permises=()):
    """Open `url`, wait for its scripts, and check the CSP header and the absence of any
    violation (but the `permises` ones, by prefix)."""
    reponse = page.goto(url)
    assert reponse.status == 200, url
    page.wait_for_load_state("networkidle")
    politique = reponse.header_value("content-security-policy") or ""
    assert "script-src 'self'" in politique, f"{url} : {politique!r}"
    violations = [v for v in page.evaluate("window.__violationsCsp") if not v.startswith(permises)]
    assert violations == [], f"{url} : {violations}"
    rapports = [r for r in page.rapports_csp if not any(p.split()[1] in r for p in permises)]
    assert rapports == [], f"{url} : {rapports}"
    if nom:
        capture(page, nom)


def test_portail_sans_violation(page_csp, live_server, monde, personas, projet_adn):
    page, base = page_csp, live_server.url
    services.projet_transitionner(
        projet=projet_adn, transition="deposer", user=personas["porteur-adn"]
    )
    services.projet_transitionner(
        projet=projet_adn, transition="instruire", user=personas["region-ara"]
    )
    services.projet_transitionner(
        projet=projet_adn, transition="retenir", user=personas["region-ara"], commentaire="Oui."
    )

    visiter(page, base + "/", "csp-accueil")
    # The programme figures: both charts drawn by Chart.js from the json_script data.
    for graphique in ("graphique-regions", "graphique-axes"):
        assert page.evaluate(PIXELS_DESSINES, graphique) > 1000, graphique
    # DSFR's JavaScript ran (it marks the document once its modules are started).
    assert page.evaluate("document.documentElement.hasAttribute('data-fr-js')")

    visiter(page, base + "/territoires/")
    visiter(page, f"{base}/territoires/{monde['adn'].slug}/")
    visiter(page, base + "/connexion/")
    for chemin in (
        "/mentions-legales/",
        "/donnees-personnelles/",
        "/accessibilite/",
        "/plan-du-site/",
        "/gestion-des-cookies/",
    ):
        visiter(page, base + chemin)

    se_connecter(page, live_server, "porteur-adn")
    brouillon = services.projet_creer(
        user=personas["porteur-adn"],
        territoire=monde["adn"],
        phase=monde["phase"],
        titre="Atelier de maintenance",
    )
    visiter(page, base + "/mes-dossiers/")
    visiter(page, f"{base}/dossiers/{projet_adn.reference}/")  # messages, aids
    visiter(page, base + "/mes-dossiers/nouveau/")
    visiter(page, f"{base}/dossiers/{brouillon.reference}/modifier/porteur/")
    # The commune search (communes.js) still narrows the list while typing.
    visiter(page, f"{base}/dossiers/{brouillon.reference}/modifier/localisation/")
    page.fill("#id_recherche_commune", "annon")
    options = page.locator("#id_commune option").all_text_contents()
    assert "Annonay (07010)" in options
    assert "Saint-Vallier (26002)" not in options
    assert page.evaluate("window.__violationsCsp") == []


def test_back_office_sans_violation(page_csp, live_server, personas, projet_adn):
    page, base = page_csp, live_server.url
    visiter(page, base + "/admin/login/")
    # A lead with the right password is told where to go (and stays signed out).
    se_connecter(page, live_server, "porteur-adn", url="/admin/login/")
    assert page.get_by_role("link", name="le portail").is_visible()
    capture(page, "gestion-connexion-porteur")
    se_connecter(page, live_server, "national", url="/admin/login/")
    visiter(page, base + "/admin/", "csp-admin")
    visiter(page, base + "/admin/projets/projet/")
    visiter(page, f"{base}/admin/projets/projet/{projet_adn.pk}/change/")  # message form
    visiter(page, f"{base}/admin/projets/projet/{projet_adn.pk}/history/")  # simple_history
    visiter(page, base + "/admin/projets/projet/importer/")
    visiter(page, base + "/admin/financements/aide/")
    visiter(page, base + "/admin/territoires/territoire/")
    # Admin JavaScript works: the changelist's "select all" checkbox ticks the rows.
    page.goto(base + "/admin/projets/projet/")
    page.check("#action-toggle")
    assert page.locator("input.action-select:checked").count() >= 1
    assert page.evaluate("window.__violationsCsp") == []


def test_documentation_api_sans_violation(page_csp, live_server, monde):
    page, base = page_csp, live_server.url
    visiter(page, base + "/api/docs/")
    assert page.locator(".swagger-ui .opblock").count() > 0  # operations listed
    page.screenshot(path=str(ARTEFACTS / "csp-api-docs.png"))
    # Redoc's "API docs by Redocly" logo comes from Redocly's CDN: blocked, as intended
    # (Redoc then hides it).
    logo = "img-src https://cdn.redoc.ly/"
    visiter(page, base + "/api/redoc/", permises=(logo,))
    page.screenshot(path=str(ARTEFACTS / "csp-api-redoc.png"))
    assert page.get_by_text("API Territoires d'industrie").first.is_visible()
