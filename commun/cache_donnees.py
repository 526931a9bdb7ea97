"""What is kept in cache between writes: the programme's figures (API and portal home),
API list counts, envelope consumption.

All are keyed by a version of the data that every write on what they count bumps
(signals connected in api/apps.py), and expire anyway after a while: bulk loads and
queryset updates send no signal.

The version is bumped twice: when the write happens, and once its transaction has
committed, so that a figure computed meanwhile from the not-yet-committed state is never
kept as current. At the second bump the primary's write-ahead-log position is recorded
with it: a figure is computed on the read replica only when the replica has replayed
that position — a lagging replica never fills the cache with old figures under the new
version (the figure is then computed on the primary).

The version starts from the clock (milliseconds): a Redis restart or an evicted version
key never brings back figures kept under an older version. Without Redis (commun.cache)
nothing is kept and every figure is computed.
"""

import hashlib
import time

from django.core.cache import cache
from django.db import transaction

from . import routage

CLE_VERSION = "donnees:version"
CLE_POSITION = "donnees:position"
DUREE_COMPTES = 60


def version() -> int:
    return cache.get_or_set(CLE_VERSION, int(time.time() * 1000), None)


def _incrementer() -> None:
    try:
        cache.incr(CLE_VERSION)
    except ValueError:
        cache.set(CLE_VERSION, int(time.time() * 1000), None)


def _apres_validation() -> None:
    if routage.replique_configuree():
        cache.set(CLE_POSITION, routage.position_primaire(), None)
    _incrementer()


def invalider(**kwargs) -> None:
    _incrementer()
    connexion = transaction.get_connection()
    if connexion.in_atomic_block and any(
        rappel is _apres_validation for _, rappel, _ in connexion.run_on_commit
    ):
        return  # once per transaction
    transaction.on_commit(_apres_validation)


def _calculer(calcul):
    """`calcul()`, on the primary when the replica has not replayed the last write."""
    if routage.lire_sur_replique() and not routage.replique_a_rejoue(cache.get(CLE_POSITION)):
        with routage.primaire():
            return calcul()
    return calcul()


def memoriser(nom: str, cle, calcul, duree: int = DUREE_COMPTES):
    """`calcul()`, kept under (`nom`, `cle`) until the next write or `duree` seconds."""
    empreinte = hashlib.sha256(repr(cle).encode()).hexdigest()
    cle_cache = f"{nom}:{version()}:{empreinte}"
    valeur = cache.get(cle_cache)
    if valeur is None:
        valeur = _calculer(calcul)
        cache.set(cle_cache, valeur, duree)
    return valeur


def compte(queryset) -> int:
    """`queryset.count()`, kept until the next write: counting grows with the table
    (3 ms at 40,000 aides), while pages read an index."""
    sql, parametres = queryset.query.get_compiler(queryset.db).as_sql()
    return memoriser("compte", (sql, parametres), queryset.count)
