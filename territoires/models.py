"""Territorial reference data, territories, binômes and user perimeters."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Concat
from django.utils.text import slugify
from simple_history.models import HistoricalRecords

from commun.recherche import Recherche, RechercheQuerySet

from .validators import (
    REGEX_CODE_COMMUNE,
    REGEX_CODE_DEPARTEMENT,
    REGEX_CODE_REGION,
    REGEX_SIREN,
    REGEX_SIRET,
    valider_code_commune,
    valider_code_departement,
    valider_code_region,
    valider_siren,
    valider_siret,
)


class Region(models.Model):
    code = models.CharField(
        "code INSEE", max_length=2, primary_key=True, validators=[valider_code_region]
    )
    nom = models.CharField("nom", max_length=100)

    class Meta:
        verbose_name = "région"
        verbose_name_plural = "régions"
        ordering = ["nom"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=REGEX_CODE_REGION), name="region_code_insee_valide"
            ),
        ]

    def __str__(self):
        return self.nom


class Departement(models.Model):
    code = models.CharField(
        "code INSEE", max_length=3, primary_key=True, validators=[valider_code_departement]
    )
    nom = models.CharField("nom", max_length=100)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="departements", verbose_name="région"
    )

    class Meta:
        verbose_name = "département"
        verbose_name_plural = "départements"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=REGEX_CODE_DEPARTEMENT),
                name="departement_code_insee_valide",
            ),
        ]

    def __str__(self):
        return f"{self.nom} ({self.code})"


class Intercommunalite(models.Model):
    class Nature(models.TextChoices):
        CC = "CC", "Communauté de communes"
        CA = "CA", "Communauté d'agglomération"
        CU = "CU", "Communauté urbaine"
        METRO = "METRO", "Métropole"
        MET69 = "MET69", "Métropole de Lyon"

    siren = models.CharField("SIREN", max_length=9, primary_key=True, validators=[valider_siren])
    nom = models.CharField("nom", max_length=150, db_index=True)
    nature = models.CharField("nature juridique", max_length=5, choices=Nature.choices)
    departement = models.ForeignKey(
        Departement,
        on_delete=models.PROTECT,
        related_name="intercommunalites",
        verbose_name="département du siège",
    )
    population = models.PositiveIntegerField("population municipale", default=0)
    obsolete = models.BooleanField(
        "obsolète",
        default=False,
        help_text="Absente du dernier référentiel importé (fusion, dissolution).",
    )

    class Meta:
        verbose_name = "intercommunalité"
        verbose_name_plural = "intercommunalités"
        ordering = ["nom"]
        constraints = [
            models.CheckConstraint(condition=Q(siren__regex=REGEX_SIREN), name="epci_siren_format"),
            models.CheckConstraint(
                condition=Q(nature__in=["CC", "CA", "CU", "METRO", "MET69"]),
                name="epci_nature_valide",
            ),
        ]

    def __str__(self):
        return self.nom


class Commune(models.Model):
    code_insee = models.CharField(
        "code INSEE", max_length=5, primary_key=True, validators=[valider_code_commune]
    )
    nom = models.CharField("nom", max_length=100, db_index=True)
    departement = models.ForeignKey(
        Departement, on_delete=models.PROTECT, related_name="communes", verbose_name="département"
    )
    epci = models.ForeignKey(
        Intercommunalite,
        on_delete=models.PROTECT,
        related_name="communes",
        verbose_name="intercommunalité",
        null=True,
        blank=True,
    )
    population = models.PositiveIntegerField("population municipale", default=0)
    obsolete = models.BooleanField("obsolète", default=False)

    class Meta:
        verbose_name = "commune"
        verbose_name_plural = "communes"
        ordering = ["nom", "code_insee"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code_insee__regex=REGEX_CODE_COMMUNE), name="commune_code_insee_valide"
            ),
        ]

    def __str__(self):
        return f"{self.nom} ({self.code_insee})"


class Phase(models.Model):
    code = models.CharField("code", max_length=9, unique=True)  # "2018-2022"
    nom = models.CharField("nom", max_length=100)
    date_debut = models.DateField("début")
    date_fin = models.DateField("fin")

    class Meta:
        verbose_name = "phase"
        verbose_name_plural = "phases"
        ordering = ["date_debut"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_fin__gt=models.F("date_debut")), name="phase_dates_ordonnees"
            ),
        ]

    def __str__(self):
        return self.nom


class AxeQuerySet(models.QuerySet):
    def avec_identifiant(self):
        """`identifiant`: `<phase code>-<axe code>`, e.g. « 2023-2027-foncier »."""
        return self.select_related("phase").annotate(
            identifiant=Concat(
                F("phase__code"), Value("-"), F("code"), output_field=models.CharField()
            )
        )


class Axe(models.Model):
    phase = models.ForeignKey(
        Phase, on_delete=models.PROTECT, related_name="axes", verbose_name="phase"
    )
    code = models.SlugField("code", max_length=50)
    nom = models.CharField("intitulé", max_length=200)
    ordre = models.PositiveSmallIntegerField("ordre", default=0)

    objects = AxeQuerySet.as_manager()

    class Meta:
        verbose_name = "axe prioritaire"
        verbose_name_plural = "axes prioritaires"
        ordering = ["phase__date_debut", "ordre"]
        constraints = [
            models.UniqueConstraint(fields=["phase", "code"], name="axe_code_unique_par_phase"),
        ]

    def __str__(self):
        return self.nom


def parmi(queryset, champ: str, visibles):
    """`queryset` limited to rows whose `champ` is among `visibles` (a `visibles_par`
    queryset); no filter at all when `visibles` is a whole table (national perimeter),
    so that counts and pages of national users scan no perimeter subquery."""
    if not visibles.query.where:
        return queryset
    return queryset.filter(**{f"{champ}__in": visibles})


class TerritoireQuerySet(RechercheQuerySet):
    # What the one search reads (commun.recherche): name, its EPCI and their communes.
    recherche = Recherche(
        champs={"nom": "A", "region_pilote__nom": "D"},
        multiples=("epcis__nom", "epcis__communes__nom"),
        similarite=("nom",),
        identifiants={"siren": "epcis__siren", "insee": "epcis__communes__code_insee"},
    )

    def visibles_par(self, user):
        """The one perimeter entry point: territories `user` may see."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        try:
            habilitation = user.habilitation  # cached on the user for the request
        except Habilitation.DoesNotExist:
            return self.none()
        return self.filter(habilitation.condition_territoires())

    def avec_composition(self):
        """Composition per phase, labels and the active binôme, prefetched (3 queries)."""
        return self.prefetch_related(
            models.Prefetch(
                "compositions",
                queryset=CompositionTerritoire.objects.select_related("phase", "epci"),
            ),
            models.Prefetch(
                "labellisations", queryset=Labellisation.objects.select_related("phase")
            ),
            models.Prefetch(
                "binomes",
                queryset=Binome.objects.filter(date_fin__isnull=True),
                to_attr="binomes_actifs",
            ),
        )


