"""Partner token issue and revocation: the only writers of `JetonPartenaire`."""

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from comptes.audit import journaliser
from territoires.models import Habilitation
from territoires.perimetre import est_national, habilitation_de, peut_administrer

from .models import PREFIXE_LONGUEUR, JetonPartenaire, empreinte_secret

ROLES_TITULAIRES = (Habilitation.Role.PARTENAIRE, Habilitation.Role.AGENT)


def _verifier_equipe_nationale(user) -> None:
    if not (est_national(user) and peut_administrer(user)):
        raise PermissionDenied("Seuls les administrateurs nationaux gèrent les jetons d'API.")


def jeton_emettre(*, par, jeton: JetonPartenaire) -> str:
    """Save the unsaved `jeton` with a fresh secret; return the secret (shown once)."""
    _verifier_equipe_nationale(par)
    if jeton.pk is not None:
        raise ValidationError("Ce jeton est déjà émis.")
    habilitation = habilitation_de(jeton.user) if jeton.user_id else None
    if not (jeton.user_id and jeton.user.is_superuser) and (
        habilitation is None or habilitation.role not in ROLES_TITULAIRES
    ):
        raise ValidationError(
            {"user": "Le titulaire doit être un compte partenaire ou agent habilité."}
        )
    secret = secrets.token_urlsafe(32)
    jeton.prefixe = secret[:PREFIXE_LONGUEUR]
    jeton.empreinte = empreinte_secret(secret)
    jeton.cree_par = par
    with transaction.atomic():
        jeton.full_clean()
        jeton.save()
        journaliser(
            "jeton",
            user=par,
            objet=jeton,
            action="emission",
            titulaire=jeton.user.get_username() if jeton.user_id else "",
            niveau=jeton.niveau,
            prefixe=jeton.prefixe,
        )
    return secret


def jeton_revoquer(*, par, jeton: JetonPartenaire) -> JetonPartenaire:
    """Revoke for good (idempotent); the row stays for the record."""
    _verifier_equipe_nationale(par)
    with transaction.atomic():
        jeton = JetonPartenaire.objects.select_for_update().get(pk=jeton.pk)
        if jeton.revoque_le is None:
            jeton.revoque_le = timezone.now()
            jeton.revoque_par = par
            jeton.save(update_fields=["revoque_le", "revoque_par"])
            journaliser(
                "jeton",
                user=par,
                objet=jeton,
                action="revocation",
                titulaire=jeton.user.get_username() if jeton.user_id else "",
                prefixe=jeton.prefixe,
            )
    return jeton
