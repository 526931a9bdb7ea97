# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""Webhooks (Standard Webhooks): signed deliveries to a real HTTP receiver started on
127.0.0.1 by the test, scope of the token, retries with backoff, deactivation with an
e-mail, delivery log in the back-office."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api import services
from api.models import LivraisonWebhook
from financements import services as financements_services
from projets import services as projets_services

from . import factories as f
from .api_outils import _api_sans_quota_partage, emettre  # noqa: F401

PORTS = range(8210, 8219)  # receivers' ports (8219: nobody listens)


@pytest.fixture(autouse=True)
def _recepteur_local(settings):
    # Receivers listen on http://127.0.0.1: the setting that allows it (tests only).
    settings.WEBHOOKS_HTTP_LOCAL = True


class Recepteur:
    """A real HTTP server on 127.0.0.1: records each request, answers `codes` in turn
    (then 200)."""

    def __init__(self):
        self.recues, self.codes = [], []
        recepteur = self

        class Gestionnaire(BaseHTTPRequestHandler):
            def do_POST(self):
                corps = self.rfile.read(int(self.headers["Content-Length"]))
                recepteur.recues.append({"entetes": dict(self.headers), "corps": corps})
                code = recepteur.codes.pop(0) if recepteur.codes else 200
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        for port in PORTS:
            try:
                self.serveur = ThreadingHTTPServer(("127.0.0.1", port), Gestionnaire)
                break
            except OSError:
                continue
        self.url = f"http://127.0.0.1:{self.serveur.server_port}/recevoir"
        self.fil = threading.Thread(target=self.serveur.serve_forever, daemon=True)
        self.fil.start()

    def arreter(self):
        self.serveur.shutdown()
        self.serveur.server_close()


@pytest.fixture
def recepteur():
    r = Recepteur()
    yield r
    r.arreter()


def _retenir_et_financer(monde, personas, projet):
    agent = personas["region-ara"]
    for nom in ("deposer", "instruire", "retenir"):
        acteur = personas["porteur-adn"] if nom == "deposer" else agent
        projets_services.projet_transitionner(
            projet=projet, transition=nom, user=acteur, commentaire="ok"
        )
    enveloppe = financements_services.enveloppe_allouer(
        user=personas["national"],
        dispositif=f.DispositifFactory(phase=monde["phase"]),
        region=monde["ara"],
        annee=2026,
        montant="1000000",
    )
    aide = financements_services.aide_proposer(
        user=agent, enveloppe=enveloppe, projet=projet, montant="100000", nature="subvention"
    )
    financements_services.aide_engager(user=agent, aide=aide)
    return aide


def _abonner(personas, url, user="partenaire-bpi", niveau="opendata", evenements=None):
    jeton, _ = emettre(personas, personas[user], niveau=niveau)
    return services.abonnement_creer(
        par=personas["national"],
        jeton=jeton,
        url=url,
        evenements=evenements or ["projet.creation", "aide.creation", "aide.annulation"],
    )


def _distribuer(capture, **kwargs):
    with capture(execute=True):
        return services.webhooks_distribuer(**kwargs)


def test_livraison_signee_et_portee(
    recepteur, monde, personas, projet_adn, django_capture_on_commit_callbacks
):
    abonnement, secret = _abonner(personas, recepteur.url)
    occitanie, _ = _abonner(
        personas, recepteur.url + "?occ", user="region-occitanie", niveau="complet"
    )
    aide = _retenir_et_financer(monde, personas, projet_adn)

    _distribuer(django_capture_on_commit_callbacks)

    # Open-data token: the dossier entering the public set and its engaged aid; the
    # Occitanie token (full, its own perimeter) gets nothing of an Ardèche dossier.
    assert [r["entetes"]["webhook-id"] for r in recepteur.recues] == list(
        LivraisonWebhook.objects.filter(abonnement=abonnement)
        .order_by("pk")
        .values_list("identifiant", flat=True)
    )
    assert not LivraisonWebhook.objects.filter(abonnement=occitanie).exists()
    corps = [json.loads(r["corps"]) for r in recepteur.recues]
    assert [c["type"] for c in corps] == ["projet.creation", "aide.creation"]
    assert corps[0]["data"]["identifiant"] == projet_adn.reference
    assert corps[1]["data"]["identifiant"] == str(aide.uuid)

    # The signature verifies with the subscription's secret (standardwebhooks) …
    signataire = Webhook(secret)
    for recue in recepteur.recues:
        assert signataire.verify(recue["corps"], recue["entetes"])
    # … and fails on a tampered body, another secret or a replayed old timestamp.
    recue = recepteur.recues[0]
    with pytest.raises(WebhookVerificationError):
        signataire.verify(recue["corps"].replace(b"creation", b"sortie"), recue["entetes"])
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUFB" * 8).verify(recue["corps"], recue["entetes"])
    ancien = {**recue["entetes"], "webhook-timestamp": str(int(timezone.now().timestamp()) - 3600)}
    with pytest.raises(WebhookVerificationError):
        signataire.verify(recue["corps"], ancien)
    assert set(LivraisonWebhook.objects.values_list("statut", flat=True)) == {"livree"}

    # Nothing new: a second pass delivers nothing again.
    avant = len(recepteur.recues)
    _distribuer(django_capture_on_commit_callbacks)
    assert len(recepteur.recues) == avant

    # A tombstone: the aid cancelled.
    financements_services.aide_annuler(user=personas["region-ara"], aide=aide, motif="Réduit")
    _distribuer(django_capture_on_commit_callbacks)
    assert json.loads(recepteur.recues[-1]["corps"])["type"] == "aide.annulation"


