"""Money: operators, funds, regional envelopes, aid commitments and payments.

Amounts are written by `financements.services` only, inside transactions.
"""

import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Round
from simple_history.models import HistoricalRecords

from commun.formats import date_fr, euros
from commun.recherche import Recherche, RechercheQuerySet
from projets.models import MONTANT, STATUTS_PUBLICS, Projet
from territoires.models import Departement, Phase, Region, Territoire, parmi
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


class ModaliteVersement(models.TextChoices):
    """The convention's payment schedule (SCDL `conditionsVersement`)."""

    UNIQUE = "unique", "Versement unique"
    ECHELONNE = "echelonne", "Versements échelonnés"


# Open data (SCDL « subventions »): aid granted above 23,000 € is published
# (décret n° 2001-495 du 6 juin 2001, article 1 ; loi n° 2000-321, article 10).
SEUIL_PUBLICATION = Decimal("23000.00")
# Subsidies only: money (subvention) or in kind (ingénierie), not loans nor advances.
NATURES_SUBVENTION = ("subvention", "ingenierie")


class RegimeAide(models.TextChoices):
    DE_MINIMIS = "de_minimis", "De minimis (règlement (UE) 2023/2831)"
    RGEC = "rgec", "Exempté RGEC (règlement (UE) n° 651/2014), dont AFR"
    NOTIFIE = "notifie", "Régime notifié à la Commission européenne"
    HORS_AIDE_ETAT = "hors_aide_etat", "Hors aide d'État"


# De minimis ceiling for one undertaking over any rolling three years
# (Règlement (UE) 2023/2831 of 13 December 2023, article 3, paragraph 2).
PLAFOND_DE_MINIMIS = Decimal("300000.00")


class DispositifQuerySet(models.QuerySet):
    def _totaux(self, aides, versements):
        return self.annotate(
            montant_alloue=_somme(Enveloppe.objects.filter(dispositif=OuterRef("pk"))),
            montant_engage=_somme(aides.filter(enveloppe__dispositif=OuterRef("pk"))),
            montant_verse=_somme(versements.filter(aide__enveloppe__dispositif=OuterRef("pk"))),
        )

    def avec_totaux(self):
        """Every engaged aid and payment (the back-office): the sums of the envelopes'
        maintained totals."""
        enveloppes = Enveloppe.objects.filter(dispositif=OuterRef("pk"))
        return self.annotate(
            montant_alloue=_somme(enveloppes),
            montant_engage=_somme(enveloppes, "total_engage"),
            montant_verse=_somme(enveloppes, "total_verse"),
        )

    def avec_totaux_publics(self):
        """Open data: only aid of public dossiers (`Aide.objects.publiques`), like every
        anonymous figure."""
        return self._totaux(Aide.objects.publiques(), Versement.objects.publics())


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
        verbose_name="phase financée",
        null=True,
        blank=True,
        help_text="Règle : seuls les dossiers de cette phase sont aidés (vide : toutes).",
    )
    laureats_seulement = models.BooleanField(
        "réservé aux territoires lauréats Rebond industriel",
        default=False,
        help_text="Règle : l'aide n'est accordée qu'aux dossiers d'un territoire lauréat.",
    )
    plafond_par_territoire = models.DecimalField(
        "plafond par territoire (€)",
        **MONTANT,
        null=True,
        blank=True,
        help_text="Règle : total des aides non annulées du dispositif sur les dossiers d'un "
        "même territoire, sur toute la durée du dispositif (vide : pas de plafond).",
    )
    revue_favorable_requise = models.BooleanField(
        "avis favorable d'une revue régionale requis",
        default=False,
        help_text="Règle : le dossier doit avoir reçu un avis favorable d'une revue régionale "
        "d'accélération de sa région avant d'être retenu et aidé.",
    )
    enveloppes_territoriales = models.BooleanField(
        "enveloppes par territoire",
        default=False,
        help_text="Les enveloppes sont allouées à un territoire (pilotées par les préfectures "
        "des départements concernés) et non à une région entière.",
    )
    regime_aide = models.CharField(
        "régime d'aide d'État",
        max_length=15,
        choices=RegimeAide.choices,
        default=RegimeAide.HORS_AIDE_ETAT,
    )
    numero_sa = models.CharField(
        "numéro du régime (SA)",
        max_length=20,
        blank=True,
        help_text="Numéro d'aide d'État attribué par la Commission, par exemple SA.12345 ; "
        "obligatoire pour un régime notifié.",
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
            models.CheckConstraint(
                condition=Q(plafond_par_territoire__isnull=True) | Q(plafond_par_territoire__gt=0),
                name="dispositif_plafond_territoire_positif",
                violation_error_message="Le plafond par territoire doit être positif.",
            ),
            models.CheckConstraint(
                condition=Q(regime_aide__in=["de_minimis", "rgec", "notifie", "hors_aide_etat"]),
                name="dispositif_regime_valide",
            ),
            models.CheckConstraint(
                condition=Q(numero_sa="") | Q(numero_sa__regex=r"^SA\.[0-9]{4,6}$"),
                name="dispositif_numero_sa_format",
                violation_error_message="Le numéro du régime s'écrit « SA. » suivi de 4 à 6 "
                "chiffres (par exemple SA.12345).",
            ),
            models.CheckConstraint(
                condition=~Q(regime_aide="notifie") | ~Q(numero_sa=""),
                name="dispositif_notifie_numero_sa",
                violation_error_message="Un régime notifié doit porter son numéro SA.",
            ),
        ]

    def __str__(self):
        return self.nom

    def clean(self):
        super().clean()
        inconnues = [n for n in self.natures or [] if n not in NatureAide.values]
        if inconnues:
            from django.core.exceptions import ValidationError

            raise ValidationError(
                {
                    "natures": "Natures d'aide inconnues : "
                    + ", ".join(str(n) for n in inconnues)
                    + f" (autorisées : {', '.join(NatureAide.values)})."
                }
            )

    def get_natures_display(self) -> str:
        libelles = dict(NatureAide.choices)
        return ", ".join(libelles.get(n, n) for n in self.natures)