class Territoire(models.Model):
    nom = models.CharField("nom", max_length=200)
    slug = models.SlugField("identifiant d'URL", max_length=200, unique=True)
    id_anct = models.CharField(
        "identifiant ANCT",
        max_length=10,
        unique=True,
        null=True,
        blank=True,
        help_text="Identifiant de la liste officielle ANCT, ex. « ti-8413 ».",
    )
    region_pilote = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="territoires_pilotes",
        verbose_name="région pilote",
    )
    epcis = models.ManyToManyField(
        Intercommunalite,
        through="CompositionTerritoire",
        related_name="territoires",
        verbose_name="intercommunalités",
    )
    laureat_rebond_industriel = models.BooleanField("lauréat Rebond industriel", default=False)
    date_signature_feuille_de_route = models.DateField(
        "signature de la feuille de route", null=True, blank=True
    )
    feuille_de_route = models.FileField(
        "feuille de route (document)", upload_to="feuilles-de-route/", blank=True
    )
    modifie_le = models.DateTimeField("modifié le", auto_now=True)

    objects = TerritoireQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "territoire d'industrie"
        verbose_name_plural = "territoires d'industrie"
        ordering = ["nom"]
        constraints = [
            models.CheckConstraint(
                condition=Q(id_anct__isnull=True) | Q(id_anct__regex=r"^ti-[0-9]{4}$"),
                name="territoire_id_anct_format",
            ),
        ]

    def __str__(self):
        return self.nom

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.nom)[:200]
        super().save(*args, **kwargs)

    def departements(self, phase=None):
        """Départements touched by the territory, derived from its EPCI seats."""
        compositions = self.compositions.all()
        if phase is not None:
            compositions = compositions.filter(phase=phase)
        return Departement.objects.filter(
            intercommunalites__compositions__in=compositions
        ).distinct()

    def regions(self, phase=None):
        return Region.objects.filter(departements__in=self.departements(phase)).distinct()

    def binome_actif(self):
        return self.binomes.filter(date_fin__isnull=True).first()


