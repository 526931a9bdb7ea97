"""ProConnect sign-in against a fake provider (signed tokens, mocked HTTP endpoints)."""

from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.messages import get_messages
from django.urls import reverse

from comptes.models import DemandeHabilitation, ProfilProConnect
from territoires.models import Habilitation

from .comptes_outils import AUTRE_CLE, EMETTEUR, installer_proconnect, se_connecter

pytestmark = pytest.mark.django_db


@pytest.fixture
def proconnect(settings, monkeypatch):
    yield from installer_proconnect(settings, monkeypatch)


def messages_de(reponse):
    return [str(m) for m in get_messages(reponse.wsgi_request)]


def test_sans_configuration_pas_de_bouton_et_pas_de_porte(client):
    page = client.get("/connexion/")
    assert page.status_code == 200
    assert "ProConnect" not in page.content.decode()
    assert client.get("/proconnect/connexion/").status_code == 404
    assert client.get("/proconnect/retour/", {"code": "x", "state": "y"}).status_code == 404


def test_bouton_affiche_quand_configure(client, proconnect):
    page = client.get("/connexion/").content.decode()
    assert "S’identifier avec" in page and 'href="/proconnect/connexion/' in page
    # Discovery happens only on use, not to draw the page.
    assert proconnect.appels == []


def test_demande_d_autorisation(client, proconnect):
    depart = client.get("/proconnect/connexion/")
    params = parse_qs(urlparse(depart.url).query)
    assert params["response_type"] == ["code"]
    assert params["scope"] == ["openid email given_name usual_name siret uid idp_id"]
    assert params["acr_values"] == ["eidas1"]
    assert params["redirect_uri"] == ["http://testserver/proconnect/retour/"]
    assert len(params["state"][0]) >= 32 and len(params["nonce"][0]) >= 32


def test_compte_connu_par_courriel_garde_son_perimetre(client, personas, proconnect):
    agent = personas["region-ara"]
    agent.email = "Martine.Dupont@ARA.gouv.fr"
    agent.save()
    regions_avant = list(agent.habilitation.regions.all())
    historique_avant = agent.habilitation.history.count()

    reponse = se_connecter(client, proconnect)

    assert reponse.status_code == 302 and reponse.url == "/admin/"
    assert int(client.session[SESSION_KEY]) == agent.pk
    agent.refresh_from_db()
    assert agent.habilitation.echelon == "region"
    assert list(agent.habilitation.regions.all()) == regions_avant
    assert agent.habilitation.history.count() == historique_avant  # signing in changes nothing
    profil = ProfilProConnect.objects.get(user=agent)
    assert (profil.sub, profil.siret, profil.idp_id, profil.uid) == (
        "sub-martine",
        "13002526500013",
        "fia1v2",
        "4321",
    )
    assert (profil.given_name, profil.usual_name, profil.acr) == ("Martine", "Dupont", "eidas1")
    assert profil.derniere_connexion is not None
    assert not DemandeHabilitation.objects.exists()
    # The ID token is kept for the end-session hint.
    assert client.session["oidc_id_token"].count(".") == 2


def test_porteur_connu_va_sur_ses_dossiers(client, personas, proconnect):
    porteur = personas["porteur-adn"]
    porteur.email = "martine.dupont@ara.gouv.fr"
    porteur.save()
    reponse = se_connecter(client, proconnect)
    assert reponse.url == reverse("mes_dossiers")
    assert int(client.session[SESSION_KEY]) == porteur.pk


def test_identite_inconnue_habilitation_en_attente(client, monde, proconnect):
    reponse = se_connecter(client, proconnect)

    assert reponse.url == "/comptes/en-attente/"
    page = client.get(reponse.url)
    assert "Habilitation en attente" in page.content.decode()
    demande = DemandeHabilitation.objects.get()
    assert demande.statut == "en_attente"
    assert (demande.email, demande.nom, demande.siret, demande.organisation) == (
        "martine.dupont@ara.gouv.fr",
        "Martine Dupont",
        "13002526500013",
        "fia1v2",
    )
    user = demande.user
    assert not Habilitation.objects.filter(user=user).exists()
    assert not user.is_staff and not user.has_usable_password()
    # Back-office and lead pages stay closed.
    assert client.get("/admin/").status_code == 302


def test_deuxieme_connexion_ne_cree_pas_de_deuxieme_demande(client, monde, proconnect):
    se_connecter(client, proconnect)
    client.logout()
    se_connecter(client, proconnect, code="code-2")
    assert DemandeHabilitation.objects.count() == 1


def test_userinfo_doit_etre_un_jwt_signe_du_fournisseur(client, personas, proconnect):
    """The userinfo JWT is verified like the ID token: a foreign signature is refused."""
    personas["region-ara"].email = "martine.dupont@ara.gouv.fr"
    personas["region-ara"].save()
    proconnect.cle_userinfo = AUTRE_CLE
    reponse = se_connecter(client, proconnect)
    assert reponse.url == "/connexion/"
    assert SESSION_KEY not in client.session


def refuse(client, reponse):
    assert reponse.status_code == 302 and reponse.url == "/connexion/"
    assert SESSION_KEY not in client.session
    textes = messages_de(reponse)
    assert any("La connexion avec ProConnect a échoué" in t for t in textes), textes
    return textes


