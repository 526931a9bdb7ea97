"""Money: operators, funds, regional envelopes, aid commitments and payments.

Amounts are written by `financements.services` only, inside transactions.
"""

import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Round
from simple_history.models import HistoricalRecords

from commun.recherche import Recherche, RechercheQuerySet
from projets.models import MONTANT, STATUTS_PUBLICS, Projet
from territoires.models import Phase, Region, Territoire, parmi
from territoires.validators import REGEX_SIRET, valider_siret

ZERO = Value(Decimal("0.00"), output_field=DecimalField(**MONTANT))


def _somme(queryset, champ="montant"):
    """A correlated subquery summing `champ` over `queryset` (0 when empty)."""
    return Coalesce(
        Subquery(
            queryset.order_by().values(cle=Value(1)).annotate(total=Sum(champ)).values("total")[:1],
            output_field=DecimalField(**MONTANT),
        ),
        ZERO,
    )


class Operateur(models.Model):
    class Type(models.TextChoices):
        ETAT = "etat", "État"
        REGION = "region", "Région"
        OPERATEUR = "operateur", "Opérateur public"
        UE = "ue", "Union européenne"

    nom = models.CharField("nom", max_length=200, unique=True)
    sigle = models.CharField("sigle", max_length=50, blank=True)
    type = models.CharField("type", max_length=10, choices=Type.choices)
    siret = models.CharField("SIRET", max_length=14, blank=True, validators=[valider_siret])

    class Meta:
        verbose_name = "opérateur"
        verbose_name_plural = "opérateurs"
        ordering = ["nom"]
        constraints = [
            models.CheckConstraint(
                condition=Q(siret="") | Q(siret__regex=REGEX_SIRET), name="operateur_siret_format"
            ),
        ]

    def __str__(self):
        return self.sigle or self.nom


class NatureAide(models.TextChoices):
    SUBVENTION = "subvention", "Subvention"
    AVANCE = "avance_remboursable", "Avance remboursable"
    PRET = "pret", "Prêt"
    INGENIERIE = "ingenierie", "Ingénierie"


class DispositifQuerySet(models.QuerySet):
    def avec_totaux(self):
        return self.annotate(
            montant_alloue=_somme(Enveloppe.objects.filter(dispositif=OuterRef("pk"))),
            montant_engage=_somme(
                Aide.objects.engagees().filter(enveloppe__dispositif=OuterRef("pk"))
            ),
            montant_verse=_somme(
                Versement.objects.filter(aide__enveloppe__dispositif=OuterRef("pk"))
            ),
        )


class Dispositif(models.Model):
    nom = models.CharField("nom", max_length=200, unique=True)
    code = models.SlugField("code", max_length=60, unique=True)
    description = models.TextField("description", blank=True)
    operateur = models.ForeignKey(
        Operateur, on_delete=models.PROTECT, related_name="dispositifs", verbose_name="opérateur"
    )
    phase = models.ForeignKey(
        Phase,
        on_delete=models.PROTECT,
        related_name="dispositifs",
        verbose_name="phase",
        null=True,
        blank=True,
    )
    natures = models.JSONField(
        "natures d'aide autorisées",
        default=list,
        help_text="Parmi : subvention, avance_remboursable, pret, ingenierie.",
    )
    montant_national = models.DecimalField("montant national (€)", **MONTANT)
    date_debut = models.DateField("début")
    date_fin = models.DateField("fin", null=True, blank=True)
    id_dispositif_scdl = models.CharField(
        "identifiant du dispositif d'aide (SCDL)", max_length=100, blank=True
    )
    notification_ue = models.BooleanField("aide notifiée à la Commission européenne", default=False)

    objects = DispositifQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "dispositif"
        verbose_name_plural = "dispositifs"
        ordering = ["-date_debut", "nom"]
        constraints = [
            models.CheckConstraint(
                condition=Q(montant_national__gte=0), name="dispositif_montant_positif"
            ),
        ]

    def __str__(self):
        return self.nom

    def get_natures_display(self) -> str:
        libelles = dict(NatureAide.choices)
        return ", ".join(libelles.get(n, n) for n in self.natures)


