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


def condition_etendue(*, departements=None, regions=None) -> Q:
    """A Q on Territoire: its extent touches one of `departements` (or of `regions`).

    The one territorial rule behind every perimeter and every région / département
    filter. A territory's extent is, for every labelled phase, the union of:
    - the départements declared by the programme for that label (always counted, so a
      territory whose composition is unknown or partial is still seen);
    - the seats of its current member EPCI (composition known);
    - the départements of its current member communes (commune-level membership, so
      that an EPCI spanning départements does not hide a territory).
    Rows closed by a later import (`date_sortie` set) no longer count.
    """
    if (departements is None) == (regions is None):
        raise ValueError("departements ou regions, l'un des deux")
    if departements is not None:
        cle_dep, cle_dep_declare = "epci__departement__in", "departement__in"
        cle_com = "commune__departement__in"
        valeur = departements
    else:
        cle_dep, cle_dep_declare = "epci__departement__region__in", "departement__region__in"
        cle_com = "commune__departement__region__in"
        valeur = regions
    declare = Labellisation.departements.through.objects.filter(
        labellisation__territoire=OuterRef("pk"), **{cle_dep_declare: valeur}
    )
    epci = CompositionTerritoire.objects.filter(
        territoire=OuterRef("pk"), date_sortie__isnull=True, **{cle_dep: valeur}
    )
    communes = CommuneTerritoire.objects.filter(
        territoire=OuterRef("pk"), date_sortie__isnull=True, **{cle_com: valeur}
    )
    condition = Q(Exists(declare)) | Q(Exists(epci)) | Q(Exists(communes))
    if regions is not None:
        condition |= Q(region_pilote__in=regions)
    return condition


