"""CSV exports, streamed row by row from a database iterator (constant memory).

Each export states its licence and generation date in response headers rather than in
a comment line, which would break CSV parsers:
- `X-Licence: Licence Ouverte / Open Licence 2.0`
- `Link: <https://www.etalab.gouv.fr/licence-ouverte-open-licence/>; rel="license"`
- `X-Genere-Le: <ISO 8601 timestamp>`

Text cells are neutralised against formula injection (`commun.tableur`): every column
but the typed ones (numbers, dates, booleans, identifiers, see `a_neutraliser`), with
the same rule as the files PostgreSQL writes (api.copie).
"""

import csv
import io
from collections.abc import Iterable, Iterator
from operator import itemgetter

from django.http import StreamingHttpResponse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer

from commun.tableur import neutraliser

from .rapide import par_lots

LICENCE = "Licence Ouverte / Open Licence 2.0"
URL_LICENCE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
TAILLE_LOT = 2000


def _texte(valeur) -> str:
    if valeur is None:
        return ""
    if type(valeur) is str:
        return valeur
    if isinstance(valeur, bool):
        return "true" if valeur else "false"
    if isinstance(valeur, list | tuple):
        return ";".join(_texte(v) for v in valeur)
    if isinstance(valeur, dict):
        return "/".join(_texte(v) for v in valeur.values())
    return str(valeur)


# Fields whose text is a number, a date, a boolean or an identifier: never neutralised,
# so that numbers stay numbers. Any other field (text, choices, lists, computed) is.
CHAMPS_TYPES = (
    serializers.BooleanField,
    serializers.DateField,
    serializers.DateTimeField,
    serializers.DecimalField,
    serializers.DurationField,
    serializers.FloatField,
    serializers.IntegerField,
    serializers.TimeField,
    serializers.UUIDField,
)


def a_neutraliser(champ) -> bool:
    """Whether the CSV column of `champ` is text to neutralise (formula injection)."""
    return not isinstance(champ, CHAMPS_TYPES)


def colonnes(serializer) -> list[tuple[str, tuple[str, ...]]]:
    """(column name, path) pairs; nested objects become `parent_child` columns."""
    resultat = []
    for nom, champ in serializer.fields.items():
        if isinstance(champ, serializers.BaseSerializer) and not isinstance(
            champ, serializers.ListSerializer
        ):
            for sous_nom, _ in champ.fields.items():
                resultat.append((f"{nom}_{sous_nom}", (nom, sous_nom)))
        else:
            resultat.append((nom, (nom,)))
    return resultat


def _ecrivain(tampon):
    # "\n" ends lines, as in the files PostgreSQL writes (api/copie.py).
    return csv.writer(tampon, lineterminator="\n")


def en_tete_csv(entetes: list[str]) -> str:
    tampon = io.StringIO()
    _ecrivain(tampon).writerow([neutraliser(entete) for entete in entetes])
    return tampon.getvalue()


def lignes_csv(entetes: list[str], lignes: Iterable[list]) -> Iterator[str]:
    """CSV text in pieces of TAILLE_LOT rows (a piece per row would cost a write each).
    Values are written as they are (None as an empty field): the caller neutralises
    text (`commun.tableur.neutraliser`)."""
    tampon = io.StringIO()
    ecrivain = _ecrivain(tampon)
    ecrivain.writerow([neutraliser(entete) for entete in entetes])
    for lot in par_lots(lignes, TAILLE_LOT):
        debut = tampon.tell()
        ecrivain.writerows(lot)
        texte = tampon.getvalue()
        if "\r" in texte[debut:]:
            tampon.seek(debut)
            tampon.truncate()
            tampon.writelines(_ligne_avec_retour_chariot(ligne) for ligne in lot)
            texte = tampon.getvalue()
        yield texte
        tampon.seek(0)
        tampon.truncate()
    if tampon.tell():
        yield tampon.getvalue()


class _Retour:
    def write(self, valeur):
        return valeur


# Python's writer quotes a field holding a carriage return only when the line terminator
# has one; PostgreSQL always does (a lone "\r" would otherwise split the row).
_ECRIVAIN_CRLF = csv.writer(_Retour(), lineterminator="\r\n")


def _ligne_avec_retour_chariot(ligne) -> str:
    if any(isinstance(valeur, str) and "\r" in valeur for valeur in ligne):
        return _ECRIVAIN_CRLF.writerow(ligne)[:-2] + "\n"
    tampon = io.StringIO()
    _ecrivain(tampon).writerow(ligne)
    return tampon.getvalue()


def entetes_licence(reponse, nom_fichier: str):
    maintenant = timezone.now()
    reponse["Content-Disposition"] = (
        f'attachment; filename="{nom_fichier}-{maintenant:%Y-%m-%d}.csv"'
    )
    reponse["X-Licence"] = LICENCE
    reponse["Link"] = f'<{URL_LICENCE}>; rel="license"'
    reponse["X-Genere-Le"] = maintenant.isoformat(timespec="seconds")
    return reponse


def reponse_csv_brute(morceaux: Iterable, nom_fichier: str):
    reponse = StreamingHttpResponse(morceaux, content_type="text/csv; charset=utf-8")
    return entetes_licence(reponse, nom_fichier)


def reponse_csv(entetes: list[str], lignes: Iterable[list], nom_fichier: str):
    return reponse_csv_brute(lignes_csv(entetes, lignes), nom_fichier)


def _lecteur(chemin: tuple[str, ...]):
    if len(chemin) == 1:
        return itemgetter(chemin[0])
    cle, sous_cle = chemin
    return lambda donnees: None if donnees[cle] is None else donnees[cle][sous_cle]


def _a_convertir(champ) -> bool:
    """Columns whose JSON value is not CSV text as it is: booleans, lists, objects."""
    return isinstance(
        champ,
        serializers.BooleanField
        | serializers.ListField
        | serializers.BaseSerializer
        | serializers.SerializerMethodField,
    )


def export_lignes(serializer, lots: Iterable[list[dict]], nom_fichier: str):
    """Stream rows (dicts shaped by `serializer`, see `api.rapide`) as CSV, nested
    objects flattened into `parent_child` columns."""
    cols = colonnes(serializer)
    lecteurs = [_lecteur(chemin) for _, chemin in cols]
    champs = [
        serializer.fields[chemin[0]]
        if len(chemin) == 1
        else serializer.fields[chemin[0]].fields[chemin[1]]
        for _, chemin in cols
    ]
    a_convertir = [i for i, champ in enumerate(champs) if _a_convertir(champ)]
    textes = [i for i, champ in enumerate(champs) if a_neutraliser(champ)]

    def lignes():
        for lot in lots:
            for donnees in lot:
                ligne = [lire(donnees) for lire in lecteurs]
                for i in a_convertir:
                    ligne[i] = _texte(ligne[i])
                for i in textes:
                    ligne[i] = neutraliser(ligne[i])
                yield ligne

    return reponse_csv([nom for nom, _ in cols], lignes(), nom_fichier)


class CSVRenderer(BaseRenderer):
    """Declares `?format=csv`; lists are streamed by the views, this renders the rest
    (a single object) as a one-line CSV."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if isinstance(data, dict):
            data = [data]
        entetes = list(data[0].keys()) if data else []
        lignes = ([neutraliser(_texte(d.get(k))) for k in entetes] for d in data)
        return "".join(lignes_csv(entetes, lignes)).encode()