class CompositionTerritoire(models.Model):
    territoire = models.ForeignKey(
        Territoire,
        on_delete=models.CASCADE,
        related_name="compositions",
        verbose_name="territoire",
    )
    phase = models.ForeignKey(
        Phase, on_delete=models.PROTECT, related_name="compositions", verbose_name="phase"
    )
    epci = models.ForeignKey(
        Intercommunalite,
        on_delete=models.PROTECT,
        related_name="compositions",
        verbose_name="intercommunalité",
    )

    class Meta:
        verbose_name = "composition (EPCI membre)"
        verbose_name_plural = "composition (EPCI membres)"
        ordering = ["phase__date_debut", "epci__nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["territoire", "phase", "epci"], name="composition_unique"
            ),
        ]

    def __str__(self):
        return f"{self.epci} — {self.phase}"


class Labellisation(models.Model):
    territoire = models.ForeignKey(
        Territoire,
        on_delete=models.CASCADE,
        related_name="labellisations",
        verbose_name="territoire",
    )
    phase = models.ForeignKey(
        Phase, on_delete=models.PROTECT, related_name="labellisations", verbose_name="phase"
    )
    date = models.DateField("date de labellisation")

    class Meta:
        verbose_name = "labellisation"
        verbose_name_plural = "labellisations"
        ordering = ["phase__date_debut"]
        constraints = [
            models.UniqueConstraint(fields=["territoire", "phase"], name="labellisation_unique"),
        ]

    def __str__(self):
        return f"{self.territoire} — {self.phase}"


class BinomeQuerySet(models.QuerySet):
    def visibles_par(self, user):
        return parmi(self, "territoire", Territoire.objects.visibles_par(user))


class Binome(models.Model):
    territoire = models.ForeignKey(
        Territoire, on_delete=models.PROTECT, related_name="binomes", verbose_name="territoire"
    )
    elu_nom = models.CharField("élu·e", max_length=150)
    elu_mandat = models.CharField("mandat de l'élu·e", max_length=200)
    industriel_nom = models.CharField("industriel·le", max_length=150)
    industriel_entreprise = models.CharField("entreprise", max_length=200)
    industriel_siret = models.CharField(
        "SIRET de l'entreprise", max_length=14, blank=True, validators=[valider_siret]
    )
    date_debut = models.DateField("début")
    date_fin = models.DateField("fin", null=True, blank=True)

    objects = BinomeQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "binôme élu-industriel"
        verbose_name_plural = "binômes élu-industriel"
        ordering = ["territoire__nom", "-date_debut"]
        constraints = [
            models.UniqueConstraint(
                fields=["territoire"],
                condition=Q(date_fin__isnull=True),
                name="binome_un_seul_actif_par_territoire",
                violation_error_message="Ce territoire a déjà un binôme en fonction : "
                "indiquez la date de fin du précédent.",
            ),
            models.CheckConstraint(
                condition=Q(date_fin__isnull=True) | Q(date_fin__gte=models.F("date_debut")),
                name="binome_dates_ordonnees",
                violation_error_message="La date de fin précède la date de début.",
            ),
            models.CheckConstraint(
                condition=Q(industriel_siret="") | Q(industriel_siret__regex=REGEX_SIRET),
                name="binome_siret_format",
            ),
        ]

    def __str__(self):
        return f"{self.elu_nom} / {self.industriel_nom} ({self.territoire})"

    @property
    def actif(self):
        return self.date_fin is None


