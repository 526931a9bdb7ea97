"""Redis errors degrade to no cache: the pages answer, /sante/ says « dégradé »
(issue 21). Before: the API and the portal home answered 500 with Redis down, and
/sante/ said « ok »."""

import logging

import pytest

from commun import cache as cache_tolerant

# Nothing listens there (the private range of this suite): every call fails at once.
REDIS_ABSENT = "redis://127.0.0.1:55399/0"


@pytest.fixture
def redis_arrete(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "commun.cache.CacheRedisTolerant",
            "LOCATION": REDIS_ABSENT,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.CACHE_PAUSE_SECONDES = 0  # each call tries Redis: counted every time
    cache_tolerant.etat.__init__()
    yield
    cache_tolerant.etat.__init__()


def test_sans_redis_les_pages_repondent(client, projet_adn, redis_arrete, caplog):
    with caplog.at_level(logging.WARNING, logger="cache"):
        for url in ("/", "/api/v1/statistiques/", "/api/v1/projets/", "/territoires/"):
            reponse = client.get(url)
            assert reponse.status_code == 200, url
    assert cache_tolerant.etat.erreurs > 0
    # Logged once for the outage, not once per call.
    assert len([r for r in caplog.records if "indisponible" in r.getMessage()]) == 1
    etat = client.get("/sante/")
    assert etat.status_code == 200  # the instance still serves
    assert etat.json()["statut"] == "dégradé"
    assert etat.json()["dependances"]["cache"]["statut"] == "indisponible"


def test_sans_redis_connexion_et_sessions(client, personas, redis_arrete, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    reponse = client.post(
        "/connexion/", {"username": "porteur-adn", "password": "motdepasse-de-test-123"}
    )
    assert reponse.status_code == 302
    assert client.get("/mes-dossiers/").status_code == 200


def test_pause_apres_une_erreur(settings, redis_arrete):
    from django.core.cache import cache

    settings.CACHE_PAUSE_SECONDES = 60
    assert cache.get("x", "defaut") == "defaut"
    erreurs = cache_tolerant.etat.erreurs
    assert cache.get("x") is None and cache.set("x", 1) is None
    assert cache.get_or_set("y", 3) == 3
    assert cache_tolerant.etat.erreurs == erreurs  # Redis left alone meanwhile
    assert cache_tolerant.etat.evitees >= 2
    with pytest.raises(ValueError):
        cache.incr("x")