class TerritoireQuerySet(RechercheQuerySet):
    # What the one search reads (commun.recherche): name, its EPCI and their communes.
    recherche = Recherche(
        champs={"nom": "A", "region_pilote__nom": "D"},
        multiples=("epcis__nom", "epcis__communes__nom"),
        similarite=("nom",),
        identifiants={"siren": "epcis__siren", "insee": "epcis__communes__code_insee"},
    )

    def touchant_departements(self, departements):
        """Territories whose extent touches one of `departements` (codes or rows)."""
        return self.filter(condition_etendue(departements=departements))

    def touchant_regions(self, regions):
        """Territories piloted by one of `regions` or whose extent touches them."""
        return self.filter(condition_etendue(regions=regions))

    def labellises_le(self, jour, phase=None):
        """Territories holding a label in force on `jour` (history: entry and exit dates)."""
        labels = Labellisation.objects.en_vigueur_le(jour).filter(territoire=OuterRef("pk"))
        if phase is not None:
            labels = labels.filter(phase=phase)
        return self.filter(Exists(labels))

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
        """Current composition per phase, labels (declared départements, successor) and
        the active binôme, prefetched (4 queries)."""
        return self.prefetch_related(
            models.Prefetch(
                "compositions",
                queryset=CompositionTerritoire.objects.en_vigueur().select_related("phase", "epci"),
            ),
            models.Prefetch(
                "labellisations",
                queryset=Labellisation.objects.select_related(
                    "phase", "successeur__territoire"
                ).prefetch_related(
                    models.Prefetch("departements", queryset=Departement.objects.order_by("code"))
                ),
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
        """Départements of the territory's extent (see `condition_etendue`): declared by
        the programme, seats of its member EPCI and départements of its member communes."""
        labels = self.labellisations.all()
        compositions = self.compositions.filter(date_sortie__isnull=True)
        communes = self.communes_membres.filter(date_sortie__isnull=True)
        if phase is not None:
            labels = labels.filter(phase=phase)
            compositions = compositions.filter(phase=phase)
            communes = communes.filter(phase=phase)
        return Departement.objects.filter(
            Q(pk__in=labels.values("departements"))
            | Q(pk__in=compositions.values("epci__departement"))
            | Q(pk__in=communes.values("commune__departement"))
        )

    def departements_declares(self, phase=None):
        labels = self.labellisations.all()
        if phase is not None:
            labels = labels.filter(phase=phase)
        return Departement.objects.filter(pk__in=labels.values("departements"))

    def regions(self, phase=None):
        return Region.objects.filter(
            Q(departements__in=self.departements(phase)) | Q(pk=self.region_pilote_id)
        ).distinct()

    def binome_actif(self):
        return self.binomes.filter(date_fin__isnull=True).first()

    # -- Dossier checks: a dossier is created for a phase the territory is labelled for,
    # and located in a commune inside the territory's extent for that phase.

    def refus_phase(self, phase, jour=None) -> str | None:
        """Why no dossier may be created for `phase` on `jour` (None when it may)."""
        from django.utils import timezone

        jour = jour or timezone.localdate()
        label = self.labellisations.filter(phase=phase).first()
        if label is None:
            return f"Le territoire « {self} » n'est pas labellisé pour la phase « {phase} »."
        if label.date_sortie is not None and label.date_sortie <= jour:
            return (
                f"Le territoire « {self} » n'est plus labellisé pour la phase « {phase} » "
                f"depuis le {label.date_sortie:%d/%m/%Y}."
            )
        return None

    def _etendue_communale(self, phase):
        """(open member communes, open member EPCI rows, label, composition complete?)."""
        membres = self.communes_membres.filter(phase=phase, date_sortie__isnull=True)
        compositions = self.compositions.filter(phase=phase, date_sortie__isnull=True)
        label = self.labellisations.filter(phase=phase).first()
        complete = label is not None and label.composition == Labellisation.EtatComposition.COMPLETE
        return membres, compositions, label, complete

    def contient_commune(self, commune, phase) -> bool:
        """Is `commune` inside the territory's extent for `phase`?

        Composition known to be complete: its member communes (official ANCT list,
        so a commune of a partly included EPCI may be outside), else the communes of
        its member EPCI. Composition partial or unknown: member communes, communes of
        member EPCI, and communes of the départements declared by the programme."""
        membres, compositions, label, complete = self._etendue_communale(phase)
        if membres.filter(commune=commune).exists():
            return True
        if complete and membres.exists():
            return False
        if commune.epci_id and compositions.filter(epci_id=commune.epci_id).exists():
            return True
        if label is None or (complete and compositions.exists()):
            return False
        return label.departements.filter(pk=commune.departement_id).exists()

    def communes_possibles(self, phase):
        """The communes a dossier of `phase` may be located in (same rule as
        `contient_commune`), for choice lists."""
        membres, compositions, label, complete = self._etendue_communale(phase)
        par_membres = Q(pk__in=membres.values("commune"))
        if complete and membres.exists():
            return Commune.objects.filter(par_membres)
        condition = par_membres | Q(epci__in=compositions.values("epci"))
        if label is not None and not (complete and compositions.exists()):
            condition |= Q(departement__in=label.departements.all())
        return Commune.objects.filter(condition, obsolete=False)

    def refus_commune(self, commune, phase) -> str | None:
        if self.contient_commune(commune, phase):
            return None
        declares = ", ".join(
            self.departements_declares(phase).order_by("code").values_list("code", flat=True)
        )
        precision = f" (départements déclarés : {declares})" if declares else ""
        return (
            f"La commune « {commune} » n'appartient pas au territoire « {self} » pour la "
            f"phase « {phase} »{precision}."
        )


class ImportTerritoires(models.Model):
    """One applied import of a territory list: which file, of which date, what changed."""

    fichier = models.CharField("fichier", max_length=255)
    date_fichier = models.DateField(
        "date du fichier", help_text="Millésime de la liste (date de publication)."
    )
    phase = models.ForeignKey(
        Phase, on_delete=models.PROTECT, related_name="imports", verbose_name="phase"
    )
    applique_le = models.DateTimeField("appliqué le", auto_now_add=True)
    resume = models.TextField("différences appliquées", blank=True)

    class Meta:
        verbose_name = "import de liste de territoires"
        verbose_name_plural = "imports de listes de territoires"
        ordering = ["-applique_le"]

    def __str__(self):
        return f"{self.fichier} du {self.date_fichier:%d/%m/%Y} ({self.phase})"


class EnVigueurQuerySet(models.QuerySet):
    def en_vigueur(self):
        """Rows not closed by a later import."""
        return self.filter(date_sortie__isnull=True)


class CompositionTerritoire(models.Model):
    """An EPCI member of a territory for a phase (whole, or partly: see `partielle`)."""

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
    partielle = models.BooleanField(
        "EPCI en partie seulement",
        default=False,
        help_text="Seules certaines communes de l'intercommunalité sont dans le territoire.",
    )
    date_entree = models.DateField("entrée", null=True, blank=True)
    date_sortie = models.DateField("sortie", null=True, blank=True)
    import_entree = models.ForeignKey(
        ImportTerritoires,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="import d'entrée",
    )
    import_sortie = models.ForeignKey(
        ImportTerritoires,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="import de sortie",
    )

    objects = EnVigueurQuerySet.as_manager()

    class Meta:
        verbose_name = "composition (EPCI membre)"
        verbose_name_plural = "composition (EPCI membres)"
        ordering = ["phase__date_debut", "epci__nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["territoire", "phase", "epci"], name="composition_unique"
            ),
            models.CheckConstraint(
                condition=Q(date_sortie__isnull=True)
                | Q(date_entree__isnull=True)
                | Q(date_sortie__gte=F("date_entree")),
                name="composition_dates_ordonnees",
            ),
        ]

    def __str__(self):
        return f"{self.epci} — {self.phase}"


class CommuneTerritoire(models.Model):
    """A commune member of a territory for a phase (the ANCT list's level)."""

    territoire = models.ForeignKey(
        Territoire,
        on_delete=models.CASCADE,
        related_name="communes_membres",
        verbose_name="territoire",
    )
    phase = models.ForeignKey(
        Phase, on_delete=models.PROTECT, related_name="communes_membres", verbose_name="phase"
    )
    commune = models.ForeignKey(
        Commune,
        on_delete=models.PROTECT,
        related_name="territoires_membres",
        verbose_name="commune",
    )
    date_entree = models.DateField("entrée", null=True, blank=True)
    date_sortie = models.DateField("sortie", null=True, blank=True)
    import_entree = models.ForeignKey(
        ImportTerritoires,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="import d'entrée",
    )
    import_sortie = models.ForeignKey(
        ImportTerritoires,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="import de sortie",
    )

    objects = EnVigueurQuerySet.as_manager()

    class Meta:
        verbose_name = "commune membre"
        verbose_name_plural = "communes membres"
        ordering = ["phase__date_debut", "commune__nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["territoire", "phase", "commune"], name="commune_territoire_unique"
            ),
            models.CheckConstraint(
                condition=Q(date_sortie__isnull=True)
                | Q(date_entree__isnull=True)
                | Q(date_sortie__gte=F("date_entree")),
                name="commune_territoire_dates_ordonnees",
            ),
        ]

    def __str__(self):
        return f"{self.commune} — {self.phase}"