class Habilitation(models.Model):
    """A user's perimeter: who they are for the programme and what they may see."""

    class Role(models.TextChoices):
        AGENT = "agent", "Agent (back-office)"
        PORTEUR = "porteur", "Porteur de territoire (portail)"
        PARTENAIRE = "partenaire", "Partenaire (API)"

    class Echelon(models.TextChoices):
        NATIONAL = "national", "National"
        REGION = "region", "Régions"
        DEPARTEMENT = "departement", "Départements"
        TERRITOIRE = "territoire", "Territoires"

    class Niveau(models.IntegerChoices):
        LECTEUR = 1, "Lecteur"
        INSTRUCTEUR = 2, "Instructeur"
        ADMINISTRATEUR = 3, "Administrateur"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="habilitation",
        verbose_name="utilisateur",
    )
    role = models.CharField("rôle", max_length=12, choices=Role.choices)
    echelon = models.CharField("échelon", max_length=12, choices=Echelon.choices)
    niveau = models.PositiveSmallIntegerField(
        "niveau", choices=Niveau.choices, default=Niveau.LECTEUR
    )
    organisation = models.CharField("organisation", max_length=200, blank=True)
    regions = models.ManyToManyField(Region, blank=True, verbose_name="régions")
    departements = models.ManyToManyField(Departement, blank=True, verbose_name="départements")
    territoires = models.ManyToManyField(Territoire, blank=True, verbose_name="territoires")

    history = HistoricalRecords(m2m_fields=[regions, departements, territoires])

    class Meta:
        verbose_name = "habilitation"
        verbose_name_plural = "habilitations"
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="porteur") | Q(echelon="territoire"),
                name="habilitation_porteur_sur_territoires",
                violation_error_message="Un porteur est habilité sur des territoires.",
            ),
            models.CheckConstraint(
                condition=Q(niveau__gte=1, niveau__lte=3), name="habilitation_niveau_valide"
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()}, {self.get_echelon_display()}"

    def clean(self):
        if self.role == self.Role.PORTEUR and self.echelon != self.Echelon.TERRITOIRE:
            raise ValidationError({"echelon": "Un porteur est habilité sur des territoires."})

    def condition_territoires(self) -> Q:
        """A Q on Territoire selecting this perimeter's territories."""
        if self.echelon == self.Echelon.NATIONAL:
            return Q()
        if self.echelon == self.Echelon.REGION:
            regions = self.regions.all()
            return Q(region_pilote__in=regions) | Q(
                Exists(
                    CompositionTerritoire.objects.filter(
                        territoire=OuterRef("pk"), epci__departement__region__in=regions
                    )
                )
            )
        if self.echelon == self.Echelon.DEPARTEMENT:
            return Q(
                Exists(
                    CompositionTerritoire.objects.filter(
                        territoire=OuterRef("pk"),
                        epci__departement__in=self.departements.all(),
                    )
                )
            )
        return Q(pk__in=self.territoires.all())

    @property
    def est_national(self):
        return self.echelon == self.Echelon.NATIONAL


# ---------------------------------------------------------------------------
# Map outlines, pre-computed by `manage.py calculer_contours` (territoires/contours.py)
# in the coordinates of the portal's SVG map; never computed on a request.


class ContourZone(models.Model):
    """A région or département outline (the map's reference layer)."""

    class Niveau(models.TextChoices):
        REGION = "region", "Région"
        DEPARTEMENT = "departement", "Département"

    niveau = models.CharField("niveau", max_length=11, choices=Niveau.choices)
    code = models.CharField("code INSEE", max_length=3)
    nom = models.CharField("nom", max_length=100)
    chemin = models.TextField("tracé SVG")

    class Meta:
        verbose_name = "contour de région ou de département"
        verbose_name_plural = "contours de régions et de départements"
        ordering = ["niveau", "code"]
        constraints = [
            models.UniqueConstraint(fields=["niveau", "code"], name="contour_zone_unique"),
            models.CheckConstraint(
                condition=Q(niveau__in=["region", "departement"]), name="contour_zone_niveau"
            ),
        ]

    def __str__(self):
        return f"{self.get_niveau_display()} {self.nom}"


class ContourTerritoireQuerySet(models.QuerySet):
    def pour_carte(self, phase):
        return (
            self.filter(phase=phase)
            .select_related("territoire", "territoire__region_pilote")
            .order_by("territoire__nom")
        )


class ContourTerritoire(models.Model):
    """A territory's outline for one phase: the union of its EPCI of that phase, or,
    when its composition is unknown, its declared départements (drawn hatched)."""

    class Source(models.TextChoices):
        EPCI = "epci", "intercommunalités membres"
        DEPARTEMENTS = "departements", "départements déclarés (composition inconnue)"

    territoire = models.ForeignKey(
        Territoire, on_delete=models.CASCADE, related_name="contours", verbose_name="territoire"
    )
    phase = models.ForeignKey(
        Phase, on_delete=models.PROTECT, related_name="contours", verbose_name="phase"
    )
    source = models.CharField("tracé d'après", max_length=12, choices=Source.choices)
    chemin = models.TextField("tracé SVG")
    centre_x = models.FloatField("centre (x)")
    centre_y = models.FloatField("centre (y)")
    nombre_epci = models.PositiveSmallIntegerField("EPCI tracés", default=0)
    epci_sans_contour = models.PositiveSmallIntegerField("EPCI sans contour", default=0)
    calcule_le = models.DateTimeField("calculé le", auto_now=True)

    objects = ContourTerritoireQuerySet.as_manager()

    class Meta:
        verbose_name = "contour de territoire"
        verbose_name_plural = "contours de territoires"
        ordering = ["phase__date_debut", "territoire__nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["territoire", "phase"], name="contour_territoire_unique"
            ),
            models.CheckConstraint(
                condition=Q(source__in=["epci", "departements"]), name="contour_territoire_source"
            ),
        ]

    def __str__(self):
        return f"{self.territoire} — {self.phase}"

    @property
    def composition_inconnue(self) -> bool:
        return self.source == self.Source.DEPARTEMENTS
