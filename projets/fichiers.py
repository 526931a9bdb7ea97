"""Content checks for uploaded attachments: the bytes decide, not the file name."""

import logging
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError

from . import antivirus

logger = logging.getLogger(__name__)

FORMATS_ACCEPTES = "PDF, ODT, ODS, DOCX, XLSX, PNG ou JPEG"

_OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_ODF = {
    b"application/vnd.oasis.opendocument.text",
    b"application/vnd.oasis.opendocument.spreadsheet",
}


def _type_zip(fichier) -> str | None:
    fichier.seek(0)
    try:
        with zipfile.ZipFile(fichier) as archive:
            noms = archive.namelist()
            if "mimetype" in noms:
                mimetype = archive.read("mimetype").strip()
                if mimetype in _ODF:
                    return mimetype.decode()
                return None
            if "[Content_Types].xml" in noms:
                for prefixe, mime in _OOXML.items():
                    if any(nom.startswith(prefixe) for nom in noms):
                        return mime
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    return None


def detecter_type(fichier) -> str | None:
    """MIME type recognised from the content, or None when not accepted."""
    fichier.seek(0)
    entete = fichier.read(16)
    fichier.seek(0)
    if entete.startswith(b"%PDF-"):
        return "application/pdf"
    if entete.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if entete.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if entete.startswith(b"PK\x03\x04"):
        return _type_zip(fichier)
    return None


def verifier_piece_jointe(fichier) -> str:
    """Check size and content; return the detected MIME type or raise ValidationError."""
    taille = fichier.size
    if not taille:
        raise ValidationError("Le fichier est vide.", code="fichier_vide")
    if taille > settings.PIECE_JOINTE_TAILLE_MAX:
        maximum = settings.PIECE_JOINTE_TAILLE_MAX // (1024 * 1024)
        raise ValidationError(
            f"Le fichier dépasse la taille maximale de {maximum} Mo.", code="fichier_trop_gros"
        )
    type_mime = detecter_type(fichier)
    if type_mime is None:
        raise ValidationError(
            f"Format de fichier non accepté : le contenu doit être un {FORMATS_ACCEPTES}.",
            code="fichier_format",
        )
    verifier_antivirus(fichier)
    return type_mime


def verifier_antivirus(fichier) -> None:
    """Scan with clamd when CLAMD_ADRESSE is set; fail closed when it cannot answer."""
    if not settings.CLAMD_ADRESSE:
        return
    nom = fichier.name or "fichier"
    try:
        logiciel = antivirus.analyser(fichier)
    except antivirus.AntivirusIndisponible as erreur:
        logger.error("Analyse antivirus impossible pour « %s » : %s", nom, erreur)
        raise ValidationError(
            "La vérification antivirus est momentanément indisponible : le fichier "
            "n'a pas été enregistré. Veuillez réessayer plus tard.",
            code="antivirus_indisponible",
        ) from erreur
    if logiciel:
        logger.warning("Logiciel malveillant refusé : « %s » (%s)", nom, logiciel)
        raise ValidationError(
            f"Le fichier « {nom} » contient un logiciel malveillant ({logiciel}) : "
            "il n'a pas été enregistré.",
            code="fichier_malveillant",
        )
