"""No 500 on bad input, as a rule (issue 21, issue 15 item 9): malformed values in the
back-office, the portal and the API answer 400 (or the page with a French message),
and French error pages for every status on every door."""

import pytest
from django.urls import reverse

from projets.models import Projet

from . import factories as f

NUL = "a\x00b"


@pytest.fixture
def agent(client, personas):
    client.force_login(personas["national"])
    return client


@pytest.fixture
def porteur(client, personas):
    client.force_login(personas["porteur-adn"])
    return client


def _sans_500(reponse, *attendus):
    assert reponse.status_code != 500, reponse.content[:500]
    if attendus:
        assert reponse.status_code in attendus, reponse.status_code


# ---------------------------------------------------------------------------
# Back-office: filters, history, exports, autocomplete values


@pytest.mark.parametrize("valeur", ["abc", "9" * 30, "-1", "1.5", NUL])
def test_filtre_territoire_malforme_sans_500(agent, projet_adn, valeur):
    for url in ("/admin/projets/projet/", "/admin/projets/projet/exporter/"):
        for cle in ("territoire", "region", "departement", "phase__id__exact"):
            reponse = agent.get(url, {cle: valeur})
            _sans_500(reponse, 200, 302, 400)


def test_filtre_malforme_sur_l_export_400_en_francais(agent, projet_adn):
    reponse = agent.get("/admin/projets/projet/exporter/", {"territoire": "abc"})
    assert reponse.status_code == 400
    assert "Requête invalide" in reponse.content.decode()
    # and the export still works with a valid filter
    reponse = agent.get("/admin/projets/projet/exporter/", {"territoire": projet_adn.territoire_id})
    assert reponse.status_code == 200
    assert projet_adn.reference in b"".join(reponse.streaming_content).decode()


@pytest.mark.parametrize(
    "parametres",
    [
        {"depose_le__gte": "pas-une-date"},
        {"depose_le__gte": "2026-13-45"},
        {"statut__inconnu": "x"},
        {"champ_inconnu": "1"},
        {"territoire__id__in": "1,a"},
    ],
)
def test_parametres_d_export_malformes_400(agent, projet_adn, parametres):
    reponse = agent.get("/admin/projets/projet/exporter/", parametres)
    assert reponse.status_code == 400, reponse.status_code
    assert "Requête invalide" in reponse.content.decode()
    # The changelist answers them as Django does (?e=1), never a 500.
    _sans_500(agent.get("/admin/projets/projet/", parametres), 200, 302)


@pytest.mark.parametrize("version", ["abc", "1.5", "9" * 30, "%00"])
def test_identifiant_d_historique_malforme_404(agent, projet_adn, version):
    reponse = agent.get(f"/admin/projets/projet/{projet_adn.pk}/history/{version}/")
    assert reponse.status_code == 404, reponse.status_code


def test_identifiant_d_historique_valide(agent, projet_adn):
    version = projet_adn.history.first().history_id
    reponse = agent.get(f"/admin/projets/projet/{projet_adn.pk}/history/{version}/")
    assert reponse.status_code == 200


@pytest.mark.parametrize("valeur", ["abc", "9" * 30, NUL])
def test_valeur_non_numerique_dans_un_champ_autocomplete(agent, projet_adn, valeur):
    """The autocomplete widget re-rendered the raw values it could not look up."""
    url = reverse("admin:projets_projet_change", args=[projet_adn.pk])
    reponse = agent.get(url)
    assert reponse.status_code == 200
    reponse = agent.post(url, {"titre": "Autre titre", "commune": valeur, "territoire": valeur})
    _sans_500(reponse, 200)
    assert "<title>Erreur" in reponse.content.decode()  # the form, with its errors
    projet_adn.refresh_from_db()
    assert projet_adn.titre == "Extension de l'atelier"


def test_valeur_non_numerique_dans_un_champ_autocomplete_multiple(agent, personas):
    url = reverse("admin:territoires_habilitation_add")
    reponse = agent.post(url, {"user": "abc", "regions": ["abc", NUL], "territoires": ["9" * 30]})
    # The form with its errors, or a 400 when the database cannot even hold the value.
    _sans_500(reponse, 200, 400)


# ---------------------------------------------------------------------------
# Portal: NUL bytes in POST bodies, commune search


def _section(projet, section):
    return reverse("dossier_section", args=[projet.reference, section])


