# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""SSRF guard on webhook receivers (commun/reseau.py): HTTPS only, public addresses
only, checked at registration and before each delivery, the checked address pinned,
no redirect followed, bounded wait and answer."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError

from api import services
from api.models import AbonnementWebhook, LivraisonWebhook
from commun import reseau

from .api_outils import _api_sans_quota_partage, emettre  # noqa: F401
from .conftest import ADRESSE_PUBLIQUE_FACTICE

PORTS = range(8210, 8219)


@pytest.fixture
def dns(monkeypatch):
    """Names resolved as the test says (every other name: unknown)."""
    table = {}

    def resoudre(hote, port):
        if hote in table:
            return table[hote]
        raise OSError("nom inconnu")

    monkeypatch.setattr(reseau, "resoudre", resoudre)
    return table


@pytest.mark.parametrize(
    "adresse, motif",
    [
        ("10.1.2.3", "adresse privée"),
        ("172.16.0.1", "adresse privée"),
        ("192.168.1.10", "adresse privée"),
        ("fd00::1", "adresse privée"),
        ("127.0.0.1", "bouclage"),
        ("127.8.8.8", "bouclage"),
        ("::1", "bouclage"),
        ("::ffff:127.0.0.1", "bouclage"),  # IPv4 mapped in IPv6
        ("169.254.169.254", "lien-local"),  # cloud metadata
        ("fe80::1", "lien-local"),
        ("224.0.0.1", "multidiffusion"),
        ("ff02::1", "multidiffusion"),
        ("240.0.0.1", "réservée"),
        ("0.0.0.0", "non spécifiée"),
        ("100.64.0.1", "adresse non publique"),  # carrier-grade NAT
    ],
)
def test_adresses_internes_refusees(dns, adresse, motif):
    dns["interne.partenaire.fr"] = [adresse]
    refus = reseau.refus_adresse("https://interne.partenaire.fr/webhooks")
    assert refus and motif in refus and "interne.partenaire.fr" in refus
    assert "Seules les adresses publiques sont admises" in refus


def test_une_seule_adresse_interne_suffit_a_refuser(dns):
    dns["double.partenaire.fr"] = [ADRESSE_PUBLIQUE_FACTICE, "10.0.0.5"]
    assert "10.0.0.5, une adresse privée" in reseau.refus_adresse("https://double.partenaire.fr/")


def test_adresse_ip_litterale_interne_refusee():
    assert "bouclage" in reseau.refus_adresse("https://127.0.0.1/")
    assert "lien-local" in reseau.refus_adresse("https://[fe80::1]:8443/")
    # The real resolver: « localhost » is the loopback.
    assert "bouclage" in reseau.refus_adresse("https://localhost/")


@pytest.mark.parametrize(
    "url, motif",
    [
        ("http://webhooks.partenaire.fr/", "https://"),
        ("ftp://webhooks.partenaire.fr/", "https://"),
        ("https://jean:secret@webhooks.partenaire.fr/", "identifiant"),
        ("https:///chemin", "nom d'hôte manque"),
        ("https://webhooks.partenaire.fr:99999/", "invalide"),
        ("https://inconnu.partenaire.fr/", "ne se résout pas"),
    ],
)
def test_forme_de_l_adresse(dns, url, motif):
    dns["webhooks.partenaire.fr"] = [ADRESSE_PUBLIQUE_FACTICE]
    assert motif in reseau.refus_adresse(url)


def test_adresse_publique_admise(dns):
    dns["webhooks.partenaire.fr"] = [ADRESSE_PUBLIQUE_FACTICE, "2606:4700::1111"]
    assert reseau.refus_adresse("https://webhooks.partenaire.fr/recevoir") is None
    assert reseau.refus_adresse("https://webhooks.partenaire.fr./recevoir") is None


def test_http_local_seulement_par_le_reglage(settings):
    settings.WEBHOOKS_HTTP_LOCAL = False
    assert "https://" in reseau.refus_adresse("http://127.0.0.1:8210/")
    settings.WEBHOOKS_HTTP_LOCAL = True
    assert reseau.refus_adresse("http://127.0.0.1:8210/") is None
    assert reseau.refus_adresse("https://127.0.0.1:8210/") is None
    # Only 127.0.0.1 itself: neither another name nor another loopback address.
    assert "https://" in reseau.refus_adresse("http://localhost:8210/")
    assert "bouclage" in reseau.refus_adresse("https://127.0.0.2/")
    assert "https://" in reseau.refus_adresse("http://[::1]:8210/")


