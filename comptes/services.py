"""The only writer of perimeters granted through invitations and access requests.

Every grant goes through `_accorder`, which checks the granter's own perimeter and
level at the time of the grant, creates the Habilitation (never over an existing one:
its simple_history records who made it), writes the `JournalHabilitation` entry saying
why and closes the user's other pending requests.
"""

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from territoires import perimetre
from territoires.models import Departement, Habilitation, Territoire

from .audit import journaliser
from .models import (
    DemandeHabilitation,
    Invitation,
    JournalHabilitation,
    empreinte,
)

logger = logging.getLogger(__name__)

DUREE_INVITATION = timedelta(days=7)
RANG_ECHELON = perimetre.RANG_ECHELON
ROLES_INVITABLES = (Habilitation.Role.AGENT, Habilitation.Role.PORTEUR)


@dataclass
class Perimetre:
    """The perimeter an administrator grants."""

    role: str
    echelon: str
    niveau: int = Habilitation.Niveau.LECTEUR
    organisation: str = ""
    regions: list = field(default_factory=list)
    departements: list = field(default_factory=list)
    territoires: list = field(default_factory=list)

    def description(self) -> str:
        lieux = [str(x) for x in (*self.regions, *self.departements, *self.territoires)]
        return (
            f"{Habilitation.Role(self.role).label}, {Habilitation.Echelon(self.echelon).label}, "
            f"{Habilitation.Niveau(self.niveau).label}"
            + (f" : {', '.join(lieux)}" if lieux else "")
        )


def verifier_perimetre(par, p: Perimetre) -> None:
    """Raise a French ValidationError unless `par` may grant `p` (within their own
    perimeter, never above their own level)."""
    if not perimetre.peut_administrer(par):
        raise ValidationError("Seuls les administrateurs peuvent accorder une habilitation.")
    erreurs = []
    if p.role not in ROLES_INVITABLES:
        erreurs.append("On invite un agent ou un porteur de territoire.")
    if p.role == Habilitation.Role.PORTEUR and p.echelon != Habilitation.Echelon.TERRITOIRE:
        erreurs.append("Un porteur est habilité sur des territoires.")
    if p.niveau > perimetre.niveau(par):
        erreurs.append("Vous ne pouvez pas accorder un niveau supérieur au vôtre.")
    attendus = {
        Habilitation.Echelon.NATIONAL: (),
        Habilitation.Echelon.REGION: ("regions",),
        Habilitation.Echelon.DEPARTEMENT: ("departements",),
        Habilitation.Echelon.TERRITOIRE: ("territoires",),
    }[p.echelon]
    for nom in ("regions", "departements", "territoires"):
        if nom in attendus and not getattr(p, nom):
            erreurs.append(f"Choisissez au moins un élément ({nom}) pour cet échelon.")
        if nom not in attendus and getattr(p, nom):
            erreurs.append(f"Cet échelon ne prend pas de {nom}.")

    if not perimetre.est_national(par):
        hab = perimetre.habilitation_de(par)
        if RANG_ECHELON[p.echelon] < RANG_ECHELON[hab.echelon]:
            erreurs.append("Vous ne pouvez pas accorder un échelon plus large que le vôtre.")
        regions = set(perimetre.regions_visibles(par)) if hab.echelon == "region" else set()
        if any(r not in regions for r in p.regions):
            erreurs.append("Une des régions choisies est hors de votre périmètre.")
        if hab.echelon == Habilitation.Echelon.REGION:
            departements = set(Departement.objects.filter(region__in=regions))
        else:
            departements = set(hab.departements.all())
        if any(d not in departements for d in p.departements):
            erreurs.append("Un des départements choisis est hors de votre périmètre.")
        visibles = set(
            Territoire.objects.visibles_par(par).filter(pk__in=[t.pk for t in p.territoires])
        )
        if any(t not in visibles for t in p.territoires):
            erreurs.append("Un des territoires choisis est hors de votre périmètre.")
    if erreurs:
        raise ValidationError(erreurs)


MESSAGE_DEJA_HABILITE = (
    "Ce compte a déjà une habilitation ({habilitation}) : une demande ou une invitation ne "
    "la remplace jamais. Modifiez-la dans le back-office (« Habilitations ») si besoin."
)