def identifiant_enveloppe(chemin: str = ""):
    """An envelope's public identifier, `<dispositif code>-<région code>-<année>`."""
    return Concat(
        F(f"{chemin}dispositif__code"),
        Value("-"),
        F(f"{chemin}region_id"),
        Value("-"),
        Cast(F(f"{chemin}annee"), output_field=models.CharField()),
        output_field=models.CharField(),
    )


class EnveloppeQuerySet(models.QuerySet):
    def avec_identifiant(self):
        return self.annotate(identifiant=identifiant_enveloppe())

    def visibles_par(self, user):
        from territoires.perimetre import regions_visibles

        return self.filter(region__in=regions_visibles(user))

    def avec_consommation(self):
        """Amount, proposed, engaged, under convention, paid, available, rate."""
        aides = Aide.objects.filter(enveloppe=OuterRef("pk"))
        qs = self.annotate(
            montant_propose=_somme(aides.filter(statut=Aide.Statut.PROPOSEE)),
            montant_engage=_somme(aides.filter(statut__in=Aide.STATUTS_ENGAGES)),
            montant_conventionne=_somme(aides.filter(statut__in=Aide.STATUTS_CONVENTIONNES)),
            montant_verse=_somme(Versement.objects.filter(aide__enveloppe=OuterRef("pk"))),
        )
        return qs.annotate(
            montant_disponible=ExpressionWrapper(
                F("montant") - F("montant_engage"), output_field=DecimalField(**MONTANT)
            ),
            taux_consommation=Round(
                ExpressionWrapper(
                    F("montant_engage") * Value(Decimal("100")) / NullIf(F("montant"), ZERO),
                    output_field=DecimalField(max_digits=7, decimal_places=2),
                ),
                1,
            ),
        )


class Enveloppe(models.Model):
    dispositif = models.ForeignKey(
        Dispositif, on_delete=models.PROTECT, related_name="enveloppes", verbose_name="dispositif"
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="enveloppes", verbose_name="région"
    )
    annee = models.PositiveSmallIntegerField("année")
    montant = models.DecimalField("montant (€)", **MONTANT)
    modifie_le = models.DateTimeField("modifié le", auto_now=True)

    objects = EnveloppeQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "enveloppe régionale"
        verbose_name_plural = "enveloppes régionales"
        ordering = ["-annee", "region__nom", "dispositif__nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["dispositif", "region", "annee"],
                name="enveloppe_unique",
                violation_error_message="Une enveloppe existe déjà pour ce dispositif, "
                "cette région et cette année.",
            ),
            models.CheckConstraint(condition=Q(montant__gte=0), name="enveloppe_montant_positif"),
            models.CheckConstraint(
                condition=Q(annee__gte=2018, annee__lte=2100), name="enveloppe_annee_plausible"
            ),
        ]

    def __str__(self):
        return f"{self.dispositif} — {self.region} {self.annee}"


class AideQuerySet(RechercheQuerySet):
    # What the one search reads (commun.recherche): the aid's decision and its dossier.
    recherche = Recherche(
        champs={
            "reference_decision": "A",
            "projet__reference": "A",
            "projet__titre": "A",
            "projet__porteur_raison_sociale": "B",
            "enveloppe__dispositif__nom": "C",
        },
        identifiants={
            "reference": "projet__reference",
            "siret": "projet__porteur_siret",
            "siren": "projet__porteur_siret__startswith",
            "insee": "projet__commune_id",
        },
    )

    def visibles_par(self, user):
        return parmi(self, "projet", Projet.objects.visibles_par(user))

    def engagees(self):
        return self.filter(statut__in=Aide.STATUTS_ENGAGES)

    def actives(self):
        return self.exclude(statut=Aide.Statut.ANNULEE)

    def avec_verse(self):
        return self.annotate(montant_verse=_somme(Versement.objects.filter(aide=OuterRef("pk"))))

    def publiques(self):
        """Open data: aid engaged or further on public dossiers."""
        return self.engagees().filter(projet__statut__in=STATUTS_PUBLICS)

    def pour_liste(self):
        return (
            self.select_related("enveloppe__dispositif__operateur", "projet")
            .avec_verse()
            .annotate(enveloppe_identifiant=identifiant_enveloppe("enveloppe__"))
        )


