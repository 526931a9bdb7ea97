"""Exports of a filtered admin changelist: CSV streamed row by row, XLSX in write-only mode."""

import csv
import tempfile
from datetime import date, datetime
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook

LICENCE = "Licence Ouverte 2.0 (Etalab)"


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
    return str(valeur)


def exporter(queryset, colonnes: list[tuple[str, str]], nom: str, format_: str):
    """`colonnes`: (header, lookup path for `values_list`). Rows are read in chunks."""
    entetes = [entete for entete, _ in colonnes]
    chemins = [chemin for _, chemin in colonnes]
    lignes = queryset.values_list(*chemins).iterator(chunk_size=2000)
    horodatage = timezone.localtime().strftime("%Y%m%d-%H%M")
    if format_ == "xlsx":
        classeur = Workbook(write_only=True)
        feuille = classeur.create_sheet(nom[:31])
        feuille.append(entetes)
        for ligne in lignes:
            feuille.append([_texte(v) if isinstance(v, datetime) else v for v in ligne])
        fichier = tempfile.TemporaryFile()  # noqa: SIM115 - closed by FileResponse
        classeur.save(fichier)
        fichier.seek(0)
        return FileResponse(
            fichier,
            as_attachment=True,
            filename=f"{nom}-{horodatage}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    ecrivain = csv.writer(_Tampon(), delimiter=";")

    def flux():
        yield "\ufeff" + ecrivain.writerow(entetes)
        for ligne in lignes:
            yield ecrivain.writerow([_texte(v) for v in ligne])

    reponse = StreamingHttpResponse(flux(), content_type="text/csv; charset=utf-8")
    reponse["Content-Disposition"] = f'attachment; filename="{nom}-{horodatage}.csv"'
    return reponse