def test_reglage_refuse_sans_debug(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import config.settings as module

    monkeypatch.setenv("WEBHOOKS_HTTP_LOCAL", "true")
    monkeypatch.setenv("DEBUG", "false")
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    try:
        with pytest.raises(ImproperlyConfigured, match="WEBHOOKS_HTTP_LOCAL"):
            importlib.reload(module)
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def test_inscription_refusee_sans_rien_creer(personas, dns, db):
    dns["interne.partenaire.fr"] = ["10.0.0.8"]
    jeton, _ = emettre(personas, personas["partenaire-bpi"])
    for url in ("https://interne.partenaire.fr/", "http://127.0.0.1:8210/"):
        with pytest.raises(ValidationError) as erreur:
            services.abonnement_creer(
                par=personas["national"], jeton=jeton, url=url, evenements=["aide.creation"]
            )
        assert list(erreur.value.message_dict) == ["url"]
    assert not AbonnementWebhook.objects.exists()


# --- At delivery ---------------------------------------------------------------------------


class Recepteur:
    """A real HTTP server on 127.0.0.1 whose answer the test writes (`repondre`)."""

    def __init__(self, repondre):
        self.recues = []
        recepteur = self

        class Gestionnaire(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                recepteur.recues.append(self.path)
                repondre(self)

            def log_message(self, *args):
                pass

        for port in PORTS:
            try:
                self.serveur = ThreadingHTTPServer(("127.0.0.1", port), Gestionnaire)
                break
            except OSError:
                continue
        self.port = self.serveur.server_port
        self.url = f"http://127.0.0.1:{self.port}/recevoir"
        threading.Thread(target=self.serveur.serve_forever, daemon=True).start()

    def arreter(self):
        self.serveur.shutdown()
        self.serveur.server_close()


@pytest.fixture
def recevoir(settings):
    settings.WEBHOOKS_HTTP_LOCAL = True
    serveurs = []

    def demarrer(repondre=lambda h: (h.send_response(200), h.end_headers())):
        serveurs.append(Recepteur(repondre))
        return serveurs[-1]

    yield demarrer
    for serveur in serveurs:
        serveur.arreter()


def _livraison(personas, url):
    jeton, _ = emettre(personas, personas["partenaire-bpi"])
    abonnement, _ = services.abonnement_creer(
        par=personas["national"], jeton=jeton, url=url, evenements=["projet.creation"]
    )
    return LivraisonWebhook.objects.create(
        abonnement=abonnement, identifiant="msg_essai", evenement="projet.creation", corps="{}"
    )


def test_livraison_admise_vers_127_0_0_1_par_le_reglage(recevoir, personas, db):
    recepteur = recevoir()
    livraison = services.livraison_tenter(livraison_id=_livraison(personas, recepteur.url).pk)
    assert (livraison.statut, livraison.code_http) == ("livree", 200)
    assert recepteur.recues == ["/recevoir"]


def test_adresse_controlee_a_chaque_livraison(recevoir, personas, settings, db):
    recepteur = recevoir()
    livraison = _livraison(personas, recepteur.url)
    settings.WEBHOOKS_HTTP_LOCAL = False  # e.g. the address was registered elsewhere
    livraison = services.livraison_tenter(livraison_id=livraison.pk)
    assert recepteur.recues == []  # nothing sent
    assert livraison.code_http is None and livraison.tentatives == 1
    assert "https://" in livraison.derniere_erreur and livraison.statut == "en_attente"


def test_nom_qui_change_d_adresse_entre_controle_et_envoi(recevoir, personas, monkeypatch, db):
    """DNS rebinding: the guard saw a public address, the connection would reach the
    loopback; the address actually connected to is checked too (requests-hardened)."""
    import socket

    import requests_hardened.ip_filter as filtre

    recepteur = recevoir()
    livraison = _livraison(personas, f"https://rebond.example:{recepteur.port}/recevoir")
    vrai = socket.getaddrinfo

    def getaddrinfo(hote, port, *args, **kwargs):
        if hote == "rebond.example":
            return vrai("127.0.0.1", port, *args, **kwargs)
        return vrai(hote, port, *args, **kwargs)

    monkeypatch.setattr(filtre.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(reseau, "http_local_permis", lambda: False)
    livraison = services.livraison_tenter(livraison_id=livraison.pk)
    assert recepteur.recues == []
    assert "InvalidIPAddress" in livraison.derniere_erreur and livraison.code_http is None


def test_redirection_non_suivie(recevoir, personas, db):
    cible = recevoir()

    def rediriger(h):
        h.send_response(307)
        h.send_header("Location", cible.url)
        h.end_headers()

    source = recevoir(rediriger)
    livraison = services.livraison_tenter(livraison_id=_livraison(personas, source.url).pk)
    assert (livraison.code_http, livraison.statut) == (307, "en_attente")
    assert livraison.derniere_erreur == "Réponse HTTP 307"
    assert source.recues == ["/recevoir"] and cible.recues == []


def test_reponse_lue_dans_une_limite(recevoir, personas, db):
    """An endless answer is cut at WEBHOOKS_REPONSE_MAX: the delivery ends, and the
    receiver could not send everything (it stops by itself after 64 MiB)."""
    envoi = {"tout": False, "fini": threading.Event()}

    def sans_fin(h):
        h.send_response(500)
        h.send_header("Content-Length", str(64 * 1024 * 1024))
        h.end_headers()
        morceau = b"x" * 65536
        try:
            for _ in range(1024):
                h.wfile.write(morceau)
            envoi["tout"] = True
        except OSError:
            pass  # the client closed the connection
        finally:
            envoi["fini"].set()

    recepteur = recevoir(sans_fin)
    livraison = services.livraison_tenter(livraison_id=_livraison(personas, recepteur.url).pk)
    assert livraison.code_http == 500
    # An excerpt of the answer only.
    assert livraison.derniere_erreur.startswith("Réponse HTTP 500 : xxx")
    assert len(livraison.derniere_erreur) < 400
    envoi["fini"].wait(10)  # the receiver notices the closed connection
    assert not envoi["tout"]


def test_delai_borne(recevoir, personas, settings, db):
    settings.WEBHOOKS_DELAI = 0.3
    relacher = threading.Event()

    def lent(h):
        relacher.wait(5)
        h.send_response(200)
        h.end_headers()

    recepteur = recevoir(lent)
    try:
        livraison = services.livraison_tenter(livraison_id=_livraison(personas, recepteur.url).pk)
    finally:
        relacher.set()
    assert "Timeout" in livraison.derniere_erreur and livraison.statut == "en_attente"
