"""Login protection: lockout after repeated failures (django-axes), password strength,
TOTP two-factor authentication for back-office staff (django-otp)."""

import os
import re
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.conf import settings as reglages
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from comptes.models import EvenementAudit

from .comptes_outils import installer_proconnect, se_connecter

pytestmark = pytest.mark.django_db
MOT_DE_PASSE = "motdepasse-de-test-123"
ACTIVER = "/comptes/double-authentification/activer/"
CODE = "/comptes/double-authentification/"
MESSAGE_VERROUILLAGE = "Trop de tentatives de connexion"


def code_de(appareil: TOTPDevice) -> str:
    return f"{totp(appareil.bin_key, step=appareil.step, digits=appareil.digits):06d}"


def mauvais_code(appareil: TOTPDevice) -> str:
    return f"{(int(code_de(appareil)) + 500000) % 1000000:06d}"


def sans_attente(appareil) -> None:
    """Skip the growing delay django-otp imposes after a wrong code."""
    type(appareil).objects.filter(pk=appareil.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(hours=1)
    )


def connecte(client) -> bool:
    return SESSION_KEY in client.session


# ---------------------------------------------------------------------------
# Lockout


def echouer(client, url, username, fois):
    reponses = []
    for _ in range(fois):
        reponses.append(client.post(url, {"username": username, "password": "pas-le-bon"}))
    return reponses


def test_reglages_de_verrouillage():
    assert reglages.AXES_FAILURE_LIMIT == 5
    assert reglages.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert reglages.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert reglages.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert reglages.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_portail_verrouille_apres_cinq_echecs_meme_avec_le_bon_mot_de_passe(client, personas):
    url = reverse("connexion")
    *avant, cinquieme = echouer(client, url, "porteur-adn", 5)
    assert all(r.status_code == 200 for r in avant)
    assert cinquieme.status_code == 429
    faux = client.post(url, {"username": "porteur-adn", "password": "encore-faux"})
    juste = client.post(url, {"username": "porteur-adn", "password": MOT_DE_PASSE})
    for reponse in (cinquieme, faux, juste):
        assert reponse.status_code == 429
        assert MESSAGE_VERROUILLAGE in reponse.content.decode()
        assert int(reponse["Retry-After"]) == 15 * 60
    # Same page whatever the password: a locked pair learns nothing.
    assert faux.content == juste.content
    assert not connecte(client)
    assert EvenementAudit.objects.filter(type="verrouillage", identifiant="porteur-adn").exists()

    # Per username and address: another address, or another account, is not locked.
    ailleurs = Client(REMOTE_ADDR="10.1.2.3")
    reponse = ailleurs.post(url, {"username": "porteur-adn", "password": MOT_DE_PASSE})
    assert reponse.status_code == 302 and connecte(ailleurs)
    reponse = client.post(url, {"username": "porteur-ales", "password": MOT_DE_PASSE})
    assert reponse.status_code == 302


def test_admin_verrouille_apres_cinq_echecs(client, personas):
    url = reverse("admin:login") + "?next=/admin/"
    *avant, cinquieme = echouer(client, url, "region-ara", 5)
    assert all(r.status_code == 200 for r in avant)
    juste = client.post(url, {"username": "region-ara", "password": MOT_DE_PASSE})
    for reponse in (cinquieme, juste):
        assert reponse.status_code == 429
        page = reponse.content.decode()
        assert MESSAGE_VERROUILLAGE in page
        assert 'id="site-name"' in page  # the back-office's look
    assert not connecte(client)


def test_deverrouille_apres_le_delai(client, personas):
    url = reverse("connexion")
    echouer(client, url, "porteur-adn", 5)
    assert (
        client.post(url, {"username": "porteur-adn", "password": MOT_DE_PASSE}).status_code == 429
    )
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    reponse = client.post(url, {"username": "porteur-adn", "password": MOT_DE_PASSE})
    assert reponse.status_code == 302 and connecte(client)


def test_deverrouille_par_un_administrateur(client, personas):
    url = reverse("admin:login")
    echouer(client, url, "region-ara", 5)
    assert client.post(url, {"username": "region-ara", "password": MOT_DE_PASSE}).status_code == 429
    call_command("axes_reset")
    reponse = client.post(
        url + "?next=/admin/", {"username": "region-ara", "password": MOT_DE_PASSE}
    )
    assert reponse.status_code == 302 and connecte(client)


