"""Issue 9: optional clamd scan of uploads (INSTREAM), failing closed when clamd cannot answer."""

import contextlib
import logging
import socket
import struct
import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from demo.donnees import PDF_MINIMAL
from projets import services
from projets.models import PieceJointe

EICAR = "Win.Test.EICAR_HDB-1"


class FauxClamd:
    """A local TCP server speaking just enough of clamd's INSTREAM protocol."""

    def __init__(self, mode: str):
        self.mode = mode  # "ok", "found", "hang" or "close"
        self.recu: list[bytes] = []
        self.libere = threading.Event()
        self.serveur = socket.create_server(("127.0.0.1", 0))
        self.adresse = f"tcp://127.0.0.1:{self.serveur.getsockname()[1]}"
        self.fil = threading.Thread(target=self._servir, daemon=True)
        self.fil.start()

    def _lire(self, connexion, n: int) -> bytes:
        donnees = b""
        while len(donnees) < n:
            morceau = connexion.recv(n - len(donnees))
            if not morceau:
                raise ConnectionError
            donnees += morceau
        return donnees

    def _servir(self):
        while True:
            try:
                connexion, _ = self.serveur.accept()
            except OSError:
                return
            with connexion:
                try:
                    commande = self._lire(connexion, len(b"zINSTREAM\0"))
                    if self.mode == "close":
                        continue
                    contenu = b""
                    while taille := struct.unpack("!L", self._lire(connexion, 4))[0]:
                        contenu += self._lire(connexion, taille)
                    self.recu.append(commande + contenu)
                    if self.mode == "hang":
                        self.libere.wait(10)
                    elif self.mode == "found":
                        connexion.sendall(f"stream: {EICAR} FOUND\0".encode())
                    else:
                        connexion.sendall(b"stream: OK\0")
                except (ConnectionError, OSError):
                    pass

    def fermer(self):
        self.libere.set()
        with contextlib.suppress(OSError):
            self.serveur.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.serveur.close()
        self.fil.join(5)


@pytest.fixture
def clamd(settings):
    serveurs = []

    def demarrer(mode: str) -> FauxClamd:
        serveur = FauxClamd(mode)
        serveurs.append(serveur)
        settings.CLAMD_ADRESSE = serveur.adresse
        settings.CLAMD_DELAI = 0.5
        return serveur

    yield demarrer
    for serveur in serveurs:
        serveur.fermer()


def _ajouter(projet, user, nom="devis.pdf"):
    return services.piece_jointe_ajouter(
        projet=projet, user=user, fichier=SimpleUploadedFile(nom, PDF_MINIMAL), type="devis"
    )


def _fichiers(dossier):
    return set(dossier.rglob("*")) if dossier.exists() else set()


def test_fichier_sain_enregistre(projet_adn, personas, clamd):
    serveur = clamd("ok")
    avant = PieceJointe.objects.count()
    piece = _ajouter(projet_adn, personas["porteur-adn"])
    assert PieceJointe.objects.count() == avant + 1
    # The whole content went through INSTREAM, and the stored file is intact.
    assert serveur.recu == [b"zINSTREAM\0" + PDF_MINIMAL]
    with piece.fichier.open("rb") as stocke:
        assert stocke.read() == PDF_MINIMAL


def test_gros_fichier_envoye_en_plusieurs_blocs(projet_adn, personas, clamd):
    serveur = clamd("ok")
    contenu = PDF_MINIMAL + b"0" * (200 * 1024)
    services.piece_jointe_ajouter(
        projet=projet_adn,
        user=personas["porteur-adn"],
        fichier=SimpleUploadedFile("gros.pdf", contenu),
        type="devis",
    )
    assert serveur.recu == [b"zINSTREAM\0" + contenu]


