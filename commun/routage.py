"""Where reads go, shared by the database router (config/routeurs.py) and the data cache
(commun/cache_donnees.py): the state of the current request and of the read replica.

- `lire_sur_replique()`: the current request's reads may use the replica (an API read,
  not pinned to the primary by a recent write, replica reachable);
- `primaire()`: a block whose reads all go to the primary;
- `position_primaire()` / `replique_a_rejoue(lsn)`: PostgreSQL write-ahead-log
  positions, to know whether the replica already shows a given write;
- a replica found unreachable is left alone for `REPLIQUE_PAUSE_SECONDES` (reads go to
  the primary meanwhile), logged once per outage and counted.
"""

import logging
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connections

logger = logging.getLogger("routage")

REPLIQUE = "replica"

_lecture_replica: ContextVar[bool] = ContextVar("lecture_replica", default=False)
_primaire_force: ContextVar[bool] = ContextVar("primaire_force", default=False)
# {"a_ecrit": bool} for the current request (set by the router's db_for_write).
_ecritures: ContextVar[dict | None] = ContextVar("ecritures", default=None)


class _EtatReplique:
    """Per process: until when the replica is left alone, and how many failures."""

    def __init__(self):
        self.verrou = threading.Lock()
        self.pause_jusqu_a = 0.0
        self.pannes = 0
        self.en_panne = False


etat_replique = _EtatReplique()


def replique_configuree() -> bool:
    return REPLIQUE in settings.DATABASES


def _pause() -> float:
    return float(getattr(settings, "REPLIQUE_PAUSE_SECONDES", 5))


def replique_en_pause() -> bool:
    return time.monotonic() < etat_replique.pause_jusqu_a


def signaler_panne_replique(erreur) -> None:
    with etat_replique.verrou:
        etat_replique.pannes += 1
        etat_replique.pause_jusqu_a = time.monotonic() + _pause()
        premiere = not etat_replique.en_panne
        etat_replique.en_panne = True
    if premiere:
        logger.warning("réplique injoignable, lectures sur le primaire : %s", erreur)


def signaler_replique_revenue() -> None:
    if etat_replique.en_panne:
        with etat_replique.verrou:
            etat_replique.en_panne = False
        logger.warning("réplique de nouveau joignable")


def replique_joignable() -> bool:
    """True when the replica answers (a persistent connection checked once per request,
    as CONN_HEALTH_CHECKS does); False, and a pause, when it does not."""
    if not replique_configuree() or replique_en_pause():
        return False
    connexion = connections[REPLIQUE]
    try:
        connexion.close_if_health_check_failed()
        connexion.ensure_connection()
    except Exception as erreur:  # noqa: BLE001 - any failure: read the primary
        connexion.close_if_unusable_or_obsolete()
        signaler_panne_replique(erreur)
        return False
    signaler_replique_revenue()
    return True


def lire_sur_replique() -> bool:
    return _lecture_replica.get() and not _primaire_force.get() and not replique_en_pause()


@contextmanager
def lectures_sur_replique(actif: bool = True):
    jeton = _lecture_replica.set(actif)
    try:
        yield
    finally:
        _lecture_replica.reset(jeton)


@contextmanager
def primaire():
    """Every read of the block goes to the primary."""
    jeton = _primaire_force.set(True)
    try:
        yield
    finally:
        _primaire_force.reset(jeton)


@contextmanager
def suivi_des_ecritures():
    """Collect whether the block wrote (the router's db_for_write marks it)."""
    suivi = {"a_ecrit": False}
    jeton = _ecritures.set(suivi)
    try:
        yield suivi
    finally:
        _ecritures.reset(jeton)


def noter_ecriture() -> None:
    suivi = _ecritures.get()
    if suivi is not None:
        suivi["a_ecrit"] = True


def _postgresql(alias: str) -> bool:
    return connections[alias].vendor == "postgresql"


def position_primaire() -> str | None:
    """The primary's current write-ahead-log position (after the caller's commit), or
    None when there is no PostgreSQL primary."""
    if not _postgresql("default"):
        return None
    with connections["default"].cursor() as curseur:
        curseur.execute("SELECT pg_current_wal_lsn()::text")
        return curseur.fetchone()[0]


def replique_a_rejoue(position: str | None) -> bool:
    """True when the replica has replayed the primary's log up to `position` (always
    true without a position); False when it lags, or cannot be asked."""
    if not position:
        return True
    if not replique_configuree() or replique_en_pause() or not _postgresql(REPLIQUE):
        return False
    try:
        with connections[REPLIQUE].cursor() as curseur:
            curseur.execute(
                "SELECT coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, true)", [position]
            )
            return bool(curseur.fetchone()[0])
    except Exception as erreur:  # noqa: BLE001 - unknown: trust the primary
        signaler_panne_replique(erreur)
        return False
