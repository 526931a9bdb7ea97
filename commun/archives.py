"""Bounded reading of ZIP archives (ODF and OOXML office documents are ZIP files).

A « decompression bomb » is a small archive that inflates to a huge size (a member of
zeros compressed 1,000 times, thousands of members, or a header that lies about the
size). `archive_bornee` checks, before any member is inflated:

1. the end-of-central-directory record, read from the file's tail: member count and
   size of the central directory (so that `zipfile` never parses an enormous one);
2. each member's declared uncompressed size, their total and their compression ratio;

then gives only bounded reads: `lire_debut` inflates at most the bytes asked for, and
`verifier_contenu` streams every member in 64 kB blocks, counting the bytes actually
produced (a member inflating beyond its declared size is cut there by `zipfile` and then
fails its CRC: refused as well). Nothing here reads a whole member into memory.

Refusals raise `ArchiveRefusee` with a French message meant for the person who sent
the file.
"""

import struct
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass

MIO = 1024 * 1024
TAILLE_BLOC = 64 * 1024
# Small members compress extremely well (a few bytes of XML, an empty sheet): their
# ratio is only checked above this size (the total is always bounded).
SEUIL_RATIO = MIO

_FIN = struct.Struct("<4s4H2LH")  # end of central directory record (22 bytes)
_LOCALISATEUR_64 = struct.Struct("<4sLQL")  # ZIP64 end of central directory locator
_FIN_64 = struct.Struct("<4sQ2H2L4Q")  # ZIP64 end of central directory record
_COMMENTAIRE_MAX = 65535


class ArchiveRefusee(Exception):
    """The archive exceeds a bound or cannot be read; `message` is in French."""

    def __init__(self, message: str, code: str = "archive_refusee"):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Limites:
    membres: int = 1000
    taille_membre: int = 100 * MIO
    taille_totale: int = 200 * MIO
    ratio: int = 100
    # Central directory bytes: ~256 bytes a member is generous for office documents.
    repertoire: int = 256 * 1024


def _en_mio(octets: int) -> str:
    return f"{octets / MIO:.0f} Mo" if octets >= MIO else f"{octets} octets"


def _illisible() -> ArchiveRefusee:
    return ArchiveRefusee(
        "Le document est illisible : son archive (ZIP) est corrompue.", "archive_illisible"
    )


def _trop_de_membres(limites: Limites) -> ArchiveRefusee:
    return ArchiveRefusee(
        f"Le document contient trop d'éléments (au plus {limites.membres}) : "
        "il n'a pas été accepté.",
        "archive_membres",
    )


def _trop_gros(limites: Limites) -> ArchiveRefusee:
    return ArchiveRefusee(
        "Le document est anormalement volumineux une fois décompressé (au plus "
        f"{_en_mio(limites.taille_membre)} par élément et {_en_mio(limites.taille_totale)} "
        "au total) : il n'a pas été accepté.",
        "archive_taille",
    )


def _trop_compresse(limites: Limites) -> ArchiveRefusee:
    return ArchiveRefusee(
        "Le document est anormalement compressé (taux supérieur à "
        f"{limites.ratio} pour 1), signe d'une « bombe de décompression » : "
        "il n'a pas été accepté.",
        "archive_ratio",
    )


def _repertoire(fichier) -> tuple[int, int]:
    """(member count, central directory size) read from the end of the file."""
    fichier.seek(0, 2)
    taille = fichier.tell()
    lu = min(taille, _FIN.size + _COMMENTAIRE_MAX)
    fichier.seek(taille - lu)
    queue = fichier.read(lu)
    position = queue.rfind(b"PK\x05\x06")
    if position < 0 or len(queue) - position < _FIN.size:
        raise _illisible()
    champs = _FIN.unpack_from(queue, position)
    membres, taille_repertoire, debut = champs[4], champs[5], champs[6]
    if membres == 0xFFFF or taille_repertoire == 0xFFFFFFFF or debut == 0xFFFFFFFF:
        # ZIP64: the true figures are in the ZIP64 record the locator points to.
        if position < _LOCALISATEUR_64.size:
            raise _illisible()
        signature, _, position_64, _ = _LOCALISATEUR_64.unpack_from(
            queue, position - _LOCALISATEUR_64.size
        )
        if signature != b"PK\x06\x07" or position_64 > taille - _FIN_64.size:
            raise _illisible()
        fichier.seek(position_64)
        enregistrement = fichier.read(_FIN_64.size)
        if len(enregistrement) < _FIN_64.size or enregistrement[:4] != b"PK\x06\x06":
            raise _illisible()
        champs_64 = _FIN_64.unpack(enregistrement)
        membres, taille_repertoire = champs_64[7], champs_64[8]
    return membres, taille_repertoire


class ArchiveBornee:
    """A ZIP archive whose declared sizes were checked; only bounded reads."""

    def __init__(self, archive: zipfile.ZipFile, limites: Limites):
        self._archive = archive
        self.limites = limites
        self.membres = archive.infolist()

    @property
    def noms(self) -> list[str]:
        return [membre.filename for membre in self.membres]

    def lire_debut(self, nom: str, taille: int) -> bytes:
        """At most `taille` bytes of member `nom`, inflating no more than needed."""
        try:
            with self._archive.open(nom) as membre:
                return membre.read(taille)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as erreur:
            raise _illisible() from erreur

    def verifier_contenu(self) -> int:
        """Inflate every member block by block, bounded; return the bytes produced."""
        total = 0
        for info in self.membres:
            lu = 0
            try:
                with self._archive.open(info) as membre:
                    while bloc := membre.read(TAILLE_BLOC):
                        lu += len(bloc)
                        total += len(bloc)
                        if lu > min(info.file_size, self.limites.taille_membre):
                            raise _trop_gros(self.limites)
                        if total > self.limites.taille_totale:
                            raise _trop_gros(self.limites)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as erreur:
                # A member longer than declared is cut by zipfile, then fails its CRC.
                raise _illisible() from erreur
        return total


def _verifier_declarations(membres: list[zipfile.ZipInfo], limites: Limites) -> None:
    if len(membres) > limites.membres:
        raise _trop_de_membres(limites)
    total = compresse = 0
    for info in membres:
        if info.file_size > limites.taille_membre:
            raise _trop_gros(limites)
        if info.file_size > SEUIL_RATIO and (
            info.compress_size == 0 or info.file_size > limites.ratio * info.compress_size
        ):
            raise _trop_compresse(limites)
        total += info.file_size
        compresse += info.compress_size
    if total > limites.taille_totale:
        raise _trop_gros(limites)
    if total > SEUIL_RATIO and total > limites.ratio * max(compresse, 1):
        raise _trop_compresse(limites)


@contextmanager
def archive_bornee(fichier, limites: Limites | None = None):
    """Open the ZIP file object `fichier` once its bounds are checked (ArchiveRefusee
    otherwise); yields an `ArchiveBornee`. The file is rewound on exit."""
    limites = limites or Limites()
    try:
        membres, taille_repertoire = _repertoire(fichier)
        if membres > limites.membres:
            raise _trop_de_membres(limites)
        if taille_repertoire > limites.repertoire:
            raise _trop_de_membres(limites)
        fichier.seek(0)
        try:
            archive = zipfile.ZipFile(fichier)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as erreur:
            raise _illisible() from erreur
        with archive:
            _verifier_declarations(archive.infolist(), limites)
            yield ArchiveBornee(archive, limites)
    finally:
        fichier.seek(0)
