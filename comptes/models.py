"""Accounts: ProConnect identities, access requests, invitations, the grant log, the audit
trail and each user's deferred back-office exports."""

import hashlib
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from territoires import perimetre
from territoires.models import Departement, Habilitation, Region, Territoire


def empreinte(jeton: str) -> str:
    """Invitation tokens are stored hashed: a database leak gives no usable link."""
    return hashlib.sha256(jeton.encode()).hexdigest()


def _habilitations_administrables(user):
    """Habilitations lying within `user`'s perimeter (national: all)."""
    return perimetre.dans_le_perimetre(Habilitation.objects.all(), user)


class ProfilProConnectQuerySet(models.QuerySet):
    def visibles_par(self, user):
        """Administrators only: national ones read every profile, others the profiles
        of accounts whose habilitation lies within their perimeter."""
        if not perimetre.peut_administrer(user):
            return self.none()
        if perimetre.est_national(user):
            return self
        return self.filter(user__habilitation__in=_habilitations_administrables(user))


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

    objects = ProfilProConnectQuerySet.as_manager()

    class Meta:
        verbose_name = "profil ProConnect"
        verbose_name_plural = "profils ProConnect"

    def __str__(self):
        return f"{self.user} ({self.sub})"


class DemandeHabilitationQuerySet(models.QuerySet):
    def visibles_par(self, user):
        """Administrators only. National ones read every request. A pending request has
        no région yet (an identity and an organisation): it waits in the one queue every
        administrator may take; once decided, a regional or departmental administrator
        reads only those they decided or whose resulting habilitation lies within
        their perimeter."""
        if not perimetre.peut_administrer(user):
            return self.none()
        if perimetre.est_national(user):
            return self
        return self.filter(
            models.Q(statut=DemandeHabilitation.Statut.EN_ATTENTE)
            | models.Q(decidee_par=user)
            | models.Q(user__habilitation__in=_habilitations_administrables(user))
        )


class DemandeHabilitation(models.Model):
    """An unknown ProConnect identity asking for a perimeter."""

    class Statut(models.TextChoices):
        EN_ATTENTE = "en_attente", "En attente"
        ACCEPTEE = "acceptee", "Acceptée"
        REFUSEE = "refusee", "Refusée"
        CLOSE = "close", "Close (habilitation accordée par ailleurs)"

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

    objects = DemandeHabilitationQuerySet.as_manager()

    class Meta:
        verbose_name = "demande d'habilitation"
        verbose_name_plural = "demandes d'habilitation"
        ordering = ["-cree_le"]

    def __str__(self):
        return f"{self.email} — {self.get_statut_display()}"


class InvitationQuerySet(models.QuerySet):
    def visibles_par(self, user):
        """Administrators only: the invitations whose perimeter lies within theirs
        (national: all)."""
        if not perimetre.peut_administrer(user):
            return self.none()
        return perimetre.dans_le_perimetre(self, user)


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

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = "invitation"
        verbose_name_plural = "invitations"
        ordering = ["-cree_le"]

    def __str__(self):
        return f"{self.email} ({self.get_role_display()})"

    @property
    def est_utilisable(self) -> bool:
        return self.acceptee_le is None and self.expire_le > timezone.now()


class JournalHabilitationQuerySet(models.QuerySet):
    def visibles_par(self, user):
        """Administrators only: national ones read the whole journal; others the entries
        they wrote, and those about accounts or invitations within their perimeter."""
        if not perimetre.peut_administrer(user):
            return self.none()
        if perimetre.est_national(user):
            return self
        return self.filter(
            models.Q(par=user)
            | models.Q(user__habilitation__in=_habilitations_administrables(user))
            | models.Q(
                user__isnull=True,
                email__in=Invitation.objects.visibles_par(user).values("email"),
            )
        )


class JournalHabilitation(models.Model):
    """Who granted or refused which perimeter, and how (the Habilitation's own history
    records every field change; this log says why)."""

    class Action(models.TextChoices):
        INVITATION_ENVOYEE = "invitation_envoyee", "Invitation envoyée"
        INVITATION_ACCEPTEE = "invitation_acceptee", "Habilitation accordée par invitation"
        DEMANDE_ACCEPTEE = "demande_acceptee", "Habilitation accordée sur demande"
        DEMANDE_REFUSEE = "demande_refusee", "Demande refusée"
        DEMANDE_CLOSE = "demande_close", "Demande close (habilitation accordée par ailleurs)"

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

    objects = JournalHabilitationQuerySet.as_manager()

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


