"""Issue 15, item 2: decompression bombs in office documents (attachments, XLSX import).

The bombs are built here: a member of zeros inflating to hundreds of megabytes, an
archive of 10,000 members, headers that lie about sizes or counts. Each must be refused
with a French message, nothing stored, and memory must stay bounded while refusing
(tracemalloc peak), whatever the time it takes.
"""

import io
import os
import struct
import tracemalloc
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from commun.archives import MIO, ArchiveRefusee, Limites, archive_bornee
from projets import services
from projets.importation import COLONNES, importer_dossiers
from projets.models import PieceJointe, Projet

MEMOIRE_MAX = 4 * MIO
GEANT = 400 * MIO  # what the bomb inflates to
ODT = "application/vnd.oasis.opendocument.text"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _zip(membres: dict) -> bytes:
    """name → bytes, or an int: that many zero bytes, streamed in 1 MiB blocks."""
    tampon = io.BytesIO()
    with zipfile.ZipFile(tampon, "w", zipfile.ZIP_DEFLATED) as archive:
        for nom, contenu in membres.items():
            if isinstance(contenu, int):
                with archive.open(nom, "w") as membre:
                    bloc = bytes(MIO)
                    for _ in range(contenu // MIO):
                        membre.write(bloc)
            else:
                archive.writestr(nom, contenu)
    return tampon.getvalue()


def _odf(**membres) -> dict:
    return {"mimetype": ODT, "META-INF/manifest.xml": "<manifest/>", **membres}


def _ooxml_xlsx(**membres) -> dict:
    return {"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>", **membres}


def _mentir_sur_la_taille(contenu: bytes, nom: str, taille: int) -> bytes:
    """Declare `taille` as the uncompressed size of member `nom` (local and central
    headers): the member inflates far beyond what it says."""
    donnees = bytearray(contenu)
    with zipfile.ZipFile(io.BytesIO(contenu)) as archive:
        debut = archive.getinfo(nom).header_offset
    struct.pack_into("<L", donnees, debut + 22, taille)
    position = donnees.find(b"PK\x01\x02")
    while position >= 0:
        longueur = struct.unpack_from("<H", donnees, position + 28)[0]
        if donnees[position + 46 : position + 46 + longueur] == nom.encode():
            struct.pack_into("<L", donnees, position + 24, taille)
        position = donnees.find(b"PK\x01\x02", position + 4)
    return bytes(donnees)


def _mentir_sur_le_nombre(contenu: bytes, nombre: int) -> bytes:
    """Declare `nombre` members in the end-of-central-directory record."""
    donnees = bytearray(contenu)
    fin = donnees.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", donnees, fin + 8, nombre, nombre)
    return bytes(donnees)


@pytest.fixture(scope="module")
def bombes():
    """Built once: each inflates to GEANT bytes or holds 10,000 members."""
    zeros_odt = _zip(_odf(**{"content.xml": GEANT}))
    zeros_mimetype = _zip({"mimetype": GEANT})
    zeros_xlsx = _zip(_ooxml_xlsx(**{"xl/worksheets/sheet1.xml": GEANT}))
    nombreux = {f"Pictures/{i:05d}.xml": b"" for i in range(10_000)}
    dix_mille_odt = _zip(_odf(**nombreux))
    dix_mille_xlsx = _zip(_ooxml_xlsx(**nombreux))
    return {
        "odt-geant": zeros_odt,
        "odt-menteur": _mentir_sur_la_taille(zeros_odt, "content.xml", 1000),
        "odt-mimetype-geant": zeros_mimetype,
        "odt-mimetype-menteur": _mentir_sur_la_taille(zeros_mimetype, "mimetype", 40),
        "odt-dix-mille": dix_mille_odt,
        "odt-dix-mille-menteur": _mentir_sur_le_nombre(dix_mille_odt, 5),
        "xlsx-geant": zeros_xlsx,
        "xlsx-menteur": _mentir_sur_la_taille(zeros_xlsx, "xl/worksheets/sheet1.xml", 1000),
        "xlsx-dix-mille": dix_mille_xlsx,
        "xlsx-dix-mille-menteur": _mentir_sur_le_nombre(dix_mille_xlsx, 5),
    }


def test_les_bombes_sont_de_vraies_bombes(bombes):
    for nom, contenu in bombes.items():
        assert len(contenu) < 2 * MIO, nom  # far below the 20 MB upload limit
    with zipfile.ZipFile(io.BytesIO(bombes["odt-geant"])) as archive:
        assert archive.getinfo("content.xml").file_size == GEANT
    with zipfile.ZipFile(io.BytesIO(bombes["odt-menteur"])) as archive:
        info = archive.getinfo("content.xml")
        assert info.file_size == 1000 and info.compress_size > 100_000
    with zipfile.ZipFile(io.BytesIO(bombes["xlsx-dix-mille"])) as archive:
        assert len(archive.infolist()) == 10_002


def _memoire_de(action):
    """(result or exception, peak of traced memory while `action` runs)."""
    tracemalloc.start()
    try:
        try:
            resultat = action()
        except Exception as erreur:  # noqa: BLE001 - returned to the test
            resultat = erreur
        return resultat, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# Attachments (projets.fichiers through projets.services).

BOMBES_PIECES = {
    "odt-geant": "anormalement volumineux",
    "odt-mimetype-geant": "anormalement volumineux",
    "odt-dix-mille": "trop d'éléments",
    "odt-dix-mille-menteur": "trop d'éléments",
    "xlsx-geant": "anormalement volumineux",
    "xlsx-dix-mille": "trop d'éléments",
}


@pytest.mark.parametrize("bombe", BOMBES_PIECES)
def test_piece_jointe_bombe_refusee_memoire_bornee(projet_adn, personas, bombes, bombe):
    avant = PieceJointe.objects.count()
    fichier = SimpleUploadedFile(f"{bombe}.odt", bombes[bombe])
    resultat, pic = _memoire_de(
        lambda: services.piece_jointe_ajouter(
            projet=projet_adn, user=personas["porteur-adn"], fichier=fichier, type="autre"
        )
    )
    assert isinstance(resultat, ValidationError), resultat
    assert BOMBES_PIECES[bombe] in resultat.messages[0]
    assert "il n'a pas été accepté" in resultat.messages[0]
    assert pic < MEMOIRE_MAX, pic
    assert PieceJointe.objects.count() == avant


@pytest.mark.parametrize(
    "bombe",
    [
        # content.xml says 1,000 bytes and inflates to 400 MB: cut at 1,000, CRC fails.
        "odt-menteur",
        # mimetype says 40 bytes and inflates to 400 MB: 64 bytes are read at most.
        "odt-mimetype-menteur",
    ],
)
def test_piece_jointe_taille_mensongere_refusee_memoire_bornee(projet_adn, personas, bombes, bombe):
    fichier = SimpleUploadedFile(f"{bombe}.odt", bombes[bombe])
    resultat, pic = _memoire_de(
        lambda: services.piece_jointe_ajouter(
            projet=projet_adn, user=personas["porteur-adn"], fichier=fichier, type="autre"
        )
    )
    assert isinstance(resultat, ValidationError), resultat
    assert resultat.messages == ["Le document est illisible : son archive (ZIP) est corrompue."]
    assert pic < MEMOIRE_MAX, pic
    assert not PieceJointe.objects.filter(nom_original=f"{bombe}.odt").exists()


def _xml(taille: int) -> str:
    """Realistic text (compresses ~5 to 1, not 1,000 to 1)."""
    morceaux, total = [], 0
    while total < taille:
        morceaux.append(f"<text:p>{os.urandom(24).hex()} atelier {len(morceaux)}</text:p>")
        total += len(morceaux[-1])
    return "<office:document-content>" + "".join(morceaux) + "</office:document-content>"


def _xlsx_reel(lignes) -> bytes:
    classeur = Workbook()
    feuille = classeur.active
    for ligne in lignes:
        feuille.append(ligne)
    tampon = io.BytesIO()
    classeur.save(tampon)
    return tampon.getvalue()


@pytest.mark.parametrize(
    ("nom", "contenu", "mime"),
    [
        ("deliberation.odt", _zip(_odf(**{"content.xml": _xml(3 * MIO)})), ODT),
        (
            "note.docx",
            _zip(
                {
                    "[Content_Types].xml": "<Types/>",
                    "word/document.xml": _xml(2 * MIO),
                    "word/styles.xml": _xml(50_000),
                }
            ),
            DOCX,
        ),
        ("budget.xlsx", _xlsx_reel([["poste", "montant"], ["machine", 120000]] * 200), XLSX),
    ],
)
def test_document_normal_accepte(projet_adn, personas, nom, contenu, mime):
    piece = services.piece_jointe_ajouter(
        projet=projet_adn,
        user=personas["porteur-adn"],
        fichier=SimpleUploadedFile(nom, contenu),
        type="autre",
    )
    assert piece.type_mime == mime
    with piece.fichier.open("rb") as stocke:
        assert stocke.read() == contenu


# Back-office import of dossiers (projets.importation, openpyxl).

BOMBES_IMPORT = {
    "xlsx-geant": "anormalement volumineux",
    "xlsx-menteur": "illisible",
    "xlsx-dix-mille": "trop d'éléments",
    "xlsx-dix-mille-menteur": "trop d'éléments",
}


@pytest.mark.parametrize("bombe", BOMBES_IMPORT)
def test_import_xlsx_bombe_refusee_memoire_bornee(personas, bombes, bombe):
    fichier = SimpleUploadedFile("dossiers.xlsx", bombes[bombe])
    rapport, pic = _memoire_de(
        lambda: importer_dossiers(fichier=fichier, user=personas["region-ara"], simulation=False)
    )
    assert not isinstance(rapport, Exception), rapport
    ((ligne, message),) = rapport.erreurs
    assert ligne == 0 and BOMBES_IMPORT[bombe] in message
    assert not rapport.enregistre and rapport.lignes == 0
    assert pic < MEMOIRE_MAX, pic
    assert not Projet.objects.exists()


def test_import_xlsx_bombe_par_le_back_office(client, personas, bombes):
    client.force_login(personas["region-ara"])
    reponse = client.post(
        "/admin/projets/projet/importer/",
        {"fichier": SimpleUploadedFile("dossiers.xlsx", bombes["xlsx-geant"]), "simulation": ""},
    )
    assert reponse.status_code == 200
    assert "anormalement volumineux une fois décompressé" in reponse.text
    assert "<td>fichier</td>" in reponse.text  # the whole file, not a row
    assert "10 Mo au plus" in reponse.text
    assert "rien n&#x27;a été enregistré" in reponse.text or "rien n'a été" in reponse.text
    assert not Projet.objects.exists()


def test_import_fichier_trop_volumineux(personas, settings):
    fichier = SimpleUploadedFile("dossiers.csv", b"territoire;phase;titre\n" + b"x" * (11 * MIO))
    rapport = importer_dossiers(fichier=fichier, user=personas["region-ara"], simulation=True)
    ((ligne, message),) = rapport.erreurs
    assert ligne == 0 and "trop volumineux" in message and "10 Mo" in message


def test_import_xlsx_normal(personas, monde):
    entetes = ["territoire", "phase", "titre", "commune", "montant_investissement"]
    assert set(entetes) <= set(COLONNES)
    lignes = [entetes] + [
        ["ardeche-drome-nord", "2023-2027", f"Projet importé {i}", "07010", 1000 + i]
        for i in range(50)
    ]
    fichier = SimpleUploadedFile("dossiers.xlsx", _xlsx_reel(lignes))
    rapport = importer_dossiers(fichier=fichier, user=personas["region-ara"], simulation=False)
    assert rapport.erreurs == [] and rapport.enregistre and rapport.crees == 50
    assert Projet.objects.count() == 50


# The helper itself (commun.archives), with small bounds.


def _ouvrir(contenu: bytes, **limites):
    with archive_bornee(io.BytesIO(contenu), Limites(**limites)) as archive:
        return archive.verifier_contenu()


def test_archive_membre_trop_gros_meme_peu_compresse():
    contenu = _zip({"a.bin": os.urandom(2 * MIO)})
    with pytest.raises(ArchiveRefusee) as refus:
        _ouvrir(contenu, taille_membre=MIO)
    assert refus.value.code == "archive_taille"
    assert _ouvrir(contenu, taille_membre=3 * MIO) == 2 * MIO


def test_archive_total_trop_gros():
    contenu = _zip({f"{i}.bin": os.urandom(MIO // 2) for i in range(4)})
    with pytest.raises(ArchiveRefusee) as refus:
        _ouvrir(contenu, taille_totale=MIO)
    assert refus.value.code == "archive_taille"


def test_archive_taux_de_compression():
    contenu = _zip({"zeros.xml": 8 * MIO})
    with pytest.raises(ArchiveRefusee) as refus:
        _ouvrir(contenu)
    assert refus.value.code == "archive_ratio"
    assert "bombe de décompression" in refus.value.message
    assert _ouvrir(contenu, ratio=10_000) == 8 * MIO


def test_archive_lecture_reelle_bornee_meme_si_l_en_tete_ment():
    """Declared 1,000 bytes, inflates to 8 MB: zipfile stops at 1,000 and the CRC fails."""
    contenu = _mentir_sur_la_taille(_zip({"zeros.xml": 8 * MIO}), "zeros.xml", 1000)
    resultat, pic = _memoire_de(lambda: _ouvrir(contenu))
    assert isinstance(resultat, ArchiveRefusee) and resultat.code == "archive_illisible"
    assert pic < MIO


def test_archive_lire_debut_ne_lit_que_le_debut():
    contenu = _zip({"mimetype": 8 * MIO})
    with archive_bornee(io.BytesIO(contenu), Limites(ratio=10_000)) as archive:
        debut, pic = _memoire_de(lambda: archive.lire_debut("mimetype", 64))
    assert debut == bytes(64) and pic < MIO


@pytest.mark.parametrize("contenu", [b"PK\x03\x04 pas une archive", b"", b"PK\x05\x06"])
def test_archive_illisible(contenu):
    with pytest.raises(ArchiveRefusee) as refus:
        _ouvrir(contenu)
    assert refus.value.code == "archive_illisible"