def identifiant_enveloppe(chemin: str = ""):
    """An envelope's public identifier, `<dispositif code>-<région code>-<année>`, followed
    by `-<territoire slug>` for a territorial envelope."""
    return Concat(
        F(f"{chemin}dispositif__code"),
        Value("-"),
        F(f"{chemin}region_id"),
        Value("-"),
        Cast(F(f"{chemin}annee"), output_field=models.CharField()),
        Case(
            When(**{f"{chemin}territoire__isnull": True}, then=Value("")),
            default=Concat(Value("-"), F(f"{chemin}territoire__slug")),
            output_field=models.CharField(),
        ),
        output_field=models.CharField(),
    )


class EnveloppeQuerySet(models.QuerySet):
    def avec_identifiant(self):
        return self.annotate(identifiant=identifiant_enveloppe())

    def recalculer_totaux(self) -> int:
        """Write the recomputed totals (`totaux_calcules`) on these envelopes; for rows
        written outside the service (data migration, bulk generation, test fixtures).
        Returns how many envelopes changed."""
        changees = 0
        for pk, totaux in totaux_calcules(self).items():
            changees += Enveloppe.objects.filter(pk=pk).exclude(**totaux).update(**totaux)
        return changees

    def visibles_par(self, user):
        from territoires.perimetre import regions_visibles

        return self.filter(region__in=regions_visibles(user))

    def pour_projet(self, projet):
        """Envelopes an aid to `projet` may come from under the dispositifs' rules of
        place, phase and laureates (amounts are checked when the aid is proposed)."""
        qs = self.filter(Q(dispositif__phase__isnull=True) | Q(dispositif__phase=projet.phase_id))
        qs = qs.filter(
            Q(territoire=projet.territoire_id)
            | Q(
                territoire__isnull=True,
                dispositif__enveloppes_territoriales=False,
                region=projet.region.pk,
            )
        )
        if not projet.territoire.laureat_rebond_industriel:
            qs = qs.exclude(dispositif__laureats_seulement=True)
        return qs.select_related("dispositif", "region", "territoire")

    def avec_consommation(self):
        """Amount, proposed, engaged, under convention, paid, available, rate: read from
        the maintained totals (no sum over aids or payments)."""
        qs = self.annotate(
            montant_propose=F("total_propose"),
            montant_engage=F("total_engage"),
            montant_conventionne=F("total_conventionne"),
            montant_verse=F("total_verse"),
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


# The maintained totals of an envelope and, for each, the aids' statuses it sums
# (`total_verse` sums the payments).
TOTAUX_ENVELOPPE = ["total_propose", "total_engage", "total_conventionne", "total_verse"]


def totaux_calcules(queryset=None) -> dict:
    """The envelopes' totals recomputed from their aids and payments (two grouped
    queries): {pk: {champ: Decimal}}. The reference the maintained totals must equal."""
    zero = Decimal("0.00")
    queryset = Enveloppe.objects.all() if queryset is None else queryset
    resultat = {
        pk: dict.fromkeys(TOTAUX_ENVELOPPE, zero) for pk in queryset.values_list("pk", flat=True)
    }
    lignes = (
        Aide.objects.filter(enveloppe__in=queryset.values("pk"))
        .order_by()
        .values_list("enveloppe_id")
        .annotate(
            propose=Sum("montant", filter=Q(statut=Aide.Statut.PROPOSEE)),
            engage=Sum("montant", filter=Q(statut__in=Aide.STATUTS_ENGAGES)),
            conventionne=Sum("montant", filter=Q(statut__in=Aide.STATUTS_CONVENTIONNES)),
        )
    )
    for pk, propose, engage, conventionne in lignes:
        resultat[pk].update(
            total_propose=propose or zero,
            total_engage=engage or zero,
            total_conventionne=conventionne or zero,
        )
    versements = (
        Versement.objects.filter(aide__enveloppe__in=queryset.values("pk"))
        .order_by()
        .values_list("aide__enveloppe_id")
        .annotate(total=Sum("montant"))
    )
    for pk, total in versements:
        resultat[pk]["total_verse"] = total or zero
    return resultat


def contribution_aide(statut: str, montant) -> dict:
    """What one aid in `statut` adds to its envelope's maintained totals (payments apart)."""
    zero = Decimal("0.00")
    return {
        "total_propose": montant if statut == Aide.Statut.PROPOSEE else zero,
        "total_engage": montant if statut in Aide.STATUTS_ENGAGES else zero,
        "total_conventionne": montant if statut in Aide.STATUTS_CONVENTIONNES else zero,
    }


class Enveloppe(models.Model):
    dispositif = models.ForeignKey(
        Dispositif, on_delete=models.PROTECT, related_name="enveloppes", verbose_name="dispositif"
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="enveloppes", verbose_name="région"
    )
    territoire = models.ForeignKey(
        Territoire,
        on_delete=models.PROTECT,
        related_name="enveloppes",
        verbose_name="territoire",
        null=True,
        blank=True,
        help_text="Enveloppe territoriale (dispositif à enveloppes par territoire) ; vide pour "
        "une enveloppe régionale.",
    )
    departements_pilotes = models.ManyToManyField(
        Departement,
        blank=True,
        related_name="enveloppes_pilotees",
        verbose_name="départements pilotes",
        help_text="Enveloppe territoriale : les préfectures de ces départements l'instruisent "
        "(départements des sièges des EPCI du territoire).",
    )
    annee = models.PositiveSmallIntegerField("année")
    montant = models.DecimalField("montant (€)", **MONTANT)
    modifie_le = models.DateTimeField("modifié le", auto_now=True)
    # Maintained totals: kept up to date by `financements.services` (the only writer of
    # money) with F() increments on the locked envelope row, so that every figure reads
    # them instead of summing aids and payments. `Enveloppe.objects.recalculer_totaux()`
    # recomputes them from the rows (data migration, `verifier_totaux`, bulk writers).
    total_propose = models.DecimalField(
        "total proposé (€)", **MONTANT, default=Decimal("0.00"), editable=False
    )
    total_engage = models.DecimalField(
        "total engagé (€)", **MONTANT, default=Decimal("0.00"), editable=False
    )
    total_conventionne = models.DecimalField(
        "total conventionné (€)", **MONTANT, default=Decimal("0.00"), editable=False
    )
    total_verse = models.DecimalField(
        "total versé (€)", **MONTANT, default=Decimal("0.00"), editable=False
    )

    objects = EnveloppeQuerySet.as_manager()
    # The totals follow the aids and payments, whose own history says why they moved.
    history = HistoricalRecords(excluded_fields=TOTAUX_ENVELOPPE)

    class Meta:
        verbose_name = "enveloppe"
        verbose_name_plural = "enveloppes"
        ordering = ["-annee", "region__nom", "dispositif__nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["dispositif", "region", "annee"],
                condition=Q(territoire__isnull=True),
                name="enveloppe_unique",
                violation_error_message="Une enveloppe existe déjà pour ce dispositif, "
                "cette région et cette année.",
            ),
            models.UniqueConstraint(
                fields=["dispositif", "territoire", "annee"],
                condition=Q(territoire__isnull=False),
                name="enveloppe_territoriale_unique",
                violation_error_message="Une enveloppe existe déjà pour ce dispositif, "
                "ce territoire et cette année.",
            ),
            models.CheckConstraint(condition=Q(montant__gte=0), name="enveloppe_montant_positif"),
            models.CheckConstraint(
                condition=Q(annee__gte=2018, annee__lte=2100), name="enveloppe_annee_plausible"
            ),
        ]

    def __str__(self):
        if self.territoire_id:
            return f"{self.dispositif} — {self.territoire} {self.annee}"
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
        """Open data: aid engaged or further on public dossiers. The one source of every
        anonymous figure (API, statistics, portal): aid of a dossier that is no longer
        public leaves them all at once."""
        return self.engagees().filter(projet__statut__in=STATUTS_PUBLICS)

    def subventions_signees(self):
        """Open data (SCDL « subventions »): every signed subsidy above the threshold,
        whatever its dossier became (a signed convention stays public), annotated with
        the granted amount, the attribuant (the aid's, else the dispositif's operator)
        and `motif_non_publiable` ("" when the row can be published)."""
        operateur = "enveloppe__dispositif__operateur__"
        return (
            self.filter(
                statut__in=Aide.STATUTS_SIGNES,
                date_convention__isnull=False,
                nature__in=NATURES_SUBVENTION,
            )
            .annotate(
                # A « résiliée » aid keeps what was paid; the convention granted that
                # plus the released commitment.
                montant_attribue=ExpressionWrapper(
                    F("montant") + Coalesce(F("montant_libere"), ZERO),
                    output_field=DecimalField(**MONTANT),
                ),
                nom_attribuant=Case(
                    When(attribuant__isnull=False, then=F("attribuant__nom")),
                    default=F(operateur + "nom"),
                ),
                siret_attribuant=Case(
                    When(attribuant__isnull=False, then=F("attribuant__siret")),
                    default=F(operateur + "siret"),
                ),
            )
            .filter(montant_attribue__gt=SEUIL_PUBLICATION)
            .annotate(
                motif_non_publiable=Case(
                    When(siret_attribuant="", then=Value("SIRET de l'attribuant inconnu")),
                    When(
                        versement_modalite="",
                        then=Value("échéancier de versement de la convention non renseigné"),
                    ),
                    default=Value(""),
                )
            )
        )

    def publiables_scdl(self):
        return self.subventions_signees().filter(motif_non_publiable="")

    def non_publiables_scdl(self):
        """Signed subsidies left out of the SCDL file, with their reason (the national
        administrators' report)."""
        return self.subventions_signees().exclude(motif_non_publiable="")

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
        RESILIEE = "resiliee", "Résiliée (à reverser)"

    # A « résiliée » aide keeps, as its amount, what was paid before the dossier was
    # abandoned: that money was spent from the envelope and is to be recovered.
    STATUTS_ENGAGES = ("engagee", "conventionnee", "soldee", "resiliee")
    STATUTS_CONVENTIONNES = ("conventionnee", "soldee")
    # Signed: conventionnée or later (a « résiliée » aid signed before it was settled).
    STATUTS_SIGNES = ("conventionnee", "soldee", "resiliee")
    # Live aid: money still to be committed or paid; a dossier carrying one cannot close.
    STATUTS_VIVANTS = ("proposee", "engagee", "conventionnee")

    uuid = models.UUIDField("identifiant public", default=uuid.uuid4, unique=True, editable=False)
    enveloppe = models.ForeignKey(
        Enveloppe, on_delete=models.PROTECT, related_name="aides", verbose_name="enveloppe"
    )
    projet = models.ForeignKey(
        Projet, on_delete=models.PROTECT, related_name="aides", verbose_name="dossier"
    )
    montant = models.DecimalField("montant (€)", **MONTANT)
    nature = models.CharField("nature", max_length=20, choices=NatureAide.choices)
    attribuant = models.ForeignKey(
        Operateur,
        on_delete=models.PROTECT,
        related_name="aides_attribuees",
        verbose_name="attribuant",
        null=True,
        blank=True,
        help_text="Qui accorde l'aide (État / DGE, Région, opérateur) ; par défaut "
        "l'opérateur du dispositif.",
    )
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
    versement_modalite = models.CharField(
        "conditions de versement (convention)",
        max_length=10,
        choices=ModaliteVersement.choices,
        blank=True,
        help_text="Échéancier prévu par la convention (données ouvertes SCDL), non les "
        "versements déjà faits.",
    )
    versement_debut = models.DateField("versement prévu le (ou à partir du)", null=True, blank=True)
    versement_fin = models.DateField(
        "dernier versement prévu le", null=True, blank=True, help_text="Versements échelonnés."
    )
    motif_annulation = models.TextField("motif d'annulation", blank=True)
    montant_libere = models.DecimalField(
        "engagement libéré (€)",
        **MONTANT,
        null=True,
        blank=True,
        help_text="Résiliation : part de l'aide non versée, rendue à l'enveloppe.",
    )
    montant_a_reverser = models.DecimalField(
        "montant à reverser (€)", **MONTANT, null=True, blank=True
    )
    date_ordre_reversement = models.DateField(
        "date de l'ordre de reversement", null=True, blank=True
    )
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
                    statut__in=[
                        "proposee",
                        "engagee",
                        "conventionnee",
                        "soldee",
                        "annulee",
                        "resiliee",
                    ]
                ),
                name="aide_statut_valide",
            ),
            models.CheckConstraint(
                condition=~Q(statut="resiliee")
                | Q(
                    montant_a_reverser__isnull=False,
                    date_ordre_reversement__isnull=False,
                    montant_libere__isnull=False,
                ),
                name="aide_resiliee_ordre_reversement",
                violation_error_message="Une aide résiliée porte son ordre de reversement "
                "(montant et date) et l'engagement libéré.",
            ),
            models.CheckConstraint(
                condition=Q(montant_a_reverser__isnull=True)
                | Q(montant_a_reverser__gte=0, montant_a_reverser__lte=F("montant")),
                name="aide_reversement_borne",
                violation_error_message="Le montant à reverser est compris entre zéro et le "
                "montant versé.",
            ),
            models.CheckConstraint(
                condition=Q(montant_libere__isnull=True) | Q(montant_libere__gte=0),
                name="aide_montant_libere_positif",
            ),
            models.CheckConstraint(
                condition=~Q(statut__in=["conventionnee", "soldee"])
                | Q(date_convention__isnull=False),
                name="aide_conventionnee_datee",
            ),
            models.CheckConstraint(
                condition=Q(
                    versement_modalite="",
                    versement_debut__isnull=True,
                    versement_fin__isnull=True,
                )
                | Q(
                    versement_modalite="unique",
                    versement_debut__isnull=False,
                    versement_fin__isnull=True,
                )
                | Q(
                    versement_modalite="echelonne",
                    versement_debut__isnull=False,
                    versement_fin__isnull=False,
                    versement_fin__gt=F("versement_debut"),
                ),
                name="aide_echeancier_coherent",
                violation_error_message="Échéancier de versement : une date pour un versement "
                "unique ; une première et une dernière date, dans cet ordre, pour des "
                "versements échelonnés.",
            ),
        ]

    def __str__(self):
        return f"{euros(self.montant)} — {self.projet.reference} ({self.get_statut_display()})"

    @property
    def est_vivante(self) -> bool:
        return self.statut in self.STATUTS_VIVANTS


