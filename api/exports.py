"""CSV exports, streamed row by row from a database iterator (constant memory).

Each export states its licence and generation date in response headers rather than in
a comment line, which would break CSV parsers:
- `X-Licence: Licence Ouverte / Open Licence 2.0`
- `Link: <https://www.etalab.gouv.fr/licence-ouverte-open-licence/>; rel="license"`
- `X-Genere-Le: <ISO 8601 timestamp>`
"""

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer

LICENCE = "Licence Ouverte / Open Licence 2.0"
URL_LICENCE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
TAILLE_LOT = 500


class _Tampon:
    """A file-like object whose write() returns the line instead of storing it."""

    def write(self, valeur):
        return valeur


def _texte(valeur) -> str:
    if valeur is None:
        return ""
    if isinstance(valeur, bool):
        return "true" if valeur else "false"
    if isinstance(valeur, list | tuple):
        return ";".join(_texte(v) for v in valeur)
    return str(valeur)


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


def _valeur(donnees: dict, chemin: tuple[str, ...]):
    for cle in chemin:
        if donnees is None:
            return None
        donnees = donnees.get(cle)
    return donnees


def lignes_csv(entetes: list[str], lignes: Iterable[list]) -> Iterator[str]:
    ecrivain = csv.writer(_Tampon())
    yield ecrivain.writerow(entetes)
    for ligne in lignes:
        yield ecrivain.writerow([_texte(v) for v in ligne])


def entetes_licence(reponse, nom_fichier: str):
    maintenant = timezone.now()
    reponse["Content-Disposition"] = (
        f'attachment; filename="{nom_fichier}-{maintenant:%Y-%m-%d}.csv"'
    )
    reponse["X-Licence"] = LICENCE
    reponse["Link"] = f'<{URL_LICENCE}>; rel="license"'
    reponse["X-Genere-Le"] = maintenant.isoformat(timespec="seconds")
    return reponse


def reponse_csv(entetes: list[str], lignes: Iterable[list], nom_fichier: str):
    reponse = StreamingHttpResponse(
        lignes_csv(entetes, lignes), content_type="text/csv; charset=utf-8"
    )
    return entetes_licence(reponse, nom_fichier)


def export_serializer(queryset, serializer, nom_fichier: str):
    """Stream `queryset` through `serializer` (an instance, `many=False`) as CSV."""
    cols = colonnes(serializer)

    def lignes():
        for objet in queryset.iterator(chunk_size=TAILLE_LOT):
            donnees = serializer.to_representation(objet)
            yield [_valeur(donnees, chemin) for _, chemin in cols]

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
        return "".join(lignes_csv(entetes, ([d.get(k) for k in entetes] for d in data))).encode()