def test_un_succes_remet_le_compteur_a_zero(client, personas):
    url = reverse("connexion")
    echouer(client, url, "porteur-adn", 4)
    client.post(url, {"username": "porteur-adn", "password": MOT_DE_PASSE})
    client.post(reverse("deconnexion"))
    reponses = echouer(client, url, "porteur-adn", 4)
    assert all(r.status_code == 200 for r in reponses)


# ---------------------------------------------------------------------------
# Passwords


def test_validateurs_de_mot_de_passe():
    noms = {v["NAME"].rsplit(".", 1)[1]: v for v in reglages.AUTH_PASSWORD_VALIDATORS}
    assert set(noms) == {
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    }
    assert noms["MinimumLengthValidator"]["OPTIONS"]["min_length"] >= 12


@pytest.mark.parametrize(
    ("nouveau", "message"),
    [
        (
            "Court-2026",
            "Ce mot de passe est trop court. Il doit contenir au minimum 12 caractères.",
        ),
        ("123456789012", "Ce mot de passe est entièrement numérique."),
        ("password1234", "Ce mot de passe est trop courant."),
        ("porteur-adn-exemple", "Le mot de passe est trop semblable"),
    ],
)
def test_mot_de_passe_faible_refuse_au_changement(client, personas, nouveau, message):
    client.force_login(personas["porteur-adn"])
    reponse = client.post(
        reverse("mot_de_passe_changer"),
        {"old_password": MOT_DE_PASSE, "new_password1": nouveau, "new_password2": nouveau},
    )
    assert reponse.status_code == 200
    assert message in reponse.content.decode()
    personas["porteur-adn"].refresh_from_db()
    assert personas["porteur-adn"].check_password(MOT_DE_PASSE)


# ---------------------------------------------------------------------------
# Two-factor authentication


@pytest.fixture
def deux_facteurs(settings):
    settings.DOUBLE_AUTHENTIFICATION = True


