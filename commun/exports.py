"""Exports of a filtered admin changelist: one writer for the direct and the deferred paths.

- `exporter`: the HTTP response of the back-office export view (CSV streamed row by row,
  XLSX in write-only mode into a temporary file);
- `ecrire`: the same file written into a binary file object, for the exports prepared
  in the background (gestion.exports).

Files are for people and French spreadsheet software: CSV with « ; », decimal commas,
dates « 15/01/2026 », « Oui »/« Non », UTF-8 with BOM; XLSX with real numbers and dates
(formats « 1 234,50 € », « 15/01/2026 »), column widths and a frozen header. Codes become
labels where a column says so (the API's CSV stays machine-friendly: api/exports.py).

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
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .tableur import cellule_xlsx, neutraliser

LICENCE = "Licence Ouverte 2.0 (Etalab)"
TYPES_MIME = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class _Tampon:
    def write(self, valeur):
        return valeur


# A column: (header, lookup for `values_list`) or (header, lookup, kind). `kind` is a
# dict {code: label} (the label is written; put the code in a column of its own where
# machines need it) or EUROS (an amount: « 1 234,50 € » format in XLSX).
EUROS = "euros"
FORMAT_EUROS = '#,##0.00 "€"'
FORMAT_NOMBRE = "#,##0.00"
FORMAT_DATE = "DD/MM/YYYY"
FORMAT_DATE_HEURE = "DD/MM/YYYY HH:MM"
LARGEUR_MAX = 60


def _nature(colonne):
    return colonne[2] if len(colonne) > 2 else None


def _valeur(valeur, nature):
    """The value of a cell once its labels are applied (a code becomes its label)."""
    if isinstance(nature, dict) and valeur is not None:
        return str(nature.get(valeur, valeur))
    return valeur


def _texte(valeur):
    """A CSV cell for French spreadsheet software: decimal comma, « 15/01/2026 »,
    « Oui »/« Non »; no thousands separator (the cell stays a number)."""
    if valeur is None:
        return ""
    if isinstance(valeur, bool):
        return "Oui" if valeur else "Non"
    if isinstance(valeur, datetime):
        return timezone.localtime(valeur).strftime("%d/%m/%Y %H:%M")
    if isinstance(valeur, date):
        return valeur.strftime("%d/%m/%Y")
    if isinstance(valeur, Decimal):
        return f"{valeur:f}".replace(".", ",")
    if isinstance(valeur, float):
        return repr(valeur).replace(".", ",")
    if isinstance(valeur, str):
        return neutraliser(valeur)
    return str(valeur)


def nom_de_fichier(nom: str, format_: str, le: datetime | None = None) -> str:
    """« dossiers-20260115-0930.csv »: the export's name and local time."""
    horodatage = timezone.localtime(le).strftime("%Y%m%d-%H%M")
    return f"{nom}-{horodatage}.{format_}"


def _lignes(queryset, colonnes):
    """(headers, kinds, rows read in chunks)."""
    entetes = [colonne[0] for colonne in colonnes]
    chemins = [colonne[1] for colonne in colonnes]
    natures = [_nature(colonne) for colonne in colonnes]
    return entetes, natures, queryset.values_list(*chemins).iterator(chunk_size=2000)


def _flux_csv(entetes, natures, lignes):
    """The CSV text, one line at a time (« ; » separator, BOM for spreadsheet software)."""
    ecrivain = csv.writer(_Tampon(), delimiter=";")
    yield "\ufeff" + ecrivain.writerow([neutraliser(entete) for entete in entetes])
    for ligne in lignes:
        yield ecrivain.writerow(
            [_texte(_valeur(v, n)) for v, n in zip(ligne, natures, strict=True)]
        )


def _cellule_xlsx(feuille, valeur, nature):
    """A typed XLSX cell: numbers and dates stay numbers and dates, with a format."""
    valeur = _valeur(valeur, nature)
    if isinstance(valeur, bool):
        return "Oui" if valeur else "Non"
    if isinstance(valeur, datetime):
        cellule = WriteOnlyCell(feuille, timezone.localtime(valeur).replace(tzinfo=None))
        cellule.number_format = FORMAT_DATE_HEURE
        return cellule
    if isinstance(valeur, date):
        cellule = WriteOnlyCell(feuille, valeur)
        cellule.number_format = FORMAT_DATE
        return cellule
    if isinstance(valeur, Decimal):
        cellule = WriteOnlyCell(feuille, valeur)
        cellule.number_format = FORMAT_EUROS if nature == EUROS else FORMAT_NOMBRE
        return cellule
    return cellule_xlsx(feuille, valeur)


def _largeur(entete: str, nature) -> int:
    if nature == EUROS:
        return max(len(entete), 16)
    if isinstance(nature, dict):
        return min(max([len(entete), *(len(str(v)) for v in nature.values())]) + 2, LARGEUR_MAX)
    return min(max(len(entete) + 4, 12), LARGEUR_MAX)


def _ecrire_xlsx(entetes, natures, lignes, nom: str, fichier) -> None:
    classeur = Workbook(write_only=True)
    feuille = classeur.create_sheet(nom[:31])
    feuille.freeze_panes = "A2"
    for rang, (entete, nature) in enumerate(zip(entetes, natures, strict=True), start=1):
        feuille.column_dimensions[get_column_letter(rang)].width = _largeur(entete, nature)
    gras = Font(bold=True)
    titres = []
    for entete in entetes:
        cellule = cellule_xlsx(feuille, entete)
        cellule.font = gras
        titres.append(cellule)
    feuille.append(titres)
    for ligne in lignes:
        feuille.append([_cellule_xlsx(feuille, v, n) for v, n in zip(ligne, natures, strict=True)])
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


def ecrire(queryset, colonnes: list[tuple], nom: str, format_: str, fichier) -> int:
    """Write the export into the binary file object `fichier`; return the number of rows."""
    entetes, natures, lignes = _lignes(queryset, colonnes)
    compteur = _Compteur(lignes)
    if format_ == "xlsx":
        _ecrire_xlsx(entetes, natures, compteur, nom, fichier)
    else:
        for morceau in _flux_csv(entetes, natures, compteur):
            fichier.write(morceau.encode("utf-8"))
    return compteur.nombre


def exporter(queryset, colonnes: list[tuple], nom: str, format_: str):
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
    entetes, natures, lignes = _lignes(queryset, colonnes)
    reponse = StreamingHttpResponse(
        _flux_csv(entetes, natures, lignes), content_type=TYPES_MIME["csv"]
    )
    reponse["Content-Disposition"] = f'attachment; filename="{nom_de_fichier(nom, "csv")}"'
    return reponse