def _accorder(user, p: Perimetre, par, action, email, *, demande=None) -> Habilitation:
    """Create `user`'s habilitation: never over an existing one, never beyond what `par`
    may grant now (their perimeter may have shrunk since an invitation was sent). The
    user's other pending requests are closed (`demande`, being accepted, apart)."""
    verifier_perimetre(par, p)
    existante = Habilitation.objects.select_for_update().filter(user=user).first()
    if existante is not None:
        raise ValidationError(MESSAGE_DEJA_HABILITE.format(habilitation=existante))
    hab = Habilitation(
        user=user, role=p.role, echelon=p.echelon, niveau=p.niveau, organisation=p.organisation
    )
    hab._history_user = par
    # comptes.signaux closes pending requests of habilitations created elsewhere (the
    # back-office); here the service does it itself, the accepted request apart.
    hab._demandes_closes_par_le_service = True
    hab.full_clean(exclude=["user"])
    hab.save()
    hab.regions.set(p.regions)
    hab.departements.set(p.departements)
    hab.territoires.set(p.territoires)
    if p.role == Habilitation.Role.AGENT and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    JournalHabilitation.objects.create(
        user=user, email=email, action=action, par=par, perimetre=p.description()
    )
    demandes_clore(user=user, par=par, sauf=demande)
    return hab


# ---------------------------------------------------------------------------
# Invitations


def lien_invitation(jeton: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("comptes:invitation", args=[jeton])


@transaction.atomic
def inviter(par, email: str, p: Perimetre) -> tuple[Invitation, str]:
    """Create an invitation and e-mail its link; return it with the clear token (the
    database keeps only its hash)."""
    email = email.strip()
    verifier_perimetre(par, p)
    if get_user_model().objects.filter(email__iexact=email).exists():
        raise ValidationError("Un compte existe déjà pour cette adresse.")
    jeton = secrets.token_urlsafe(32)
    maintenant = timezone.now()
    invitation = Invitation.objects.create(
        email=email,
        role=p.role,
        echelon=p.echelon,
        niveau=p.niveau,
        organisation=p.organisation,
        jeton_empreinte=empreinte(jeton),
        invitee_par=par,
        cree_le=maintenant,
        expire_le=maintenant + DUREE_INVITATION,
    )
    invitation.regions.set(p.regions)
    invitation.departements.set(p.departements)
    invitation.territoires.set(p.territoires)
    JournalHabilitation.objects.create(
        email=email,
        action=JournalHabilitation.Action.INVITATION_ENVOYEE,
        par=par,
        perimetre=p.description(),
    )
    journaliser(
        "habilitation",
        user=par,
        objet=invitation,
        action="invitation_envoyee",
        email=email,
        perimetre=p.description(),
    )
    lien = lien_invitation(jeton)
    transaction.on_commit(
        lambda: send_mail(
            "Invitation au portail Territoires d'industrie",
            f"Bonjour,\n\n{par.get_full_name() or par.username} vous invite à rejoindre le "
            f"portail Territoires d'industrie ({p.description()}).\n\n"
            f"Pour créer votre compte, suivez ce lien (valable 7 jours, une seule fois) :\n"
            f"{lien}\n",
            None,
            [email],
        )
    )
    return invitation, jeton


def invitation_par_jeton(jeton: str) -> Invitation | None:
    return Invitation.objects.filter(jeton_empreinte=empreinte(jeton)).first()


def verifier_invitation(invitation: Invitation | None) -> Invitation:
    if invitation is None:
        raise ValidationError("Ce lien d'invitation n'est pas valide.")
    if invitation.acceptee_le is not None:
        raise ValidationError("Cette invitation a déjà été utilisée.")
    if invitation.expire_le <= timezone.now():
        raise ValidationError("Cette invitation a expiré : demandez-en une nouvelle.")
    return invitation


@transaction.atomic
def accepter_invitation(invitation, *, email_identite=None, mot_de_passe=None):
    """Create the invited account with exactly the invited perimeter, once.

    Either through ProConnect (`email_identite`: the identity's e-mail must be the
    invited one) or with a password checked by Django's validators."""
    invitation = verifier_invitation(
        Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
    )
    User = get_user_model()
    if email_identite is not None:
        if email_identite.strip().lower() != invitation.email.lower():
            raise ValidationError(
                "L'adresse de votre identité ProConnect n'est pas celle de l'invitation."
            )
    elif not mot_de_passe:
        raise ValidationError("Choisissez un mot de passe.")
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError("Un compte existe déjà pour cette adresse : connectez-vous.")
    user = User(username=invitation.email.lower()[:150], email=invitation.email)
    if mot_de_passe is not None:
        password_validation.validate_password(mot_de_passe, user)
        user.set_password(mot_de_passe)
    else:
        user.set_unusable_password()
    user.save()
    p = Perimetre(
        role=invitation.role,
        echelon=invitation.echelon,
        niveau=invitation.niveau,
        organisation=invitation.organisation,
        regions=list(invitation.regions.all()),
        departements=list(invitation.departements.all()),
        territoires=list(invitation.territoires.all()),
    )
    try:
        # The inviter's rights are checked again now: they may have lost them since.
        verifier_perimetre(invitation.invitee_par, p)
    except ValidationError as exc:
        raise ValidationError(
            "Cette invitation n'est plus valable : la personne qui l'a envoyée ne peut plus "
            "accorder ce périmètre. Demandez une nouvelle invitation."
        ) from exc
    _accorder(
        user,
        p,
        invitation.invitee_par,
        JournalHabilitation.Action.INVITATION_ACCEPTEE,
        invitation.email,
    )
    invitation.acceptee_le = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["acceptee_le", "user"])
    journaliser(
        "habilitation",
        user=user,
        objet=invitation,
        action="invitation_acceptee",
        invitee_par=invitation.invitee_par.get_username(),
        moyen="proconnect" if email_identite is not None else "mot_de_passe",
    )
    return user


