"""Issue 3: attachments are checked by content, size and state, and stored under a random name."""

import io
import zipfile

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from demo.donnees import PDF_MINIMAL
from projets import services
from projets.models import PieceJointe


def _zip(fichiers: dict) -> bytes:
    tampon = io.BytesIO()
    with zipfile.ZipFile(tampon, "w") as archive:
        for nom, contenu in fichiers.items():
            archive.writestr(nom, contenu)
    return tampon.getvalue()


ACCEPTES = {
    "devis.pdf": (PDF_MINIMAL, "application/pdf"),
    "plan.png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "image/png"),
    "photo.jpg": (b"\xff\xd8\xff\xe0" + b"\x00" * 32, "image/jpeg"),
    "budget.xlsx": (
        _zip({"[Content_Types].xml": "<x/>", "xl/workbook.xml": "<x/>"}),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "note.docx": (
        _zip({"[Content_Types].xml": "<x/>", "word/document.xml": "<x/>"}),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "deliberation.odt": (
        _zip({"mimetype": "application/vnd.oasis.opendocument.text"}),
        "application/vnd.oasis.opendocument.text",
    ),
    "tableau.ods": (
        _zip({"mimetype": "application/vnd.oasis.opendocument.spreadsheet"}),
        "application/vnd.oasis.opendocument.spreadsheet",
    ),
}


@pytest.mark.parametrize("nom", list(ACCEPTES))
def test_formats_acceptes(projet_adn, personas, nom):
    contenu, mime = ACCEPTES[nom]
    piece = services.piece_jointe_ajouter(
        projet=projet_adn,
        user=personas["porteur-adn"],
        fichier=SimpleUploadedFile(nom, contenu),
        type="autre",
    )
    assert piece.type_mime == mime
    assert piece.nom_original == nom
    assert nom not in piece.fichier.name and piece.fichier.name.startswith("pieces-jointes/")
    with piece.fichier.open("rb") as stocke:
        assert stocke.read() == contenu


@pytest.mark.parametrize(
    ("nom", "contenu", "message"),
    [
        ("faux.pdf", b"MZ\x90\x00 executable renamed", "Format de fichier non accepté"),
        ("script.pdf", b"<script>alert(1)</script>", "Format de fichier non accepté"),
        ("archive.docx", _zip({"autre.txt": "x"}), "Format de fichier non accepté"),
        ("vide.pdf", b"", "Le fichier est vide"),
    ],
)
def test_fichiers_refuses(projet_adn, personas, nom, contenu, message):
    avant = PieceJointe.objects.count()
    with pytest.raises(ValidationError, match=message):
        services.piece_jointe_ajouter(
            projet=projet_adn,
            user=personas["porteur-adn"],
            fichier=SimpleUploadedFile(nom, contenu),
            type="devis",
        )
    assert PieceJointe.objects.count() == avant


def test_fichier_trop_gros(projet_adn, personas, settings):
    settings.PIECE_JOINTE_TAILLE_MAX = 1024
    avant = PieceJointe.objects.count()
    with pytest.raises(ValidationError, match="taille maximale"):
        services.piece_jointe_ajouter(
            projet=projet_adn,
            user=personas["porteur-adn"],
            fichier=SimpleUploadedFile("gros.pdf", PDF_MINIMAL + b"0" * 2048),
            type="devis",
        )
    assert PieceJointe.objects.count() == avant


def test_ajout_refuse_hors_perimetre_ou_apres_depot(projet_adn, personas):
    fichier = SimpleUploadedFile("devis.pdf", PDF_MINIMAL)
    for persona in ("porteur-ales", "partenaire-bpi", "prefecture-07"):
        with pytest.raises(PermissionDenied):
            services.piece_jointe_ajouter(
                projet=projet_adn, user=personas[persona], fichier=fichier, type="devis"
            )
    services.projet_transitionner(
        projet=projet_adn, transition="deposer", user=personas["porteur-adn"]
    )
    with pytest.raises(PermissionDenied, match="plus ajouter"):
        services.piece_jointe_ajouter(
            projet=projet_adn, user=personas["porteur-adn"], fichier=fichier, type="devis"
        )
    assert projet_adn.pieces_jointes.count() == 1