class Aide(models.Model):
    class Statut(models.TextChoices):
        PROPOSEE = "proposee", "Proposée"
        ENGAGEE = "engagee", "Engagée"
        CONVENTIONNEE = "conventionnee", "Conventionnée"
        SOLDEE = "soldee", "Soldée"
        ANNULEE = "annulee", "Annulée"

    STATUTS_ENGAGES = ("engagee", "conventionnee", "soldee")
    STATUTS_CONVENTIONNES = ("conventionnee", "soldee")

    uuid = models.UUIDField("identifiant public", default=uuid.uuid4, unique=True, editable=False)
    enveloppe = models.ForeignKey(
        Enveloppe, on_delete=models.PROTECT, related_name="aides", verbose_name="enveloppe"
    )
    projet = models.ForeignKey(
        Projet, on_delete=models.PROTECT, related_name="aides", verbose_name="dossier"
    )
    montant = models.DecimalField("montant (€)", **MONTANT)
    nature = models.CharField("nature", max_length=20, choices=NatureAide.choices)
    statut = models.CharField(
        "statut",
        max_length=15,
        choices=Statut.choices,
        default=Statut.PROPOSEE,
        editable=False,
        db_index=True,
    )
    reference_decision = models.CharField("référence de la décision", max_length=100, blank=True)
    date_decision = models.DateField("date de la décision", null=True, blank=True)
    date_convention = models.DateField("date de la convention", null=True, blank=True)
    motif_annulation = models.TextField("motif d'annulation", blank=True)
    cree_le = models.DateTimeField("créée le", auto_now_add=True)
    modifie_le = models.DateTimeField("modifiée le", auto_now=True, db_index=True)

    objects = AideQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "aide"
        verbose_name_plural = "aides"
        ordering = ["-cree_le"]
        indexes = [
            models.Index(fields=["-cree_le"], name="aide_cree_le"),
            # Per-envelope and per-dossier sums filtered by status.
            models.Index(fields=["enveloppe", "statut"], name="aide_enveloppe_statut"),
            models.Index(fields=["projet", "statut"], name="aide_projet_statut"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(montant__gt=0), name="aide_montant_positif"),
            models.CheckConstraint(
                condition=Q(
                    statut__in=["proposee", "engagee", "conventionnee", "soldee", "annulee"]
                ),
                name="aide_statut_valide",
            ),
            models.CheckConstraint(
                condition=~Q(statut__in=["conventionnee", "soldee"])
                | Q(date_convention__isnull=False),
                name="aide_conventionnee_datee",
            ),
        ]

    def __str__(self):
        return f"{self.montant} € — {self.projet.reference} ({self.get_statut_display()})"


class VersementQuerySet(models.QuerySet):
    def visibles_par(self, user):
        return parmi(self, "aide", Aide.objects.visibles_par(user))

    def publics(self):
        return self.filter(aide__in=Aide.objects.publiques())


class Versement(models.Model):
    uuid = models.UUIDField("identifiant public", default=uuid.uuid4, unique=True, editable=False)
    aide = models.ForeignKey(
        Aide, on_delete=models.PROTECT, related_name="versements", verbose_name="aide"
    )
    montant = models.DecimalField("montant (€)", **MONTANT)
    date = models.DateField("date")
    reference = models.CharField("référence", max_length=100, blank=True)
    cree_le = models.DateTimeField("enregistré le", auto_now_add=True)

    objects = VersementQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "versement"
        verbose_name_plural = "versements"
        ordering = ["date", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(montant__gt=0), name="versement_montant_positif"),
        ]

    def __str__(self):
        return f"{self.montant} € le {self.date:%d/%m/%Y}"


