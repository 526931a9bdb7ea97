"""Partner tokens: a secret shown once, stored as a SHA-256 digest with a short visible prefix."""

import hashlib

from django.conf import settings
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
