"""Content checks for uploaded attachments: the bytes decide, not the file name.

Office documents are ZIP archives: they are opened through `commun.archives` (member
count, declared sizes and ratio checked first; `mimetype` read on its first 64 bytes;
then every member inflated block by block within LIMITES_DOCUMENTS, never whole), so
that a decompression bomb is refused before anything is stored."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError

from commun.archives import ArchiveRefusee, Limites, archive_bornee

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


# Office documents sent as attachments: generous for real documents (images included),
# far below what would hurt the server or the agent who opens them.
LIMITES_DOCUMENTS = Limites(membres=1000, taille_membre=100 * 1024 * 1024, ratio=100)
# The longest ODF media type, with room for a trailing newline.
_TAILLE_MIMETYPE = 64


def _type_zip(fichier) -> str | None:
    """The office document's type, None when not one; ArchiveRefusee for an archive
    beyond the bounds (a decompression bomb) or corrupt.

    Once recognised, the document is inflated block by block within the bounds: a member
    longer than its header says fails there, so what is stored is what it declares."""
    with archive_bornee(fichier, LIMITES_DOCUMENTS) as archive:
        noms = archive.noms
        type_mime = None
        if "mimetype" in noms:
            mimetype = archive.lire_debut("mimetype", _TAILLE_MIMETYPE).strip()
            type_mime = mimetype.decode() if mimetype in _ODF else None
        elif "[Content_Types].xml" in noms:
            type_mime = next(
                (
                    mime
                    for prefixe, mime in _OOXML.items()
                    if any(n.startswith(prefixe) for n in noms)
                ),
                None,
            )
        if type_mime is not None:
            archive.verifier_contenu()
        return type_mime


def detecter_type(fichier) -> str | None:
    """MIME type recognised from the content, or None when not accepted (ArchiveRefusee
    for an office document beyond the archive bounds)."""
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
    try:
        type_mime = detecter_type(fichier)
    except ArchiveRefusee as refus:
        logger.warning("Archive refusée : « %s » (%s)", fichier.name or "fichier", refus.code)
        raise ValidationError(refus.message, code=refus.code) from refus
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