def projets_avec_financements(queryset=None):
    """Dossiers annotated with total aid (active), engaged aid, paid, and leverage
    (investment ÷ engaged public aid)."""
    queryset = Projet.objects.all() if queryset is None else queryset
    aides = Aide.objects.filter(projet=OuterRef("pk"))
    qs = queryset.annotate(
        aide_totale=_somme(aides.actives()),
        aide_engagee=_somme(aides.engagees()),
        aide_versee=_somme(Versement.objects.filter(aide__projet=OuterRef("pk"))),
    )
    return qs.annotate(
        effet_levier=Round(
            ExpressionWrapper(
                F("montant_investissement") / NullIf(F("aide_engagee"), ZERO),
                output_field=DecimalField(max_digits=12, decimal_places=2),
            ),
            2,
        )
    )


def consommation_des_enveloppes(pks) -> dict:
    """`avec_consommation`'s figures for the envelopes `pks` in two grouped queries (the
    envelopes with their aides' sums, then their payments) rather than five subqueries
    per envelope, which cost ~2 ms each at programme scale."""
    zero = Decimal("0.00")
    resultat = {}
    enveloppes = (
        Enveloppe.objects.filter(pk__in=list(pks))
        .order_by()
        .values_list("pk", "montant")
        .annotate(
            montant_propose=Sum("aides__montant", filter=Q(aides__statut=Aide.Statut.PROPOSEE)),
            montant_engage=Sum("aides__montant", filter=Q(aides__statut__in=Aide.STATUTS_ENGAGES)),
            montant_conventionne=Sum(
                "aides__montant", filter=Q(aides__statut__in=Aide.STATUTS_CONVENTIONNES)
            ),
        )
    )
    for pk, montant, propose, engage, conventionne in enveloppes:
        engage = engage or zero
        resultat[pk] = {
            "montant_propose": propose or zero,
            "montant_engage": engage,
            "montant_conventionne": conventionne or zero,
            "montant_verse": zero,
            "montant_disponible": montant - engage,
            "taux_consommation": (
                (engage * 100 / montant).quantize(Decimal("0.1"), ROUND_HALF_UP)
                if montant
                else None
            ),
        }
    versements = (
        Versement.objects.filter(aide__enveloppe__in=list(pks))
        .order_by()
        .values_list("aide__enveloppe_id")
        .annotate(total=Sum("montant"))
    )
    for pk, total in versements:
        resultat[pk]["montant_verse"] = total
    return resultat


def _totaux_par(cle_enveloppe: str, modele_queryset):
    """Envelope amount, engaged and paid rolled up per `cle_enveloppe` (a région-like key)."""
    return modele_queryset.annotate(
        montant_enveloppes=_somme(Enveloppe.objects.filter(**{cle_enveloppe: OuterRef("pk")})),
        montant_engage=_somme(
            Aide.objects.engagees().filter(**{f"enveloppe__{cle_enveloppe}": OuterRef("pk")})
        ),
        montant_verse=_somme(
            Versement.objects.filter(**{f"aide__enveloppe__{cle_enveloppe}": OuterRef("pk")})
        ),
    )


def regions_avec_totaux(queryset=None):
    return _totaux_par("region", Region.objects.all() if queryset is None else queryset)


def territoires_avec_totaux(queryset=None):
    """Aid engaged and paid on each territory's dossiers."""
    queryset = Territoire.objects.all() if queryset is None else queryset
    return queryset.annotate(
        montant_engage=_somme(Aide.objects.engagees().filter(projet__territoire=OuterRef("pk"))),
        montant_verse=_somme(Versement.objects.filter(aide__projet__territoire=OuterRef("pk"))),
        investissement_retenu=_somme(
            Projet.objects.publics().filter(territoire=OuterRef("pk")),
            "montant_investissement",
        ),
    )
