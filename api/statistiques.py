"""Programme figures of the API (open data), cached; computed by financements.chiffres.

Only public dossiers (retained, in progress, completed) and the aid engaged or paid on
them are counted. Python merges the grouped rows (a few hundred at most), never the
dossiers themselves.
"""

from financements.chiffres import DUREE_CACHE, chiffres_en_cache, chiffres_programme

# The figures are computed once for every door in financements/chiffres.py, cached
# there (recomputed after a write on what they count, at worst every DUREE_CACHE s).
statistiques_programme = chiffres_programme
statistiques_en_cache = chiffres_en_cache
__all__ = ["DUREE_CACHE", "statistiques_en_cache", "statistiques_programme"]