class LabellisationQuerySet(models.QuerySet):
    def en_vigueur_le(self, jour):
        """Labels in force on `jour`: entered, not exited, within their phase."""
        return self.filter(date__lte=jour, phase__date_fin__gte=jour).filter(
            Q(date_sortie__isnull=True) | Q(date_sortie__gt=jour)
        )


class Labellisation(models.Model):
    """A territory's label for a phase: entry and exit dates, declared extent, successor."""

    class EtatComposition(models.TextChoices):
        COMPLETE = "complete", "Complète"
        PARTIELLE = "partielle", "Partielle"
        INCONNUE = "inconnue", "Non renseignée"

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
    date_sortie = models.DateField(
        "date de sortie",
        null=True,
        blank=True,
        help_text="Vide tant que le territoire est labellisé (jusqu'à la fin de la phase).",
    )
    departements = models.ManyToManyField(
        Departement,
        blank=True,
        related_name="labellisations",
        verbose_name="départements déclarés",
        help_text="Départements du territoire déclarés par le programme pour cette phase.",
    )
    composition = models.CharField(
        "composition connue",
        max_length=10,
        choices=EtatComposition.choices,
        default=EtatComposition.INCONNUE,
    )
    successeur = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="predecesseurs",
        verbose_name="labellisation suivante",
        help_text="Territoire qui lui succède à la phase suivante (renommé ou recomposé).",
    )
    source = models.CharField("source", max_length=255, blank=True)
    import_sortie = models.ForeignKey(
        ImportTerritoires,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="import de sortie",
    )

    objects = LabellisationQuerySet.as_manager()

    class Meta:
        verbose_name = "labellisation"
        verbose_name_plural = "labellisations"
        ordering = ["phase__date_debut"]
        constraints = [
            models.UniqueConstraint(fields=["territoire", "phase"], name="labellisation_unique"),
            models.CheckConstraint(
                condition=Q(date_sortie__isnull=True) | Q(date_sortie__gte=F("date")),
                name="labellisation_dates_ordonnees",
                violation_error_message="La date de sortie précède la date de labellisation.",
            ),
            models.CheckConstraint(
                condition=Q(composition__in=["complete", "partielle", "inconnue"]),
                name="labellisation_composition_valide",
            ),
        ]

    def __str__(self):
        return f"{self.territoire} — {self.phase}"

    def clean(self):
        if self.successeur_id and self.successeur.phase.date_debut <= self.phase.date_debut:
            raise ValidationError(
                {"successeur": "Le successeur doit être labellisé pour une phase ultérieure."}
            )

    def en_vigueur_le(self, jour) -> bool:
        return self.date <= jour <= self.phase.date_fin and (
            self.date_sortie is None or jour < self.date_sortie
        )


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
            return condition_etendue(regions=self.regions.all())
        if self.echelon == self.Echelon.DEPARTEMENT:
            return condition_etendue(departements=self.departements.all())
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