# ---------------------------------------------------------------------------
# Access requests


def demandes_visibles(par):
    """The requests `par` may read (DemandeHabilitation.objects.visibles_par)."""
    return DemandeHabilitation.objects.visibles_par(par).select_related("user", "decidee_par")


def _verrouiller_demande(demande) -> DemandeHabilitation:
    demande = DemandeHabilitation.objects.select_for_update().get(pk=demande.pk)
    if demande.statut != DemandeHabilitation.Statut.EN_ATTENTE:
        raise ValidationError("Cette demande a déjà été traitée.")
    return demande


@transaction.atomic
def demandes_clore(*, user, par=None, sauf=None) -> int:
    """Close `user`'s pending access requests (but `sauf`): a habilitation was granted
    elsewhere (invitation, back-office, another request). Returns how many."""
    demandes = DemandeHabilitation.objects.select_for_update().filter(
        user=user, statut=DemandeHabilitation.Statut.EN_ATTENTE
    )
    if sauf is not None:
        demandes = demandes.exclude(pk=sauf.pk)
    nombre = 0
    for demande in demandes:
        demande.statut = DemandeHabilitation.Statut.CLOSE
        demande.decidee_par = par if par is not None and par.pk else None
        demande.decidee_le = timezone.now()
        demande.full_clean()
        demande.save(update_fields=["statut", "decidee_par", "decidee_le"])
        JournalHabilitation.objects.create(
            user=user,
            email=demande.email,
            action=JournalHabilitation.Action.DEMANDE_CLOSE,
            par=demande.decidee_par,
        )
        journaliser(
            "habilitation",
            user=demande.decidee_par,
            objet=demande,
            action="demande_close",
            compte=user.get_username(),
        )
        nombre += 1
    return nombre


def accorder_demande(demande, par, p: Perimetre) -> Habilitation:
    """Grant `p` to the requester: within `par`'s perimeter and level, and never over a
    habilitation the account already has (then the request is closed and refused with
    a French message: a stale request never overwrites a grant)."""
    verifier_perimetre(par, p)
    with transaction.atomic():
        demande = _verrouiller_demande(demande)
        existante = Habilitation.objects.filter(user=demande.user).first()
        if existante is not None:
            demandes_clore(user=demande.user, par=par)
        else:
            hab = _accorder_demande(demande, par, p)
    if existante is not None:
        raise ValidationError(MESSAGE_DEJA_HABILITE.format(habilitation=existante))
    return hab


def _accorder_demande(demande, par, p: Perimetre) -> Habilitation:
    hab = _accorder(
        demande.user,
        p,
        par,
        JournalHabilitation.Action.DEMANDE_ACCEPTEE,
        demande.email,
        demande=demande,
    )
    demande.statut = DemandeHabilitation.Statut.ACCEPTEE
    demande.decidee_par, demande.decidee_le = par, timezone.now()
    demande.save(update_fields=["statut", "decidee_par", "decidee_le"])
    journaliser(
        "habilitation",
        user=par,
        objet=demande,
        action="demande_acceptee",
        compte=demande.user.get_username(),
        perimetre=p.description(),
    )
    return hab


@transaction.atomic
def refuser_demande(demande, par) -> None:
    if not perimetre.peut_administrer(par):
        raise ValidationError("Seuls les administrateurs peuvent traiter une demande.")
    demande = _verrouiller_demande(demande)
    demande.statut = DemandeHabilitation.Statut.REFUSEE
    demande.decidee_par, demande.decidee_le = par, timezone.now()
    demande.save(update_fields=["statut", "decidee_par", "decidee_le"])
    JournalHabilitation.objects.create(
        user=demande.user,
        email=demande.email,
        action=JournalHabilitation.Action.DEMANDE_REFUSEE,
        par=par,
    )
    journaliser(
        "habilitation",
        user=par,
        objet=demande,
        action="demande_refusee",
        compte=demande.user.get_username(),
    )