def test_virus_refuse(projet_adn, personas, clamd, caplog, settings):
    clamd("found")
    avant = PieceJointe.objects.count()
    fichiers_avant = _fichiers(settings.MEDIA_ROOT)
    with (
        caplog.at_level(logging.WARNING, logger="projets.fichiers"),
        pytest.raises(ValidationError) as erreur,
    ):
        _ajouter(projet_adn, personas["porteur-adn"], nom="facture.pdf")
    assert erreur.value.messages == [
        f"Le fichier « facture.pdf » contient un logiciel malveillant ({EICAR}) : "
        "il n'a pas été enregistré."
    ]
    assert PieceJointe.objects.count() == avant
    assert _fichiers(settings.MEDIA_ROOT) == fichiers_avant
    assert any(r.levelno == logging.WARNING and EICAR in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("mode", ["hang", "close", "absent"])
def test_antivirus_indisponible_refuse(projet_adn, personas, clamd, caplog, settings, mode):
    clamd("ok" if mode == "absent" else mode)
    if mode == "absent":
        libre = socket.socket()
        libre.bind(("127.0.0.1", 0))  # bound but never listening: connection refused
        settings.CLAMD_ADRESSE = f"tcp://127.0.0.1:{libre.getsockname()[1]}"
    avant = PieceJointe.objects.count()
    with (
        caplog.at_level(logging.ERROR, logger="projets.fichiers"),
        pytest.raises(ValidationError, match="antivirus est momentanément indisponible"),
    ):
        _ajouter(projet_adn, personas["porteur-adn"])
    assert PieceJointe.objects.count() == avant
    assert any(r.levelno == logging.ERROR for r in caplog.records)
    if mode == "absent":
        libre.close()


def test_adresse_unix_injoignable(projet_adn, personas, settings, tmp_path):
    settings.CLAMD_ADRESSE = f"unix://{tmp_path}/absent.ctl"
    with pytest.raises(ValidationError, match="réessayer plus tard"):
        _ajouter(projet_adn, personas["porteur-adn"])


def test_sans_adresse_aucune_analyse(projet_adn, personas, settings, monkeypatch):
    settings.CLAMD_ADRESSE = ""

    def interdit(*args, **kwargs):
        raise AssertionError("clamd ne doit pas être appelé")

    monkeypatch.setattr("projets.antivirus.analyser", interdit)
    assert _ajouter(projet_adn, personas["porteur-adn"]).pk


# --- Through the portal's upload form ---------------------------------------------------


@pytest.fixture
def porteur(client, personas):
    client.force_login(personas["porteur-adn"])
    return client


@pytest.fixture
def brouillon(monde, personas):
    return services.projet_creer(
        user=personas["porteur-adn"], territoire=monde["adn"], phase=monde["phase"], titre="Ligne"
    )


def _deposer(client, projet, nom="devis.pdf"):
    return client.post(
        reverse("dossier_section", args=[projet.reference, "pieces"]),
        {"type": "devis", "fichier": SimpleUploadedFile(nom, PDF_MINIMAL)},
    )


def test_portail_fichier_sain(porteur, brouillon, clamd):
    clamd("ok")
    reponse = _deposer(porteur, brouillon)
    assert reponse.status_code == 302
    assert brouillon.pieces_jointes.count() == 1


def test_portail_virus(porteur, brouillon, clamd):
    clamd("found")
    reponse = _deposer(porteur, brouillon, nom="facture.pdf")
    assert reponse.status_code == 200
    erreurs = reponse.context["form"].errors["fichier"]
    assert erreurs == [
        f"Le fichier « facture.pdf » contient un logiciel malveillant ({EICAR}) : "
        "il n'a pas été enregistré."
    ]
    assert "logiciel malveillant" in reponse.content.decode()
    assert not PieceJointe.objects.exists()


def test_portail_antivirus_indisponible(porteur, brouillon, clamd):
    clamd("hang")
    reponse = _deposer(porteur, brouillon)
    assert reponse.status_code == 200
    assert "réessayer plus tard" in " ".join(reponse.context["form"].errors["fichier"])
    assert not PieceJointe.objects.exists()