def test_etat_inconnu_refuse(client, personas, proconnect):
    depart = client.get("/proconnect/connexion/")
    retour = proconnect.autoriser(depart.url)
    reponse = client.get("/proconnect/retour/", {**retour, "state": "etat-forge"})
    refuse(client, reponse)
    assert ("POST", f"{EMETTEUR}/token") not in proconnect.appels


def test_retour_sans_demande_prealable_refuse(client, personas, proconnect):
    reponse = client.get("/proconnect/retour/", {"code": "code-1", "state": "x"})
    refuse(client, reponse)


def test_nonce_different_refuse(client, personas, proconnect):
    proconnect.nonce_force = "nonce-rejoue"
    refuse(client, se_connecter(client, proconnect))


def test_signature_etrangere_refusee(client, personas, proconnect):
    proconnect.cle_signature = AUTRE_CLE
    refuse(client, se_connecter(client, proconnect))


def test_audience_differente_refusee(client, personas, proconnect):
    proconnect.audience = "autre-service"
    textes = refuse(client, se_connecter(client, proconnect))
    assert any("audience" in t.lower() for t in textes)


def test_jeton_expire_refuse(client, personas, proconnect):
    proconnect.expire_dans = -120
    refuse(client, se_connecter(client, proconnect))


def test_etat_a_usage_unique(client, personas, proconnect):
    """Replaying the callback (same state and code) is refused."""
    depart = client.get("/proconnect/connexion/")
    retour = proconnect.autoriser(depart.url)
    assert client.get("/proconnect/retour/", retour).url == "/comptes/en-attente/"
    client.logout()
    refuse(client, client.get("/proconnect/retour/", retour))


def test_compte_desactive_refuse(client, personas, proconnect):
    agent = personas["region-ara"]
    agent.email, agent.is_active = "martine.dupont@ara.gouv.fr", False
    agent.save()
    refuse(client, se_connecter(client, proconnect))
    assert not DemandeHabilitation.objects.exists()


def test_compte_desactive_perd_sa_session_proconnect(client, personas, proconnect):
    agent = personas["region-ara"]
    agent.email = "martine.dupont@ara.gouv.fr"
    agent.save()
    se_connecter(client, proconnect)
    assert client.get("/").wsgi_request.user == agent
    agent.is_active = False
    agent.save()
    assert not client.get("/").wsgi_request.user.is_authenticated


def test_deconnexion_termine_la_session_proconnect(client, personas, proconnect):
    personas["porteur-adn"].email = "martine.dupont@ara.gouv.fr"
    personas["porteur-adn"].save()
    se_connecter(client, proconnect)
    id_token = client.session["oidc_id_token"]

    reponse = client.post("/deconnexion/")

    assert reponse.status_code == 302
    url = urlparse(reponse.url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{EMETTEUR}/session/end"
    params = parse_qs(url.query)
    assert params["id_token_hint"] == [id_token]
    assert params["post_logout_redirect_uri"] == ["http://testserver/"]
    assert len(params["state"][0]) >= 32
    assert SESSION_KEY not in client.session


def test_deconnexion_admin_termine_la_session_proconnect(client, personas, proconnect):
    personas["region-ara"].email = "martine.dupont@ara.gouv.fr"
    personas["region-ara"].save()
    se_connecter(client, proconnect)
    reponse = client.post("/admin/logout/")
    assert reponse.url.startswith(f"{EMETTEUR}/session/end?")
    assert SESSION_KEY not in client.session


def test_deconnexion_apres_mot_de_passe_reste_locale(client, personas, proconnect):
    client.force_login(personas["porteur-adn"])
    reponse = client.post("/deconnexion/")
    assert reponse.status_code == 302 and not reponse.url.startswith(EMETTEUR)
    assert SESSION_KEY not in client.session
    assert client.get("/deconnexion/").status_code == 405


# ---------------------------------------------------------------------------
# Password sign-in switched off for agents


def test_mot_de_passe_refuse_aux_agents_quand_desactive(client, settings, personas):
    settings.CONNEXION_MOT_DE_PASSE_AGENTS = False
    agent = personas["region-ara"]
    agent.set_password("mot-de-passe-solide-42")
    agent.save()
    porteur = personas["porteur-adn"]
    porteur.set_password("mot-de-passe-solide-42")
    porteur.save()
    identifiants = {"password": "mot-de-passe-solide-42"}

    portail = client.post("/connexion/", {"username": "region-ara", **identifiants})
    assert portail.status_code == 200 and SESSION_KEY not in client.session
    admin = client.post("/admin/login/", {"username": "region-ara", **identifiants})
    assert admin.status_code == 200 and SESSION_KEY not in client.session

    # Leads keep their password.
    client.post("/connexion/", {"username": "porteur-adn", **identifiants})
    assert int(client.session[SESSION_KEY]) == porteur.pk


def test_mot_de_passe_permis_aux_agents_par_defaut(client, personas):
    agent = personas["region-ara"]
    agent.set_password("mot-de-passe-solide-42")
    agent.save()
    client.post("/admin/login/", {"username": "region-ara", "password": "mot-de-passe-solide-42"})
    assert int(client.session[SESSION_KEY]) == agent.pk