def test_octet_nul_dans_la_recherche_de_commune(porteur, projet_adn):
    avant = Projet.objects.values().get(pk=projet_adn.pk)
    for donnees in (
        {"recherche_commune": NUL, "action": "rechercher"},
        {"recherche_commune": NUL, "commune": NUL},
        {"commune": NUL},
    ):
        reponse = porteur.post(_section(projet_adn, "localisation"), donnees)
        _sans_500(reponse, 200, 400)
    reponse = porteur.get(_section(projet_adn, "localisation"), {"recherche_commune": NUL})
    _sans_500(reponse, 200, 400)
    assert Projet.objects.values().get(pk=projet_adn.pk) == avant
    # The search still works.
    reponse = porteur.post(
        _section(projet_adn, "localisation"),
        {"recherche_commune": "Annon", "action": "rechercher"},
    )
    assert reponse.status_code == 200
    assert "Annonay" in reponse.content.decode()


def test_octet_nul_dans_un_corps_api_ou_formulaire(agent, projet_adn):
    """A NUL byte in any POST field of the back-office (code-keyed fields: INSEE,
    SIREN) is refused, never a 500."""
    url = reverse("admin:territoires_commune_changelist")
    _sans_500(agent.post(url, {"action": "x", "_selected_action": NUL}), 200, 302, 400, 404)
    url = reverse("admin:projets_projet_change", args=[projet_adn.pk])
    _sans_500(agent.post(url, {"porteur_siret": NUL, "commune": NUL}), 200, 400)


# ---------------------------------------------------------------------------
# API


def test_options_sur_la_documentation_de_l_api(client, monde):
    for url in ("/api/docs/", "/api/redoc/", "/api/schema/", "/api/v1/"):
        reponse = client.options(url)
        _sans_500(reponse, 200, 405)


def test_tri_par_taux_de_consommation(client, personas):
    enveloppe = f.EnveloppeFactory()
    client.force_login(personas["national"])
    for tri in ("taux_consommation", "-taux_consommation", "montant", "inconnu"):
        reponse = client.get("/api/v1/enveloppes/", {"ordering": tri})
        _sans_500(reponse, 200, 400)
    reponse = client.get("/api/v1/enveloppes/", {"ordering": "-taux_consommation"})
    assert reponse.status_code == 200
    assert reponse.json()["count"] >= 1
    assert enveloppe.pk


# ---------------------------------------------------------------------------
# French error pages on every door


def test_echec_csrf_page_en_francais(personas):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    for url in ("/connexion/", "/admin/login/"):
        reponse = client.post(url, {"username": "x", "password": "y"})
        assert reponse.status_code == 403
        texte = reponse.content.decode()
        assert 'lang="fr"' in texte
        assert "CSRF verification failed" not in texte
        assert "Formulaire expiré" in texte


def test_405_page_en_francais_sur_le_portail_et_la_sante(client, monde):
    for url in ("/sante/", "/csp/rapport/"):
        reponse = client.generic("PATCH", url)
        assert reponse.status_code == 405
        assert "Méthode non autorisée" in reponse.content.decode()


def test_pages_d_erreur_en_francais(client, monde):
    reponse = client.get("/admin/page-inconnue/")
    assert reponse.status_code in (302, 404)
    reponse = client.get("/page-inconnue/")
    assert reponse.status_code == 404
    assert 'lang="fr"' in reponse.content.decode()
    reponse = client.get("/api/v1/inconnu/")
    assert reponse.status_code == 404


def test_adresse_api_avec_saut_de_ligne_404_json(client, monde):
    """Found by schemathesis against the running server: a newline in an API path
    matched no API route and got the HTML page."""
    reponse = client.get("/api/v1/departements/%29n%0Ab/")
    assert reponse.status_code == 404
    assert reponse["Content-Type"].startswith("application/json")
    reponse = client.get("/page%0Ainconnue/")
    assert reponse.status_code == 404 and "text/html" in reponse["Content-Type"]


@pytest.mark.django_db
@pytest.mark.parametrize("methode", ["TRACE", "PUT", "DELETE"])
def test_methode_non_prise_en_charge_405_meme_avec_des_parametres(client, methode):
    """Found by schemathesis: an unsupported method on a list carrying list parameters
    answered 400 (« paramètre inconnu ») instead of 405."""
    reponse = client.generic(methode, "/api/v1/regions/?page=0&q=&pagination=pages")
    assert reponse.status_code == 405
