"""Accounts: ProConnect identities, access requests, invitations and the grant log."""

import hashlib

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from territoires.models import Departement, Habilitation, Region, Territoire


def empreinte(jeton: str) -> str:
    """Invitation tokens are stored hashed: a database leak gives no usable link."""
    return hashlib.sha256(jeton.encode()).hexdigest()


class ProfilProConnect(models.Model):
    """The claims ProConnect gave at the user's last sign-in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profil_proconnect",
        verbose_name="utilisateur",
    )
    sub = models.CharField("identifiant ProConnect (sub)", max_length=255, unique=True)
    uid = models.CharField("identifiant chez le fournisseur (uid)", max_length=255, blank=True)
    idp_id = models.CharField("fournisseur d'identité", max_length=255, blank=True)
    siret = models.CharField("SIRET de l'organisation", max_length=14, blank=True)
    given_name = models.CharField("prénoms", max_length=255, blank=True)
    usual_name = models.CharField("nom d'usage", max_length=255, blank=True)
    acr = models.CharField("niveau d'authentification (acr)", max_length=50, blank=True)
    derniere_connexion = models.DateTimeField("dernière connexion ProConnect", null=True)

    class Meta:
        verbose_name = "profil ProConnect"
        verbose_name_plural = "profils ProConnect"

    def __str__(self):
        return f"{self.user} ({self.sub})"


class DemandeHabilitation(models.Model):
    """An unknown ProConnect identity asking for a perimeter."""

    class Statut(models.TextChoices):
        EN_ATTENTE = "en_attente", "En attente"
        ACCEPTEE = "acceptee", "Acceptée"
        REFUSEE = "refusee", "Refusée"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="demandes_habilitation",
        verbose_name="utilisateur",
    )
    email = models.EmailField("courriel")
    nom = models.CharField("nom", max_length=255, blank=True)
    siret = models.CharField("SIRET", max_length=14, blank=True)
    organisation = models.CharField(
        "organisation (fournisseur d'identité)", max_length=255, blank=True
    )
    cree_le = models.DateTimeField("demandée le", default=timezone.now)
    statut = models.CharField(
        "statut", max_length=12, choices=Statut.choices, default=Statut.EN_ATTENTE
    )
    decidee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="décidée par",
    )
    decidee_le = models.DateTimeField("décidée le", null=True, blank=True)

    class Meta:
        verbose_name = "demande d'habilitation"
        verbose_name_plural = "demandes d'habilitation"
        ordering = ["-cree_le"]

    def __str__(self):
        return f"{self.email} — {self.get_statut_display()}"


class Invitation(models.Model):
    """A single-use link inviting an agent or a lead, with the perimeter to grant."""

    email = models.EmailField("courriel")
    role = models.CharField("rôle", max_length=12, choices=Habilitation.Role.choices)
    echelon = models.CharField("échelon", max_length=12, choices=Habilitation.Echelon.choices)
    niveau = models.PositiveSmallIntegerField(
        "niveau", choices=Habilitation.Niveau.choices, default=Habilitation.Niveau.LECTEUR
    )
    organisation = models.CharField("organisation", max_length=200, blank=True)
    regions = models.ManyToManyField(Region, blank=True, verbose_name="régions")
    departements = models.ManyToManyField(Departement, blank=True, verbose_name="départements")
    territoires = models.ManyToManyField(Territoire, blank=True, verbose_name="territoires")
    jeton_empreinte = models.CharField("empreinte du jeton", max_length=64, unique=True)
    invitee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="invitations_envoyees",
        verbose_name="invitée par",
    )
    cree_le = models.DateTimeField("envoyée le", default=timezone.now)
    expire_le = models.DateTimeField("expire le")
    acceptee_le = models.DateTimeField("acceptée le", null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitation",
        verbose_name="compte créé",
    )

    class Meta:
        verbose_name = "invitation"
        verbose_name_plural = "invitations"
        ordering = ["-cree_le"]

    def __str__(self):
        return f"{self.email} ({self.get_role_display()})"

    @property
    def est_utilisable(self) -> bool:
        return self.acceptee_le is None and self.expire_le > timezone.now()


class JournalHabilitation(models.Model):
    """Who granted or refused which perimeter, and how (the Habilitation's own history
    records every field change; this log says why)."""

    class Action(models.TextChoices):
        INVITATION_ENVOYEE = "invitation_envoyee", "Invitation envoyée"
        INVITATION_ACCEPTEE = "invitation_acceptee", "Habilitation accordée par invitation"
        DEMANDE_ACCEPTEE = "demande_acceptee", "Habilitation accordée sur demande"
        DEMANDE_REFUSEE = "demande_refusee", "Demande refusée"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="journal_habilitation",
        verbose_name="utilisateur concerné",
    )
    email = models.EmailField("courriel")
    action = models.CharField("action", max_length=24, choices=Action.choices)
    par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="par",
    )
    le = models.DateTimeField("le", default=timezone.now)
    perimetre = models.TextField("périmètre", blank=True)

    class Meta:
        verbose_name = "entrée du journal des habilitations"
        verbose_name_plural = "journal des habilitations"
        ordering = ["-le"]

    def __str__(self):
        return f"{self.le:%d/%m/%Y} {self.get_action_display()} — {self.email}"


class EvenementAuditQuerySet(models.QuerySet):
    """The audit trail is append-only: no bulk update or delete through the ORM."""

    def update(self, **kwargs):
        raise PermissionError("Le journal d'audit ne se modifie pas.")

    def delete(self):
        raise PermissionError("Le journal d'audit ne se supprime pas.")


class EvenementAudit(models.Model):
    """One security-relevant event: sign-ins, lockouts, second factor, exports, changes
    of rights and API tokens. Written only by `comptes.audit.journaliser`; never changed
    nor deleted."""

    class Type(models.TextChoices):
        CONNEXION = "connexion", "Connexion"
        ECHEC_CONNEXION = "echec_connexion", "Échec de connexion"
        DECONNEXION = "deconnexion", "Déconnexion"
        VERROUILLAGE = "verrouillage", "Verrouillage du compte"
        DOUBLE_AUTHENTIFICATION = "double_authentification", "Double authentification"
        EXPORT = "export", "Export de données"
        HABILITATION = "habilitation", "Habilitation"
        PERMISSIONS = "permissions", "Droits d'un compte"
        JETON = "jeton", "Jeton d'API"

    horodatage = models.DateTimeField("horodatage", default=timezone.now, db_index=True)
    type = models.CharField("type", max_length=24, choices=Type.choices, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="utilisateur",
    )
    identifiant = models.CharField("identifiant saisi", max_length=150, blank=True)
    adresse_ip = models.GenericIPAddressField("adresse IP", null=True, blank=True)
    user_agent = models.CharField("navigateur (user agent)", max_length=255, blank=True)
    details = models.JSONField("détails", default=dict, blank=True, encoder=DjangoJSONEncoder)
    objet = models.CharField("objet concerné", max_length=255, blank=True)

    objects = EvenementAuditQuerySet.as_manager()

    class Meta:
        verbose_name = "événement du journal d'audit"
        verbose_name_plural = "journal d'audit"
        ordering = ["-horodatage", "-pk"]

    def __str__(self):
        return f"{self.horodatage:%d/%m/%Y %H:%M} {self.get_type_display()} — {self.identifiant}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Le journal d'audit ne se modifie pas.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Le journal d'audit ne se supprime pas.")