@pytest.mark.parametrize(
    ("env", "attendu"),
    [
        ({"DEBUG": "false", "SECRET_KEY": "x" * 50}, "True"),
        ({"DEBUG": "true"}, "False"),
        ({"DEBUG": "false", "SECRET_KEY": "x" * 50, "DOUBLE_AUTHENTIFICATION": "false"}, "False"),
        ({"DEBUG": "true", "DOUBLE_AUTHENTIFICATION": "true"}, "True"),
    ],
)
def test_double_authentification_par_defaut_hors_debug(env, attendu):
    """On unless DEBUG (the demo of `make run` stays usable), and settable either way."""
    environnement = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "DEBUG", "DOUBLE_AUTHENTIFICATION")
    }
    resultat = subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.DOUBLE_AUTHENTIFICATION)"],
        env={**environnement, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert resultat.stdout.strip().splitlines()[-1] == attendu


def test_sans_le_reglage_pas_de_redirection(client, personas):
    client.force_login(personas["region-ara"])
    assert client.get("/admin/").status_code == 200


def test_agent_sans_appareil_envoye_a_l_enrolement(client, personas, deux_facteurs):
    client.force_login(personas["region-ara"])
    for url in ("/admin/", "/admin/projets/projet/", "/admin/projets/projet/exporter/"):
        reponse = client.get(url)
        assert reponse.status_code == 302
        assert reponse.url.startswith(ACTIVER + "?next=")
    # The administrators' pages outside the admin site too.
    client.force_login(personas["national"])
    assert client.get("/comptes/invitations/").url.startswith(ACTIVER)


def test_enrolement_complet(client, personas, deux_facteurs):
    agent = personas["region-ara"]
    client.force_login(agent)
    page = client.get(ACTIVER + "?next=/admin/projets/projet/")
    contenu = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in contenu and "<path" in contenu  # inline QR code
    assert '<rect fill="white"' in contenu  # readable on a dark theme
    assert not re.search(r"<script(?![^>]*\bsrc=)", contenu)  # no inline script
    appareil = TOTPDevice.objects.get(user=agent, confirmed=False)
    assert page.context["secret"].replace(" ", "") in contenu.replace(" ", "")
    assert 'id="nav-sidebar"' not in contenu  # no back-office menu yet
    # Reloading keeps the same secret.
    assert client.get(ACTIVER).context["secret"] == page.context["secret"]

    refus = client.post(ACTIVER, {"code": mauvais_code(appareil), "next": "/admin/"})
    assert refus.status_code == 200
    assert "Code incorrect" in refus.content.decode()
    appareil.refresh_from_db()
    assert not appareil.confirmed
    assert client.get("/admin/").status_code == 302
    assert EvenementAudit.objects.filter(
        type="double_authentification", user=agent, details__resultat="echec"
    ).exists()
    # Right away, even the right code waits (django-otp's throttling).
    attente = client.post(ACTIVER, {"code": code_de(appareil)})
    assert "patientez" in attente.content.decode()
    sans_attente(appareil)

    reponse = client.post(ACTIVER, {"code": code_de(appareil), "next": "/admin/projets/projet/"})
    assert reponse.status_code == 200
    codes = reponse.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    contenu = reponse.content.decode()
    assert all(code in contenu for code in codes)
    assert 'href="/admin/projets/projet/"' in contenu
    appareil.refresh_from_db()
    assert appareil.confirmed
    assert StaticToken.objects.filter(device__user=agent).count() == 10
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/projets/projet/").status_code == 200
    assert EvenementAudit.objects.filter(
        type="double_authentification", user=agent, details__resultat="succes"
    ).exists()
    # Enrolled: the enrolment page no longer shows a secret.
    assert client.get(ACTIVER).status_code == 302


@pytest.fixture
def agent_equipe(personas):
    agent = personas["region-ara"]
    appareil = TOTPDevice.objects.create(user=agent, name="téléphone", confirmed=True)
    secours = StaticDevice.objects.create(user=agent, name="secours", confirmed=True)
    secours.token_set.create(token="abcd2345")
    secours.token_set.create(token="efgh6789")
    return agent, appareil


def test_page_de_code_avec_l_application(client, agent_equipe, deux_facteurs):
    agent, appareil = agent_equipe
    client.force_login(agent)
    reponse = client.get("/admin/projets/projet/")
    assert reponse.status_code == 302 and reponse.url.startswith(CODE + "?next=")
    page = client.get(reponse.url)
    assert page.status_code == 200 and "code à 6 chiffres" in page.content.decode()

    refus = client.post(CODE, {"code": mauvais_code(appareil), "next": "/admin/"})
    assert refus.status_code == 200 and "Code incorrect" in refus.content.decode()
    assert client.get("/admin/").status_code == 302
    sans_attente(appareil)

    reponse = client.post(CODE, {"code": code_de(appareil), "next": "/admin/projets/projet/"})
    assert reponse.status_code == 302 and reponse.url == "/admin/projets/projet/"
    assert client.get("/admin/").status_code == 200
    assert connecte(client)

    # A new session asks again; the same code cannot be replayed.
    autre = Client()
    autre.force_login(agent)
    assert autre.get("/admin/").status_code == 302
    rejeu = autre.post(CODE, {"code": code_de(appareil)})
    assert rejeu.status_code == 200 and "Code incorrect" in rejeu.content.decode()


def test_code_de_secours_une_seule_fois(client, agent_equipe, deux_facteurs):
    agent, _ = agent_equipe
    client.force_login(agent)
    reponse = client.post(CODE, {"code": "ABCD 2345", "next": "/admin/"})
    assert reponse.status_code == 302 and reponse.url == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert not StaticToken.objects.filter(token="abcd2345").exists()

    client.post(reverse("admin:logout"))
    client.force_login(agent)
    refus = client.post(CODE, {"code": "abcd2345"})
    assert refus.status_code == 200 and "Code incorrect" in refus.content.decode()
    assert client.get("/admin/").status_code == 302
    assert EvenementAudit.objects.filter(
        type="double_authentification", details__moyen="code_secours", details__resultat="echec"
    ).exists()


def test_redirection_vers_un_autre_site_ignoree(client, agent_equipe, deux_facteurs):
    agent, appareil = agent_equipe
    client.force_login(agent)
    reponse = client.post(CODE, {"code": code_de(appareil), "next": "https://pirate.example/"})
    assert reponse.url == "/admin/"


def test_porteur_non_concerne(client, personas, deux_facteurs):
    client.force_login(personas["porteur-adn"])
    assert client.get(reverse("mes_dossiers")).status_code == 200
    assert client.get(reverse("compte")).status_code == 200
    reponse = client.get("/admin/")
    assert reponse.status_code == 302 and reponse.url.startswith(reverse("admin:login"))
    assert client.get(ACTIVER).status_code == 403


def test_connexion_proconnect_d_un_agent_demande_le_code(
    client, personas, settings, monkeypatch, deux_facteurs
):
    fournisseur = next(installer_proconnect(settings, monkeypatch))
    agent = personas["region-ara"]
    agent.email = "martine.dupont@ara.gouv.fr"
    agent.save()
    reponse = se_connecter(client, fournisseur)
    assert reponse.status_code == 302 and reponse.url == "/admin/"
    assert connecte(client)
    reponse = client.get("/admin/")
    assert reponse.status_code == 302 and reponse.url.startswith(ACTIVER)


def test_reinitialiser_la_double_authentification(agent_equipe, deux_facteurs, client):
    agent, _ = agent_equipe
    sortie = StringIO()
    call_command("reinitialiser_double_authentification", "region-ara", stdout=sortie)
    assert "réinitialisée" in sortie.getvalue()
    assert not TOTPDevice.objects.filter(user=agent).exists()
    assert not StaticDevice.objects.filter(user=agent).exists()
    assert EvenementAudit.objects.filter(
        type="double_authentification", user=agent, details__action="reinitialisation"
    ).exists()
    client.force_login(agent)
    assert client.get("/admin/").url.startswith(ACTIVER)


def test_accueil_demo_signale_la_double_authentification(settings):
    sortie = StringIO()
    call_command("accueil_demo", stdout=sortie)
    assert "désactivée en développement" in sortie.getvalue()
    settings.DOUBLE_AUTHENTIFICATION = True
    call_command("accueil_demo", stdout=sortie)
    assert "Double authentification active" in sortie.getvalue()


def _vieillir_la_session(client, minutes):
    import time

    session = client.session
    session["derniere_activite"] = time.time() - minutes * 60
    session.save()


def test_session_fermee_apres_inactivite(client, personas, settings):
    """An hour without a request signs the officer out, says why, and is audited."""
    settings.SESSION_INACTIVITE_MINUTES = 60
    client.force_login(personas["region-ara"])
    assert client.get("/admin/").status_code == 200
    _vieillir_la_session(client, 61)
    reponse = client.get("/admin/", follow=True)
    assert SESSION_KEY not in client.session
    assert reponse.redirect_chain[0][0].startswith("/admin/login/")
    assert "après 60 minutes d&#x27;inactivité" in reponse.content.decode()
    evenement = EvenementAudit.objects.filter(type="deconnexion").latest("pk")
    assert evenement.details == {"motif": "inactivité"}
    assert evenement.user == personas["region-ara"]


def test_session_active_prolongee(client, personas, settings):
    settings.SESSION_INACTIVITE_MINUTES = 60
    client.force_login(personas["porteur-adn"])
    client.get("/mes-dossiers/")
    _vieillir_la_session(client, 59)
    assert client.get("/mes-dossiers/").status_code == 200
    assert SESSION_KEY in client.session
    # The visit counted as activity: 59 more minutes later, still signed in.
    _vieillir_la_session(client, 0)
    assert client.get("/mes-dossiers/").status_code == 200
    assert SESSION_KEY in client.session


def test_activite_enregistree_au_plus_une_fois_par_minute(client, personas, settings):
    client.force_login(personas["porteur-adn"])
    client.get("/mes-dossiers/")
    premiere = client.session["derniere_activite"]
    client.get("/mes-dossiers/")
    assert client.session["derniere_activite"] == premiere


def test_sans_limite_d_inactivite(client, personas, settings):
    settings.SESSION_INACTIVITE_MINUTES = 0
    client.force_login(personas["porteur-adn"])
    client.get("/mes-dossiers/")
    _vieillir_la_session(client, 600)
    assert client.get("/mes-dossiers/").status_code == 200
    assert SESSION_KEY in client.session


def test_porteur_inactif_renvoye_a_la_connexion_du_portail(client, personas, settings):
    settings.SESSION_INACTIVITE_MINUTES = 30
    client.force_login(personas["porteur-adn"])
    client.get("/mes-dossiers/")
    _vieillir_la_session(client, 31)
    reponse = client.get("/mes-dossiers/", follow=True)
    assert reponse.redirect_chain[0][0].startswith("/connexion/")
    assert "après 30 minutes d&#x27;inactivité" in reponse.content.decode()
