"""Who is calling and what they may read: one answer per request."""

from dataclasses import dataclass

from comptes.securite import double_authentification_manquante
from territoires.perimetre import est_agent

from .models import JetonPartenaire


@dataclass(frozen=True)
class Acces:
    user: object
    complet: bool
    jeton: JetonPartenaire | None = None


def acces_de(request) -> Acces:
    """Anonymous and open-data tokens read open data; `complet` tokens and officers
    signed in to the back-office read full dossiers within their perimeter (once their
    second factor is verified, when DOUBLE_AUTHENTIFICATION is on)."""
    user = request.user
    jeton = request.auth if isinstance(request.auth, JetonPartenaire) else None
    if jeton is not None:
        return Acces(user=user, complet=jeton.niveau == JetonPartenaire.Niveau.COMPLET, jeton=jeton)
    if (
        user is not None
        and user.is_authenticated
        and est_agent(user)
        and not double_authentification_manquante(user)
    ):
        return Acces(user=user, complet=True)
    return Acces(user=user, complet=False)
