"""Partner tokens: a secret shown once, stored as a SHA-256 digest with a short visible prefix."""

import hashlib

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

PREFIXE_LONGUEUR = 8


def empreinte_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class JetonPartenaireQuerySet(models.QuerySet):
    def valides(self):
        """Neither revoked nor expired."""
        return self.filter(revoque_le__isnull=True).filter(
            Q(expire_le__isnull=True) | Q(expire_le__gt=timezone.now())
        )


class JetonPartenaire(models.Model):
    class Niveau(models.TextChoices):
        OPENDATA = "opendata", "Données ouvertes"
        COMPLET = "complet", "Dossiers complets dans le périmètre"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="jetons_api",
        verbose_name="titulaire",
        help_text="Compte partenaire ou agent : le jeton hérite de son périmètre.",
    )
    nom = models.CharField(
        "libellé", max_length=150, help_text="Usage du jeton, ex. « Synchronisation Bpifrance »."
    )
    niveau = models.CharField(
        "niveau d'accès", max_length=10, choices=Niveau.choices, default=Niveau.OPENDATA
    )
    prefixe = models.CharField("préfixe", max_length=PREFIXE_LONGUEUR, unique=True, editable=False)
    empreinte = models.CharField("empreinte SHA-256", max_length=64, unique=True, editable=False)
    cree_le = models.DateTimeField("créé le", auto_now_add=True)
    cree_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="créé par",
        null=True,
        editable=False,
    )
    expire_le = models.DateTimeField("expire le", null=True, blank=True)
    revoque_le = models.DateTimeField("révoqué le", null=True, blank=True, editable=False)
    revoque_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="révoqué par",
        null=True,
        blank=True,
        editable=False,
    )
    derniere_utilisation_le = models.DateTimeField(
        "dernière utilisation", null=True, blank=True, editable=False
    )

    objects = JetonPartenaireQuerySet.as_manager()

    class Meta:
        verbose_name = "jeton d'API partenaire"
        verbose_name_plural = "jetons d'API partenaires"
        ordering = ["-cree_le"]
        constraints = [
            models.CheckConstraint(
                condition=Q(niveau__in=["opendata", "complet"]), name="jeton_niveau_valide"
            ),
        ]

    def __str__(self):
        return f"{self.nom} ({self.prefixe}…)"

    @property
    def est_revoque(self) -> bool:
        return self.revoque_le is not None

    @property
    def est_expire(self) -> bool:
        return self.expire_le is not None and self.expire_le <= timezone.now()


# ---------------------------------------------------------------------------
# Webhooks (Standard Webhooks): a token holder's subscription and each delivery.

RESSOURCES_WEBHOOK = ("projet", "aide", "versement", "enveloppe")
EVENEMENTS_WEBHOOK = ("creation", "modification", "sortie", "annulation")
CHOIX_EVENEMENTS = [f"{r}.{e}" for r in RESSOURCES_WEBHOOK for e in EVENEMENTS_WEBHOOK]


def valider_evenements(valeur) -> None:
    from django.core.exceptions import ValidationError

    if not isinstance(valeur, list) or not valeur:
        raise ValidationError("Choisissez au moins un événement.")
    inconnus = [v for v in valeur if v not in CHOIX_EVENEMENTS]
    if inconnus:
        raise ValidationError(
            f"Événements inconnus : {', '.join(map(str, inconnus))}. "
            f"Possibles : {', '.join(CHOIX_EVENEMENTS)}."
        )


def valider_adresse_reception(valeur) -> None:
    """SSRF guard (commun/reseau.py): HTTPS, a host that resolves to public addresses."""
    from django.core.exceptions import ValidationError

    from commun.reseau import refus_adresse

    motif = refus_adresse(str(valeur))
    if motif:
        raise ValidationError(motif, code="adresse_refusee")


class AbonnementWebhookQuerySet(models.QuerySet):
    def du_titulaire(self, user):
        """The subscriptions of `user`'s own tokens (partner self-service)."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(jeton__user=user)


class AbonnementWebhook(models.Model):
    """A partner's subscription: changes of the feed its token may read, pushed to `url`
    as signed POSTs (HMAC-SHA256 over id, timestamp and body)."""

    jeton = models.ForeignKey(
        JetonPartenaire,
        on_delete=models.PROTECT,
        related_name="abonnements",
        verbose_name="jeton",
        help_text="La portée (périmètre, niveau) est celle du jeton.",
    )
    url = models.URLField(
        "adresse de réception",
        max_length=500,
        validators=[URLValidator(schemes=["https", "http"]), valider_adresse_reception],
        help_text="Adresse HTTPS publique du partenaire (les adresses internes sont refusées).",
    )
    evenements = models.JSONField(
        "événements",
        default=list,
        validators=[valider_evenements],
        help_text='Ex. ["projet.creation", "aide.annulation"].',
    )
    secret = models.CharField("secret de signature", max_length=80, editable=False)
    actif = models.BooleanField("actif", default=True)
    echecs_consecutifs = models.PositiveIntegerField("échecs consécutifs", default=0)
    curseur = models.CharField("position dans le flux", max_length=200, blank=True)
    cree_le = models.DateTimeField("créé le", auto_now_add=True)
    desactive_le = models.DateTimeField("désactivé le", null=True, blank=True, editable=False)
    motif_desactivation = models.CharField("motif", max_length=300, blank=True, editable=False)

    objects = AbonnementWebhookQuerySet.as_manager()

    class Meta:
        verbose_name = "abonnement webhook"
        verbose_name_plural = "abonnements webhooks"
        ordering = ["-cree_le"]

    def __str__(self):
        return f"{self.url} ({self.jeton})"


class LivraisonWebhook(models.Model):
    class Statut(models.TextChoices):
        EN_ATTENTE = "en_attente", "En attente"
        LIVREE = "livree", "Livrée"
        ABANDONNEE = "abandonnee", "Abandonnée"

    abonnement = models.ForeignKey(
        AbonnementWebhook,
        on_delete=models.CASCADE,
        related_name="livraisons",
        verbose_name="abonnement",
    )
    identifiant = models.CharField("identifiant (webhook-id)", max_length=40, unique=True)
    evenement = models.CharField("événement", max_length=30)
    corps = models.TextField("corps JSON")
    statut = models.CharField(
        "statut", max_length=10, choices=Statut.choices, default=Statut.EN_ATTENTE
    )
    tentatives = models.PositiveSmallIntegerField("tentatives", default=0)
    code_http = models.PositiveSmallIntegerField("dernier code HTTP", null=True, blank=True)
    derniere_erreur = models.TextField("dernière erreur", blank=True)
    prochaine_tentative = models.DateTimeField("prochaine tentative", null=True, blank=True)
    cree_le = models.DateTimeField("créée le", auto_now_add=True)
    livree_le = models.DateTimeField("livrée le", null=True, blank=True)

    class Meta:
        verbose_name = "livraison webhook"
        verbose_name_plural = "livraisons webhooks"
        ordering = ["-cree_le", "-pk"]
        indexes = [
            models.Index(fields=["statut", "prochaine_tentative"], name="livraison_a_faire"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(statut__in=["en_attente", "livree", "abandonnee"]),
                name="livraison_statut_valide",
            ),
        ]

    def __str__(self):
        return f"{self.identifiant} → {self.abonnement.url}"
