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
    from tests.factories import UserFactory

    UserFactory(username="sans-habilitation")
    page = nouvelle_page()
    se_connecter(page, live_server, "sans-habilitation")
    auditer(page, live_server.url + "/mes-dossiers/", statut=403)
    assert page.get_by_role("heading", name="Accès réservé aux chefs de projet").is_visible()


def test_espace_partenaire(nouvelle_page, live_server, donnees, personas):
    from api.models import JetonPartenaire
    from api.services import jeton_emettre

    jeton_emettre(
        par=personas["national"],
        jeton=JetonPartenaire(user=personas["partenaire-bpi"], nom="Synchronisation Bpifrance"),
    )
    for largeur, hauteur, nom in ((1280, 800, "espace-partenaire"), (390, 844, None)):
        page = nouvelle_page(largeur=largeur, hauteur=hauteur)
        se_connecter(page, live_server, "partenaire-bpi")
        assert page.url.endswith("/espace-partenaire/")  # not the leads' page
        auditer(page, live_server.url + "/espace-partenaire/", nom or "espace-partenaire-mobile")


@pytest.mark.parametrize(
    "chemin",
    [
        "/mentions-legales/",
        "/donnees-personnelles/",
        "/accessibilite/",
        "/plan-du-site/",
        "/gestion-des-cookies/",
    ],
)
def test_pages_legales(nouvelle_page, live_server, db, chemin):
    nom = chemin.strip("/")
    auditer(nouvelle_page(), live_server.url + chemin, f"legal-{nom}")
    auditer(
        nouvelle_page(largeur=390, hauteur=844), live_server.url + chemin, f"legal-{nom}-mobile"
    )


def test_pages_de_l_echange(nouvelle_page, live_server, donnees, personas):
    """The dossier page with messages and an aid, the replacement form, the summary with
    the certification."""
    from datetime import date
    from decimal import Decimal

    from financements import services as fin
    from tests.factories import DispositifFactory

    retenu, brouillon = donnees["retenu"], donnees["brouillon"]
    agent = personas["region-ara"]
    services.message_envoyer(projet=retenu, user=agent, texte="Convention à signer.")
    enveloppe = fin.enveloppe_allouer(
        user=personas["national"],
        dispositif=DispositifFactory(montant_national=Decimal("1000000")),
        region=retenu.territoire.region_pilote,
        annee=2026,
        montant="500000",
    )
    aide = fin.aide_proposer(
        user=agent, enveloppe=enveloppe, projet=retenu, montant="100000", nature="subvention"
    )
    fin.aide_engager(user=agent, aide=aide)
    fin.aide_conventionner(
        user=agent,
        aide=aide,
        date_convention=date(2026, 3, 1),
        versement_modalite="unique",
        versement_debut=date(2026, 3, 1),
    )
    fin.versement_enregistrer(
        user=agent, aide=aide, montant="40000", date_versement=date(2026, 4, 1)
    )
    base = live_server.url
    for largeur, hauteur, suffixe in ((1280, 800, ""), (390, 844, "-mobile")):
        page = nouvelle_page(largeur=largeur, hauteur=hauteur)
        se_connecter(page, live_server, "porteur-adn")
        auditer(page, f"{base}/mes-dossiers/", f"mes-dossiers-non-lus{suffixe}")
        auditer(page, f"{base}/dossiers/{retenu.reference}/", f"dossier-aides-messages{suffixe}")
        auditer(page, f"{base}/dossiers/{brouillon.reference}/recapitulatif/")
    # The replacement form of a draft's piece.
    from demo.donnees import pdf_factice

    piece = services.piece_jointe_ajouter(
        projet=brouillon, user=personas["porteur-adn"], fichier=pdf_factice("devis"), type="devis"
    )
    page = nouvelle_page()
    se_connecter(page, live_server, "porteur-adn")
    auditer(
        page,
        f"{base}/dossiers/{brouillon.reference}/pieces/{piece.uuid}/remplacer/",
        "piece-remplacer",
    )
    # The form with its error (no file chosen).
    page.get_by_role("button", name="Remplacer la pièce").click()
    assert page.get_by_text("Choisissez le fichier qui remplace cette pièce.").first.is_visible()
    violations = audit_axe(page)
    assert violations == [], decrire(violations)


def test_espace_partenaire_abonnements_webhooks(nouvelle_page, live_server, donnees, personas):
    """The partner registers a subscription in its space (form, secret shown once, then
    the management page), at 1280×800 and on a phone: axe-core clean, no sideways
    scrolling."""
    from api.models import AbonnementWebhook, JetonPartenaire
    from api.services import jeton_emettre

    jeton_emettre(
        par=personas["national"],
        jeton=JetonPartenaire(user=personas["partenaire-bpi"], nom="Synchronisation Bpifrance"),
    )
    for largeur, hauteur, suffixe in ((1280, 800, ""), (390, 844, "-mobile")):
        page = nouvelle_page(largeur=largeur, hauteur=hauteur)
        se_connecter(page, live_server, "partenaire-bpi")
        auditer(
            page,
            live_server.url + "/espace-partenaire/webhooks/nouveau/",
            f"webhook-nouveau{suffixe}",
        )
        page.get_by_label("Adresse de réception").fill("https://webhooks.bpifrance.example/ti")
        page.get_by_label("Dossiers : création").check(force=True)  # DSFR: the label covers it
        page.get_by_label("Aides : annulation").check(force=True)
        page.get_by_role("button", name="Enregistrer").click()
        page.wait_for_load_state("networkidle")
        capture(page, f"webhook-secret{suffixe}")
        abonnement = AbonnementWebhook.objects.order_by("-pk").first()
        assert page.get_by_label("Secret de signature").input_value() == abonnement.secret
        assert audit_axe(page) == []
        for url, nom in (
            ("/espace-partenaire/", f"espace-partenaire-webhooks{suffixe}"),
            (f"/espace-partenaire/webhooks/{abonnement.pk}/", f"webhook-gerer{suffixe}"),
        ):
            auditer(page, live_server.url + url, nom)
            largeur_page = page.evaluate("document.documentElement.scrollWidth")
            larges = page.evaluate(
                f"""() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > {largeur} + 1)
                .slice(0, 5).map(e => e.tagName + '.' + e.className)"""
            )
            assert largeur_page <= largeur, f"{url} : défilement ({largeur_page} px) {larges}"