def test_nouvelles_tentatives_avec_attente(
    recepteur, monde, personas, projet_adn, django_capture_on_commit_callbacks
):
    abonnement, _ = _abonner(personas, recepteur.url, evenements=["projet.creation"])
    recepteur.codes = [500, 503]
    _retenir_et_financer(monde, personas, projet_adn)

    avant = timezone.now()
    _distribuer(django_capture_on_commit_callbacks)
    livraison = LivraisonWebhook.objects.get(abonnement=abonnement)
    assert (livraison.statut, livraison.tentatives, livraison.code_http) == ("en_attente", 1, 500)
    assert livraison.derniere_erreur == "Réponse HTTP 500"
    assert livraison.prochaine_tentative >= avant + services.ATTENTES[0]

    # Not due yet: no new attempt.
    _distribuer(django_capture_on_commit_callbacks, maintenant=avant)
    assert len(recepteur.recues) == 1
    # Due: second attempt (503), waits longer; third attempt succeeds.
    _distribuer(django_capture_on_commit_callbacks, maintenant=livraison.prochaine_tentative)
    livraison.refresh_from_db()
    assert (livraison.tentatives, livraison.code_http) == (2, 503)
    deuxieme = livraison.prochaine_tentative
    assert deuxieme >= avant + services.ATTENTES[1]
    _distribuer(django_capture_on_commit_callbacks, maintenant=deuxieme)
    livraison.refresh_from_db()
    abonnement.refresh_from_db()
    assert (livraison.statut, livraison.tentatives) == ("livree", 3)
    assert abonnement.echecs_consecutifs == 0
    # The same webhook-id on every attempt (receivers deduplicate on it).
    assert len({r["entetes"]["webhook-id"] for r in recepteur.recues}) == 1


def test_desactivation_apres_echecs_repetes_avec_courriel(
    monde, personas, projet_adn, django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    monkeypatch.setattr(services, "SEUIL_DESACTIVATION", 2)
    personas["partenaire-bpi"].email = "webhooks@bpifrance.example"
    personas["partenaire-bpi"].save()
    # Nobody listens on this port: connection refused.
    abonnement, _ = _abonner(personas, "http://127.0.0.1:8219/rien", evenements=["projet.creation"])
    _retenir_et_financer(monde, personas, projet_adn)

    _distribuer(django_capture_on_commit_callbacks)
    livraison = LivraisonWebhook.objects.get()
    assert "ConnectionError" in livraison.derniere_erreur
    _distribuer(django_capture_on_commit_callbacks, maintenant=livraison.prochaine_tentative)

    abonnement.refresh_from_db()
    assert not abonnement.actif and abonnement.desactive_le is not None
    assert "2 échecs consécutifs" in abonnement.motif_desactivation
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["webhooks@bpifrance.example"]
    assert "désactivé" in mailoutbox[0].subject
    # Disabled: nothing more is attempted.
    livraison.refresh_from_db()
    _distribuer(django_capture_on_commit_callbacks, maintenant=timezone.now() + timedelta(days=1))
    assert LivraisonWebhook.objects.get().tentatives == livraison.tentatives


def test_abandon_apres_le_nombre_maximal(
    recepteur, monde, personas, projet_adn, django_capture_on_commit_callbacks
):
    _abonner(personas, recepteur.url, evenements=["projet.creation"])
    recepteur.codes = [500] * 10
    _retenir_et_financer(monde, personas, projet_adn)
    quand = None
    for _ in range(services.MAX_TENTATIVES):
        _distribuer(django_capture_on_commit_callbacks, **({"maintenant": quand} if quand else {}))
        quand = LivraisonWebhook.objects.get().prochaine_tentative
    livraison = LivraisonWebhook.objects.get()
    assert (livraison.statut, livraison.tentatives) == ("abandonnee", services.MAX_TENTATIVES)
    assert len(recepteur.recues) == services.MAX_TENTATIVES


def test_abonnement_refus(personas, db):
    from django.core.exceptions import PermissionDenied, ValidationError

    jeton, _ = emettre(personas, personas["partenaire-bpi"])
    with pytest.raises(ValidationError) as erreur:
        services.abonnement_creer(
            par=personas["national"], jeton=jeton, url="ftp://x", evenements=["projet.vole"]
        )
    assert "evenements" in erreur.value.message_dict and "url" in erreur.value.message_dict
    with pytest.raises(PermissionDenied):
        services.abonnement_creer(
            par=personas["region-ara"],
            jeton=jeton,
            url="https://a.fr/",
            evenements=["aide.creation"],
        )


def test_journal_des_livraisons_au_back_office(
    client, recepteur, monde, personas, projet_adn, django_capture_on_commit_callbacks
):
    _abonner(personas, recepteur.url, evenements=["projet.creation"])
    _retenir_et_financer(monde, personas, projet_adn)
    _distribuer(django_capture_on_commit_callbacks)
    client.force_login(personas["national"])
    reponse = client.get("/admin/api/livraisonwebhook/")
    assert reponse.status_code == 200
    assert "Livrée" in reponse.content.decode()
    client.force_login(personas["region-ara"])
    assert client.get("/admin/api/livraisonwebhook/").status_code == 403