class VersementQuerySet(models.QuerySet):
    def visibles_par(self, user):
        return parmi(self, "aide", Aide.objects.visibles_par(user))

    def publics(self):
        return self.filter(aide__in=Aide.objects.publiques())


class AideNonPubliee(Aide):
    """The national administrators' report of signed subsidies left out of the SCDL
    file (`Aide.objects.non_publiables_scdl`), with the reason."""

    class Meta:
        proxy = True
        verbose_name = "subvention non publiée (données ouvertes)"
        verbose_name_plural = "subventions non publiées (données ouvertes)"


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
        # The lists' default order, read from the index rather than a sort of the table.
        indexes = [models.Index(fields=["date", "id"], name="versement_date_id")]
        constraints = [
            models.CheckConstraint(condition=Q(montant__gt=0), name="versement_montant_positif"),
        ]

    def __str__(self):
        return f"{euros(self.montant)} le {date_fr(self.date)}"


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
    """`avec_consommation`'s figures for the envelopes `pks`, in one query reading the
    maintained totals."""
    resultat = {}
    lignes = (
        Enveloppe.objects.filter(pk__in=list(pks))
        .order_by()
        .values_list("pk", "montant", *TOTAUX_ENVELOPPE)
    )
    for pk, montant, propose, engage, conventionne, verse in lignes:
        resultat[pk] = {
            "montant_propose": propose,
            "montant_engage": engage,
            "montant_conventionne": conventionne,
            "montant_verse": verse,
            "montant_disponible": montant - engage,
            "taux_consommation": (
                (engage * 100 / montant).quantize(Decimal("0.1"), ROUND_HALF_UP)
                if montant
                else None
            ),
        }
    return resultat


def _totaux_par(cle_enveloppe: str, modele_queryset):
    """Envelope amount, engaged and paid rolled up per `cle_enveloppe` (a région-like key)."""
    enveloppes = Enveloppe.objects.filter(**{cle_enveloppe: OuterRef("pk")})
    return modele_queryset.annotate(
        montant_enveloppes=_somme(enveloppes),
        montant_engage=_somme(enveloppes, "total_engage"),
        montant_verse=_somme(enveloppes, "total_verse"),
    )


def regions_avec_totaux(queryset=None):
    return _totaux_par("region", Region.objects.all() if queryset is None else queryset)


def territoires_avec_totaux(queryset=None):
    """Open data: aid engaged and paid on each territory's public dossiers
    (`Aide.objects.publiques`), and their investment."""
    queryset = Territoire.objects.all() if queryset is None else queryset
    return queryset.annotate(
        montant_engage=_somme(Aide.objects.publiques().filter(projet__territoire=OuterRef("pk"))),
        montant_verse=_somme(
            Versement.objects.publics().filter(aide__projet__territoire=OuterRef("pk"))
        ),
        investissement_retenu=_somme(
            Projet.objects.publics().filter(territoire=OuterRef("pk")),
            "montant_investissement",
        ),
    )
