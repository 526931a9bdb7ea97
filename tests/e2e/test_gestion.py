"""Issue 20: the back-office in Chromium at 1280×800 — screenshots, layout (no column
under the filter panel, no button over a title, no horizontal scrolling) and axe-core."""

from decimal import Decimal

import pytest
from django.urls import reverse

from financements import services as fin
from projets import services
from tests import factories as f

from .conftest import ARTEFACTS, audit_axe, capture, decrire, se_connecter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def donnees(monde, personas, projet_adn):
    for nom in ("deposer", "instruire", "retenir"):
        acteur = personas["porteur-adn"] if nom == "deposer" else personas["region-ara"]
        services.projet_transitionner(
            projet=projet_adn, transition=nom, user=acteur, commentaire="Avis favorable."
        )
    for i in range(8):  # a full list: long titles, large amounts
        f.ProjetFactory(
            territoire=monde["adn"],
            phase=monde["phase"],
            commune=monde["commune_07"],
            titre=f"Modernisation de la chaîne de production et récupération de chaleur {i}",
            montant_investissement=Decimal("12345678.90"),
            aide_demandee=Decimal("1234567.89"),
        )
    dispositif = f.DispositifFactory(  # a real dispositif's long name (envelope labels)
        nom="Fonds d'accélération des investissements industriels dans les territoires "
        "— volet modernisation, décarbonation et compétences des sites de production",
        montant_national=Decimal("400000000"),
    )
    enveloppe = fin.enveloppe_allouer(
        user=personas["national"],
        dispositif=dispositif,
        region=monde["ara"],
        annee=2026,
        montant="12000000.00",
    )
    aide = fin.aide_proposer(
        user=personas["region-ara"],
        enveloppe=enveloppe,
        projet=projet_adn,
        montant="200000",
        nature="subvention",
    )
    fin.aide_engager(user=personas["region-ara"], aide=aide)
    return {"projet": projet_adn, "aide": aide, "enveloppe": enveloppe}


def _verifier_mise_en_page(page, url):
    """Nothing wider than the window; no button over a title; on lists, every column
    left of the filter panel, whether it is folded or open."""
    largeur = page.evaluate("document.documentElement.scrollWidth")
    assert largeur <= 1280, f"{url} : défilement horizontal ({largeur} px)"
    chevauchements = page.evaluate(
        """() => {
        const boites = (s) =>
            [...document.querySelectorAll(s)].map(e => e.getBoundingClientRect());
        const croise = (a, b) =>
            a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        const titres = boites('#content h1, #content h2');
        return boites('.object-tools a').filter(b => titres.some(t => croise(b, t))).length;
    }"""
    )
    assert chevauchements == 0, f"{url} : un bouton chevauche un titre"
    if not page.locator("#panneau-filtres").count():
        return
    for ouvert in (False, True):
        page.evaluate(f"document.getElementById('panneau-filtres').open = {str(ouvert).lower()}")
        mesure = page.evaluate(
            """() => {
            const panneau = document.getElementById('panneau-filtres').getBoundingClientRect();
            const colonnes = [...document.querySelectorAll('#result_list th, #result_list td')]
                .map(e => e.getBoundingClientRect().right);
            const resultats = document.querySelector('.results');
            return {
                gauche: panneau.left,
                droite_max: Math.max(0, ...colonnes),
                deborde: resultats ? resultats.scrollWidth - resultats.clientWidth : 0,
            };
        }"""
        )
        etat = "ouvert" if ouvert else "replié"
        assert mesure["droite_max"] <= mesure["gauche"], f"{url} ({etat}) : {mesure}"
        assert mesure["deborde"] <= 1, f"{url} ({etat}) : colonnes masquées {mesure}"
    page.evaluate("document.getElementById('panneau-filtres').open = false")