class ExportDiffereQuerySet(models.QuerySet):
    def de(self, user):
        """A user's own exports: nobody else's are ever listed nor downloaded."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def telechargeables(self):
        return self.filter(statut=ExportDiffere.Statut.PRET, expire_le__gt=timezone.now())

    def expires(self):
        return self.filter(expire_le__lte=timezone.now())


class ExportDiffere(models.Model):
    """A back-office export too large to build in the request: prepared by a background
    task (gestion.exports), kept for a week, downloaded by its owner only.

    Written only by the `export_differe_*` functions of gestion.services (the table stays here)."""

    class Statut(models.TextChoices):
        EN_ATTENTE = "en_attente", "En attente"
        EN_COURS = "en_cours", "En préparation"
        PRET = "pret", "Prêt"
        ECHEC = "echec", "Échec"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX (tableur)"

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="exports_differes",
        verbose_name="demandé par",
    )
    ressource = models.CharField(
        "ressource", max_length=100, help_text="modèle exporté (app_label.model_name)"
    )
    intitule = models.CharField("intitulé", max_length=100)
    format = models.CharField("format", max_length=4, choices=Format.choices)
    filtres = models.TextField(
        "filtres", blank=True, help_text="chaîne de requête de la liste filtrée"
    )
    statut = models.CharField(
        "statut", max_length=12, choices=Statut.choices, default=Statut.EN_ATTENTE
    )
    lignes = models.PositiveIntegerField(
        "lignes", help_text="estimées à la demande, exactes une fois le fichier prêt"
    )
    fichier = models.FileField("fichier", upload_to="exports/", blank=True, max_length=200)
    erreur = models.CharField("erreur", max_length=255, blank=True)
    cree_le = models.DateTimeField("demandé le", default=timezone.now)
    termine_le = models.DateTimeField("terminé le", null=True, blank=True)
    expire_le = models.DateTimeField("expire le")

    objects = ExportDiffereQuerySet.as_manager()

    class Meta:
        verbose_name = "export"
        verbose_name_plural = "mes exports"
        ordering = ["-cree_le"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(statut__in=["en_attente", "en_cours", "pret", "echec"]),
                name="export_differe_statut_valide",
            ),
            models.CheckConstraint(
                condition=models.Q(format__in=["csv", "xlsx"]),
                name="export_differe_format_valide",
            ),
            models.CheckConstraint(
                condition=models.Q(expire_le__gt=models.F("cree_le")),
                name="export_differe_expire_apres_creation",
            ),
            # A ready export has its file; a finished one (ready or failed) its end time.
            models.CheckConstraint(
                condition=~models.Q(statut="pret") | ~models.Q(fichier=""),
                name="export_differe_pret_avec_fichier",
            ),
            models.CheckConstraint(
                condition=models.Q(statut__in=["en_attente", "en_cours"])
                | models.Q(termine_le__isnull=False),
                name="export_differe_termine_date",
            ),
        ]

    def __str__(self):
        return f"{self.intitule} ({self.get_format_display()}) du {self.cree_le:%d/%m/%Y %H:%M}"

    def clean(self):
        erreurs = {}
        if self.cree_le and self.expire_le and self.expire_le <= self.cree_le:
            erreurs["expire_le"] = "L'expiration doit suivre la demande."
        if self.statut == self.Statut.PRET and not self.fichier:
            erreurs["fichier"] = "Un export prêt a son fichier."
        if self.statut in (self.Statut.PRET, self.Statut.ECHEC) and self.termine_le is None:
            erreurs["termine_le"] = "Un export terminé a sa date de fin."
        if erreurs:
            raise ValidationError(erreurs)

    @property
    def est_expire(self) -> bool:
        return self.expire_le <= timezone.now()

    @property
    def est_telechargeable(self) -> bool:
        return self.statut == self.Statut.PRET and not self.est_expire
