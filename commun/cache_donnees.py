"""What is kept in cache between writes: the programme's figures (API and portal home),
API list counts, envelope consumption.

All are keyed by a version of the data that every write on what they count bumps
(signals connected in api/apps.py), and expire anyway after a while: bulk loads and
queryset updates send no signal.
"""

import hashlib

from django.core.cache import cache

CLE_VERSION = "donnees:version"
DUREE_COMPTES = 60


def version() -> int:
    return cache.get_or_set(CLE_VERSION, 1, None)


def invalider(**kwargs) -> None:
    try:
        cache.incr(CLE_VERSION)
    except ValueError:
        cache.set(CLE_VERSION, 2, None)


def memoriser(nom: str, cle, calcul, duree: int = DUREE_COMPTES):
    """`calcul()`, kept under (`nom`, `cle`) until the next write or `duree` seconds."""
    empreinte = hashlib.sha256(repr(cle).encode()).hexdigest()
    cle_cache = f"{nom}:{version()}:{empreinte}"
    valeur = cache.get(cle_cache)
    if valeur is None:
        valeur = calcul()
        cache.set(cle_cache, valeur, duree)
    return valeur


def compte(queryset) -> int:
    """`queryset.count()`, kept until the next write: counting grows with the table
    (3 ms at 40,000 aides), while pages read an index."""
    sql, parametres = queryset.query.get_compiler(queryset.db).as_sql()
    return memoriser("compte", (queryset.db, sql, parametres), queryset.count)