def test_back_office_lisible_a_1280_et_accessible(nouvelle_page, live_server, donnees):
    page = nouvelle_page(largeur=1280, hauteur=800)
    introuvables = []
    page.context.add_init_script(
        "window.__v=[];document.addEventListener('securitypolicyviolation',"
        "e=>{window.__v.push(e.violatedDirective+' '+e.sourceFile+':'+e.lineNumber)});"
    )
    page.on("response", lambda r: introuvables.append(r.url) if r.status == 404 else None)
    se_connecter(page, live_server, "region-ara", url="/admin/login/")
    base = live_server.url
    pages = [
        ("/admin/", "gestion-tableau-de-bord"),
        ("/admin/projets/projet/", "gestion-dossiers"),
        ("/admin/projets/projet/?statut__exact=retenu", "gestion-dossiers-filtres"),
        (reverse("admin:projets_projet_change", args=[donnees["projet"].pk]), "gestion-dossier"),
        (
            reverse("admin:projets_projet_history", args=[donnees["projet"].pk]),
            "gestion-historique",
        ),
        ("/admin/financements/enveloppe/", "gestion-enveloppes"),
        ("/admin/financements/aide/", "gestion-aides"),
        (reverse("admin:financements_aide_change", args=[donnees["aide"].pk]), "gestion-aide"),
        ("/admin/projets/projet/importer/", "gestion-import"),
    ]
    for url, nom in pages:
        # axe-core's own checks may log to the console: each page is judged before it runs.
        page.erreurs_console.clear()
        reponse = page.goto(base + url)
        assert reponse.status == 200, url
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(ARTEFACTS / f"{nom}.png"))  # the 1280×800 window
        _verifier_mise_en_page(page, url)
        violations_csp = page.evaluate("window.__v")
        assert violations_csp == [], f"{url} : {violations_csp}"
        assert page.erreurs_console == [], f"{url} : {page.erreurs_console} {introuvables}"
        violations = audit_axe(page)
        assert violations == [], f"{url} :\n{decrire(violations)}"
        assert page.requetes_externes == [], f"{url} : {page.requetes_externes}"
    # Marianne, served by the site itself (django-dsfr), is the back-office's typeface.
    police = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert police.startswith('"Marianne"') or police.startswith("Marianne"), police
    assert page.evaluate("document.fonts.check('16px Marianne')")


def test_back_office_sur_telephone(nouvelle_page, live_server, donnees):
    """390×844: the page never scrolls sideways (a wide list scrolls inside its box) and
    the filter button comes first."""
    page = nouvelle_page(largeur=390, hauteur=844)
    se_connecter(page, live_server, "region-ara", url="/admin/login/")
    for url, nom in (
        ("/admin/", "gestion-tableau-de-bord-telephone"),
        ("/admin/projets/projet/", "gestion-dossiers-telephone"),
        (
            reverse("admin:projets_projet_change", args=[donnees["projet"].pk]),
            "gestion-dossier-telephone",
        ),
    ):
        page.goto(live_server.url + url)
        page.wait_for_load_state("networkidle")
        capture(page, nom)
        largeur = page.evaluate("document.documentElement.scrollWidth")
        assert largeur <= 390, f"{url} : défilement horizontal ({largeur} px)"
        violations = audit_axe(page)
        assert violations == [], f"{url} :\n{decrire(violations)}"
    page.goto(live_server.url + "/admin/projets/projet/")
    filtres = page.locator("#panneau-filtres").bounding_box()
    tableau = page.locator("#result_list").bounding_box()
    assert filtres["y"] < tableau["y"]


def test_ajout_d_aide_a_1280_sans_defilement_et_accessible(nouvelle_page, live_server, donnees):
    """« Ajouter une aide », from the aid list (envelope autocomplete) and from the dossier
    (dossier prefilled, the envelopes that fit it in a list): the envelope field and its
    open dropdown stay inside the window, and axe-core finds no violation."""
    page = nouvelle_page(largeur=1280, hauteur=800)
    se_connecter(page, live_server, "region-ara", url="/admin/login/")
    ajout = reverse("admin:financements_aide_add")
    for url, nom in (
        (ajout, "gestion-aide-ajout"),
        (ajout + f"?projet={donnees['projet'].pk}", "gestion-aide-ajout-depuis-dossier"),
    ):
        reponse = page.goto(live_server.url + url)
        assert reponse.status == 200
        page.wait_for_load_state("networkidle")
        capture(page, nom)
        _verifier_mise_en_page(page, url)
        violations = audit_axe(page)
        assert violations == [], f"{url} :\n{decrire(violations)}"
        autocompletion = page.locator(".field-enveloppe .select2-selection")
        if autocompletion.count():
            autocompletion.first.click()
            page.wait_for_selector(".select2-results__option")
            capture(page, nom + "-liste")
        mesure = page.evaluate(
            """() => ({
            page: document.documentElement.scrollWidth,
            champ: Math.max(...[...document.querySelectorAll(
                '.field-enveloppe select, .field-enveloppe .select2, .select2-dropdown')]
                .map(e => e.getBoundingClientRect().right)),
        })"""
        )
        assert mesure["page"] <= 1280 and mesure["champ"] <= 1280, f"{url} : {mesure}"
