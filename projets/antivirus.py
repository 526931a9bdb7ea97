"""Optional antivirus scan of uploads through clamd's INSTREAM command (stdlib only).

Enabled when settings.CLAMD_ADRESSE is set: "tcp://host:3310" or "unix:///path/clamd.ctl".
"""

import socket
import struct
from urllib.parse import urlsplit

from django.conf import settings

TAILLE_BLOC = 64 * 1024


class AntivirusIndisponible(Exception):
    """clamd could not be reached or did not answer in time."""


def _connecter(adresse: str, delai: float) -> socket.socket:
    morceaux = urlsplit(adresse)
    if morceaux.scheme == "unix":
        connexion = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connexion.settimeout(delai)
        connexion.connect(morceaux.path)
        return connexion
    if morceaux.scheme == "tcp" and morceaux.hostname:
        return socket.create_connection((morceaux.hostname, morceaux.port or 3310), delai)
    raise AntivirusIndisponible(f"Adresse clamd invalide : {adresse!r}")


def analyser(fichier) -> str | None:
    """Stream the file to clamd; return the malware name, or None when clean.

    Raises AntivirusIndisponible when clamd is unreachable, too slow or answers oddly.
    """
    adresse = settings.CLAMD_ADRESSE
    try:
        with _connecter(adresse, settings.CLAMD_DELAI) as connexion:
            connexion.sendall(b"zINSTREAM\0")
            fichier.seek(0)
            while bloc := fichier.read(TAILLE_BLOC):
                connexion.sendall(struct.pack("!L", len(bloc)) + bloc)
            connexion.sendall(struct.pack("!L", 0))
            reponse = b""
            while not reponse.endswith(b"\0"):
                recu = connexion.recv(4096)
                if not recu:
                    break
                reponse += recu
    except OSError as erreur:  # includes timeouts and refused connections
        raise AntivirusIndisponible(f"clamd injoignable ({adresse}) : {erreur}") from erreur
    finally:
        fichier.seek(0)
    texte = reponse.rstrip(b"\0").decode("utf-8", "replace").strip()
    if texte.endswith(" OK"):
        return None
    if texte.endswith(" FOUND"):
        return texte.removeprefix("stream:").removesuffix(" FOUND").strip() or "inconnu"
    raise AntivirusIndisponible(f"Réponse inattendue de clamd ({adresse}) : {texte!r}")
