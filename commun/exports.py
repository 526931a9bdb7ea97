"""Exports of a filtered admin changelist: one writer for the direct and the deferred paths.

- `exporter`: the HTTP response of the back-office export view (CSV streamed row by row,
  XLSX in write-only mode into a temporary file);
- `ecrire`: the same file written into a binary file object, for the exports prepared
  in the background (gestion.exports).

Every text cell goes through `commun.tableur` (formula injection): CSV text is
neutralised, XLSX text is written as text; numbers and dates keep their type.
"""

import csv
import tempfile
from datetime import date, datetime
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook

from .tableur import cellule_xlsx, neutraliser

LICENCE = "Licence Ouverte 2.0 (Etalab)"
TYPES_MIME = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class _Tampon:
    def write(self, valeur):
        return valeur


def _texte(valeur):
    if valeur is None:
        return ""
    if isinstance(valeur, datetime):
        return timezone.localtime(valeur).isoformat(timespec="seconds")
    if isinstance(valeur, (date, Decimal)):
        return str(valeur)
    if isinstance(valeur, bool):
        return "oui" if valeur else "non"
    if isinstance(valeur, str):
        return neutraliser(valeur)
    return str(valeur)


def nom_de_fichier(nom: str, format_: str, le: datetime | None = None) -> str:
    """« dossiers-20260115-0930.csv »: the export's name and local time."""
    horodatage = timezone.localtime(le).strftime("%Y%m%d-%H%M")
    return f"{nom}-{horodatage}.{format_}"


def _lignes(queryset, colonnes):
    """(headers, rows read in chunks). `colonnes`: (header, lookup path for `values_list`)."""
    entetes = [entete for entete, _ in colonnes]
    chemins = [chemin for _, chemin in colonnes]
    return entetes, queryset.values_list(*chemins).iterator(chunk_size=2000)


def _flux_csv(entetes, lignes):
    """The CSV text, one line at a time (« ; » separator, BOM for spreadsheet software)."""
    ecrivain = csv.writer(_Tampon(), delimiter=";")
    yield "\ufeff" + ecrivain.writerow([neutraliser(entete) for entete in entetes])
    for ligne in lignes:
        yield ecrivain.writerow([_texte(v) for v in ligne])


def _ecrire_xlsx(entetes, lignes, nom: str, fichier) -> None:
    classeur = Workbook(write_only=True)
    feuille = classeur.create_sheet(nom[:31])
    feuille.append([cellule_xlsx(feuille, entete) for entete in entetes])
    for ligne in lignes:
        feuille.append(
            [cellule_xlsx(feuille, _texte(v) if isinstance(v, datetime) else v) for v in ligne]
        )
    classeur.save(fichier)


class _Compteur:
    """Counts the rows an iterator yields."""

    def __init__(self, lignes):
        self.lignes = lignes
        self.nombre = 0

    def __iter__(self):
        for ligne in self.lignes:
            self.nombre += 1
            yield ligne


def ecrire(queryset, colonnes: list[tuple[str, str]], nom: str, format_: str, fichier) -> int:
    """Write the export into the binary file object `fichier`; return the number of rows."""
    entetes, lignes = _lignes(queryset, colonnes)
    compteur = _Compteur(lignes)
    if format_ == "xlsx":
        _ecrire_xlsx(entetes, compteur, nom, fichier)
    else:
        for morceau in _flux_csv(entetes, compteur):
            fichier.write(morceau.encode("utf-8"))
    return compteur.nombre


def exporter(queryset, colonnes: list[tuple[str, str]], nom: str, format_: str):
    """The export as an HTTP attachment: CSV streamed, XLSX built in a temporary file."""
    if format_ == "xlsx":
        fichier = tempfile.TemporaryFile()  # noqa: SIM115 - closed by FileResponse
        ecrire(queryset, colonnes, nom, format_, fichier)
        fichier.seek(0)
        return FileResponse(
            fichier,
            as_attachment=True,
            filename=nom_de_fichier(nom, "xlsx"),
            content_type=TYPES_MIME["xlsx"],
        )
    entetes, lignes = _lignes(queryset, colonnes)
    reponse = StreamingHttpResponse(_flux_csv(entetes, lignes), content_type=TYPES_MIME["csv"])
    reponse["Content-Disposition"] = f'attachment; filename="{nom_de_fichier(nom, "csv")}"'
    return reponse
