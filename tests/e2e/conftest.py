"""End-to-end tests in Debian's headless Chromium (never a browser downloaded by Playwright).

Skipped with a reason when `chromium` is not installed (`make navigateur` installs it).
The accessibility audit injects axe-core from `node_modules` (`make node_modules`).
"""

import json
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by the
# tests themselves (fixtures, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium")
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
ARTEFACTS = Path(settings.BASE_DIR) / "test-artifacts"
MOT_DE_PASSE = "motdepasse-de-test-123"


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    saut = pytest.mark.skip(reason="chromium absent (apt-get install chromium ou make navigateur)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(saut)


@pytest.fixture(scope="session")
def navigateur():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        navigateur = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield navigateur
        navigateur.close()


@pytest.fixture
def nouvelle_page(navigateur, live_server):
    """`nouvelle_page()` opens a page in a fresh context (its own cookies); requests that
    leave the live server are recorded in `page.requetes_externes`."""
    contextes = []

    def ouvrir(largeur=1280, hauteur=900):
        contexte = navigateur.new_context(
            viewport={"width": largeur, "height": hauteur}, locale="fr-FR"
        )
        contexte.set_default_timeout(15000)
        contextes.append(contexte)
        page = contexte.new_page()
        page.requetes_externes = []
        page.erreurs_console = []
        page.on(
            "request",
            lambda requete: (
                None
                if requete.url.startswith((live_server.url, "data:", "blob:"))
                else page.requetes_externes.append(requete.url)
            ),
        )
        page.on(
            "console",
            lambda message: (
                page.erreurs_console.append(message.text) if message.type == "error" else None
            ),
        )
        return page

    yield ouvrir
    for contexte in contextes:
        contexte.close()


def se_connecter(page, live_server, identifiant, url="/connexion/"):
    page.goto(live_server.url + url)
    page.fill("#id_username", identifiant)
    page.fill("#id_password", MOT_DE_PASSE)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def capture(page, nom: str) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{nom}.png"), full_page=True)


def audit_axe(page) -> list[dict]:
    """Serious and critical axe-core violations of the current page."""
    if not AXE.exists():
        pytest.skip("axe-core absent : lancez « npm ci » (ou make node_modules)")
    # Evaluated by the browser driver: an injected <script> would be blocked by the
    # site's Content-Security-Policy (no inline script).
    page.evaluate(AXE.read_text(encoding="utf-8"))
    resultat = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert resultat["passes"], "axe-core n'a évalué aucune règle"
    graves = [v for v in resultat["violations"] if v["impact"] in ("serious", "critical")]
    return [
        {
            "regle": v["id"],
            "impact": v["impact"],
            "aide": v["help"],
            "elements": [n["target"] for n in v["nodes"]][:5],
        }
        for v in graves
    ]


def decrire(violations) -> str:
    return json.dumps(violations, ensure_ascii=False, indent=2)
