"""CSV exports written by PostgreSQL itself (`COPY … TO STDOUT`), relayed by Python.

The Python path (`api.rapide` rows through `api.exports`) converts every value in
Python and tops out near 20,000 rows/s; with COPY the server formats the rows and Python
only forwards 64 kB pieces (figures in docs/performance.md). The columns, their order
and their text are the Python path's — read from the same serializer, each field
turned into a SQL expression of its type — so both give the same file
(tests/test_api_rapide.py), text neutralised against formula injection by the same rule
(`commun.tableur.NeutraliserSQL` where `api.exports.a_neutraliser`). Used on PostgreSQL
when every column has a SQL form; other cases (SQLite, JSON list columns, complements
computed in Python) take the Python path.
"""

from django.db import connections
from django.db.models import F, TextField
from django.db.models.functions import Cast, Round
from rest_framework import serializers

from commun.tableur import NeutraliserSQL

from .exports import a_neutraliser, colonnes, en_tete_csv, reponse_csv_brute
from .rapide import HorodatageISO, est_complement

TAILLE_MORCEAU = 64 * 1024


def _expression(champ, chemin):
    """The SQL text of `champ` read at `chemin`, or None when it has no SQL form."""
    valeur = F(chemin)
    if isinstance(champ, serializers.DecimalField):
        return Cast(Round(valeur, champ.decimal_places), TextField())
    if isinstance(champ, serializers.DateTimeField):
        return HorodatageISO(valeur)
    if isinstance(
        champ,
        serializers.DateField
        | serializers.UUIDField
        | serializers.BooleanField
        | serializers.IntegerField,
    ):
        return Cast(valeur, TextField())  # 'true' / 'false' for booleans
    if isinstance(champ, serializers.ChoiceField | serializers.CharField):
        return NeutraliserSQL(valeur)
    return None


def _chemin(champ, prefixe=""):
    return prefixe + "__".join(champ.source_attrs)


def expressions_csv(serializer, complements_sql: dict) -> list | None:
    """One SQL expression per CSV column (`api.exports.colonnes`), or None."""
    expressions = []
    for _, (nom, *sous_nom) in colonnes(serializer):
        champ = serializer.fields[nom]
        if nom in complements_sql:
            expression = complements_sql[nom]
            if a_neutraliser(champ):
                expression = NeutraliserSQL(expression)
        elif sous_nom:
            if champ.source == "*":
                return None
            sous_champ = champ.fields[sous_nom[0]]
            expression = _expression(sous_champ, _chemin(sous_champ, _chemin(champ) + "__"))
        elif est_complement(champ):
            return None
        else:
            expression = _expression(champ, _chemin(champ))
        if expression is None:
            return None
        expressions.append(expression)
    return expressions


def export_copie(queryset, serializer, complements_sql: dict, nom_fichier: str):
    """A streamed CSV response written by PostgreSQL, or None when COPY does not apply."""
    if connections[queryset.db].vendor != "postgresql":
        return None
    expressions = expressions_csv(serializer, complements_sql)
    if expressions is None:
        return None
    noms = [f"csv_{i}" for i in range(len(expressions))]
    lignes = queryset.annotate(**dict(zip(noms, expressions, strict=True))).values_list(*noms)
    entetes = [nom for nom, _ in colonnes(serializer)]
    return reponse_csv_brute(morceaux_copie(lignes, entetes), nom_fichier)


def morceaux_copie(lignes, entetes: list[str]):
    """The CSV file of a `values_list` queryset of text columns, written by PostgreSQL
    (`COPY (query) TO STDOUT`), in pieces of TAILLE_MORCEAU bytes, after the header."""
    sql, parametres = lignes.query.sql_with_params()
    base = lignes.db
    yield en_tete_csv(entetes)
    with connections[base].cursor() as curseur:
        commande = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
        with curseur.cursor.copy(commande, parametres) as copie:
            tampon = bytearray()
            for bloc in copie:
                tampon += bloc
                if len(tampon) >= TAILLE_MORCEAU:
                    yield bytes(tampon)
                    tampon.clear()
            if tampon:
                yield bytes(tampon)
