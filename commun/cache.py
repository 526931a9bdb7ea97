"""The cache as an optimisation, never a point of failure.

`CacheRedisTolerant` is Django's Redis cache whose errors (Redis stopped, unreachable,
timed out, out of memory) degrade to "no cache": a read misses, a write is dropped, and
the caller computes the value itself. The first error of an outage is logged (logger
`cache`), every one is counted (`etat`, shown by /sante/), and Redis is left alone for
`CACHE_PAUSE_SECONDES` after an error so that requests do not each wait for a timeout.
"""

import logging
import threading
import time

from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger("cache")


class _Etat:
    def __init__(self):
        self.verrou = threading.Lock()
        self.erreurs = 0
        self.evitees = 0
        self.pause_jusqu_a = 0.0
        self.en_panne = False
        self.derniere_erreur = ""


etat = _Etat()


def _pause() -> float:
    return float(getattr(settings, "CACHE_PAUSE_SECONDES", 5))


def en_pause() -> bool:
    return time.monotonic() < etat.pause_jusqu_a


def _echec(operation, erreur) -> None:
    with etat.verrou:
        etat.erreurs += 1
        etat.pause_jusqu_a = time.monotonic() + _pause()
        etat.derniere_erreur = f"{type(erreur).__name__}: {erreur}"[:300]
        premiere = not etat.en_panne
        etat.en_panne = True
    if premiere:
        logger.warning("cache Redis indisponible (%s), calcul sans cache : %s", operation, erreur)


def _retour() -> None:
    if etat.en_panne:
        with etat.verrou:
            etat.en_panne = False
        logger.warning("cache Redis de nouveau disponible")


def _tolerant(nom, defaut):
    def operation(self, *args, **kwargs):
        if en_pause():
            with etat.verrou:
                etat.evitees += 1
            return defaut() if callable(defaut) else defaut
        try:
            resultat = getattr(RedisCache, nom)(self, *args, **kwargs)
        except RedisError as erreur:
            _echec(nom, erreur)
            return defaut() if callable(defaut) else defaut
        _retour()
        return resultat

    operation.__name__ = nom
    return operation


class CacheRedisTolerant(RedisCache):
    def get(self, key, default=None, version=None):
        return _tolerant("get", default)(self, key, default, version)

    add = _tolerant("add", False)
    set = _tolerant("set", None)
    touch = _tolerant("touch", False)
    delete = _tolerant("delete", False)
    get_many = _tolerant("get_many", dict)
    set_many = _tolerant("set_many", list)
    delete_many = _tolerant("delete_many", None)
    has_key = _tolerant("has_key", False)
    clear = _tolerant("clear", False)

    def incr(self, key, delta=1, version=None):
        # A missing key is ValueError (Django's contract); an outage is a miss too.
        resultat = _tolerant("incr", None)(self, key, delta, version)
        if resultat is None:
            raise ValueError(f"Clé absente du cache (ou cache indisponible) : {key!r}")
        return resultat

    def sonder(self) -> None:
        """Raise if Redis does not answer (for /sante/), whatever the pause."""
        self._cache.get_client(write=True).ping()
