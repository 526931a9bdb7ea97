"""Fixtures and helpers of the partner API tests (imported by each test_api_* module).

`donnees_api`: on the tiny world of tests/conftest.py,
- Ardèche-Drôme Nord (ARA): `retenu` (public, with contacts and aides), `brouillon`, `refuse`;
- Bassin d'Alès (Occitanie): `en_cours` (public), `en_instruction`;
- aides: conventionnée 50 000 € with two payments, proposée 10 000 € on the retained
  dossier; engagée 30 000 € and soldée 20 000 € (one payment) on the dossier in progress.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import JetonPartenaire
from api.services import jeton_emettre
from financements.models import Aide, Enveloppe, Versement
from projets.models import Projet
from territoires.models import Binome, Labellisation

from . import factories as f


@pytest.fixture(autouse=True)
def _api_sans_quota_partage(settings):
    """A fresh throttling cache per test, and generous rates unless a test lowers them."""
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "anonyme": "100000/minute",
            "jeton": "100000/minute",
            "session": "100000/minute",
        },
    }
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


def avec_statut(projet, statut, **champs):
    """Read-side test data: the lifecycle itself is tested in test_projets_cycle.py."""
    Projet.objects.filter(pk=projet.pk).update(statut=statut, **champs)
    projet.refresh_from_db()
    return projet


def projet(territoire, statut, **champs):
    p = f.ProjetFactory(territoire=territoire, phase=f.PhaseFactory(), complet=False, **champs)
    return avec_statut(p, statut)


@pytest.fixture
def donnees_api(monde, personas):
    adn, ales = monde["adn"], monde["ales"]
    # The factory labels composed territories at the phase's start: date it as announced.
    Labellisation.objects.update_or_create(
        territoire=adn, phase=monde["phase"], defaults={"date": date(2023, 11, 9)}
    )
    Binome.objects.create(
        territoire=adn,
        elu_nom="Simon Plénet",
        elu_mandat="Président d'Annonay Rhône Agglo",
        industriel_nom="Claire Martin",
        industriel_entreprise="Ateliers du Vivarais",
        date_debut=date(2024, 1, 1),
    )
    contacts = {
        "contact_nom": "Jeanne Secret",
        "contact_email": "jeanne.secret@example.org",
        "contact_telephone": "0601020304",
    }
    retenu = projet(
        adn, "retenu", titre="Extension de l'atelier", commune=monde["commune_07"], **contacts
    )
    retenu.axes.add(monde["axes"][0])
    Projet.objects.filter(pk=retenu.pk).update(decide_le=timezone.now(), zone_zrr=True)
    brouillon = projet(adn, "brouillon", titre="Projet en brouillon", **contacts)
    refuse = projet(adn, "refuse", titre="Projet refusé")
    en_cours = projet(ales, "en_cours", titre="Fonderie d'Alès", commune=monde["commune_30"])
    en_cours.axes.add(monde["axes"][1])
    instruction = projet(ales, "en_instruction", titre="Projet en instruction")

    operateur = f.OperateurFactory(
        nom="Bpifrance", sigle="Bpi", type="operateur", siret="50735154000014"
    )
    dispositif = f.DispositifFactory(
        code="fonds-acceleration",
        nom="Fonds d'accélération",
        operateur=operateur,
        id_dispositif_scdl="FR-FAIIT",
        notification_ue=True,
    )
    env_ara = f.EnveloppeFactory(dispositif=dispositif, region=monde["ara"], annee=2026)
    env_occ = f.EnveloppeFactory(dispositif=dispositif, region=monde["occ"], annee=2026)

    def aide(enveloppe, projet_, montant, statut, **champs):
        a = f.AideFactory(enveloppe=enveloppe, projet=projet_, montant=Decimal(montant), **champs)
        Aide.objects.filter(pk=a.pk).update(statut=statut)
        a.refresh_from_db()
        return a

    conventionnee = aide(
        env_ara,
        retenu,
        "50000.00",
        "conventionnee",
        reference_decision="DEC-2026-001",
        date_decision=date(2026, 2, 1),
        date_convention=date(2026, 3, 1),
        versement_modalite="echelonne",
        versement_debut=date(2026, 4, 1),
        versement_fin=date(2026, 9, 1),
    )
    proposee = aide(env_ara, retenu, "10000.00", "proposee")
    engagee = aide(env_occ, en_cours, "30000.00", "engagee", nature="avance_remboursable")
    soldee = aide(
        env_occ,
        en_cours,
        "20000.00",
        "soldee",
        date_convention=date(2025, 6, 1),
        versement_modalite="unique",
        versement_debut=date(2025, 7, 1),
    )
    Versement.objects.create(aide=conventionnee, montant=Decimal("20000"), date=date(2026, 4, 1))
    Versement.objects.create(aide=conventionnee, montant=Decimal("10000"), date=date(2026, 9, 1))
    Versement.objects.create(aide=soldee, montant=Decimal("20000"), date=date(2025, 7, 1))
    # Written outside the service: recompute the envelopes' maintained totals.
    Enveloppe.objects.recalculer_totaux()
    return {
        "retenu": retenu,
        "brouillon": brouillon,
        "refuse": refuse,
        "en_cours": en_cours,
        "instruction": instruction,
        "dispositif": dispositif,
        "env_ara": env_ara,
        "env_occ": env_occ,
        "conventionnee": conventionnee,
        "proposee": proposee,
        "engagee": engagee,
        "soldee": soldee,
    }


def emettre(personas, user, niveau="complet", **champs):
    """A token issued by the national administrator; returns (token, secret)."""
    jeton = JetonPartenaire(user=user, nom=f"Jeton {user}", niveau=niveau, **champs)
    secret = jeton_emettre(par=personas["national"], jeton=jeton)
    return jeton, secret


def entete(secret, mot="Bearer"):
    return {"HTTP_AUTHORIZATION": f"{mot} {secret}"}


def resultats(reponse, cle):
    return [ligne[cle] for ligne in reponse.json()["results"]]


@pytest.fixture
def hier():
    return timezone.now() - timedelta(days=1)
