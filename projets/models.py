"""Project dossiers (« fiches projet »), their lifecycle trail, attachments and exchanges.

The `statut` field is written by `projets.services` only.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from simple_history.models import HistoricalRecords

from commun.recherche import Recherche, RechercheQuerySet
from territoires.models import Axe, Commune, Phase, Region, Territoire, parmi
from territoires.validators import REGEX_SIRET, valider_siret

MONTANT = {"max_digits": 14, "decimal_places": 2}


class Statut(models.TextChoices):
    BROUILLON = "brouillon", "Brouillon"
    DEPOSE = "depose", "Déposé"
    EN_INSTRUCTION = "en_instruction", "En instruction"
    A_COMPLETER = "a_completer", "À compléter"
    RETENU = "retenu", "Retenu"
    REFUSE = "refuse", "Refusé"
    SANS_SUITE = "sans_suite", "Classé sans suite"
    EN_COURS = "en_cours", "En cours de réalisation"
    REALISE = "realise", "Réalisé"
    ABANDONNE = "abandonne", "Abandonné"


# Labels shown to territory leads where they differ from the officers' ones.
LIBELLES_PORTEUR = {
    Statut.DEPOSE: "Déposé — en attente de prise en charge",
    Statut.EN_INSTRUCTION: "En cours d'examen",
    Statut.A_COMPLETER: "Compléments demandés",
    Statut.REFUSE: "Non retenu",
}
STATUTS_FINAUX = frozenset({Statut.REFUSE, Statut.SANS_SUITE, Statut.REALISE, Statut.ABANDONNE})
STATUTS_PUBLICS = frozenset({Statut.RETENU, Statut.EN_COURS, Statut.REALISE})
STATUTS_MODIFIABLES_PORTEUR = frozenset({Statut.BROUILLON, Statut.A_COMPLETER})


def expression_region(chemin: str = ""):
    """The dossier's région code as a database expression (`chemin` leads to the dossier)."""
    return Coalesce(
        F(f"{chemin}commune__departement__region"), F(f"{chemin}territoire__region_pilote")
    )


class ProjetQuerySet(RechercheQuerySet):
    # What the one search reads (commun.recherche); the GIN indexes of migration
    # projets/0003 hold the vector of the own columns, in this order.
    recherche = Recherche(
        champs={
            "reference": "A",
            "titre": "A",
            "porteur_raison_sociale": "B",
            "description": "C",
            "commune__nom": "B",
            "commune__epci__nom": "C",
            "territoire__nom": "C",
        },
        similarite=("titre", "porteur_raison_sociale"),
        identifiants={
            "reference": "reference",
            "siret": "porteur_siret",
            "siren": ("porteur_siret__startswith", "commune__epci_id"),
            "insee": "commune_id",
        },
    )

    def visibles_par(self, user):
        return parmi(self, "territoire", Territoire.objects.visibles_par(user))

    def publics(self):
        """Open data: retained dossiers and later."""
        return self.filter(statut__in=STATUTS_PUBLICS)

    def pour_liste(self):
        return self.select_related(
            "territoire", "territoire__region_pilote", "commune", "commune__departement"
        )

    def avec_axes(self):
        return self.prefetch_related(
            models.Prefetch("axes", queryset=Axe.objects.avec_identifiant())
        )

    def avec_region(self):
        """`region_code`: where the dossier is located, else its territory's pilot région
        (the `Projet.region` rule, computed by the database)."""
        return self.annotate(region_code=expression_region())


class Projet(models.Model):
    class Nature(models.TextChoices):
        CREATION = "creation", "Création de site"
        EXTENSION = "extension", "Extension de site"
        MODERNISATION = "modernisation", "Modernisation"
        EQUIPEMENT = "equipement", "Équipement productif"
        DECARBONATION = "decarbonation", "Décarbonation"
        FORMATION = "formation", "Formation et compétences"
        FONCIER = "foncier", "Foncier industriel"
        INGENIERIE = "ingenierie", "Ingénierie et études"
        AUTRE = "autre", "Autre"

    class Taille(models.TextChoices):
        PME = "PME", "Petite ou moyenne entreprise (PME)"
        ETI = "ETI", "Entreprise de taille intermédiaire (ETI)"
        GE = "GE", "Grande entreprise (GE)"

    reference = models.CharField("référence", max_length=20, unique=True, editable=False)
    titre = models.CharField("intitulé du projet", max_length=200)
    description = models.TextField("description", blank=True)
    territoire = models.ForeignKey(
        Territoire, on_delete=models.PROTECT, related_name="projets", verbose_name="territoire"
    )
    phase = models.ForeignKey(
        Phase, on_delete=models.PROTECT, related_name="projets", verbose_name="phase"
    )
    axes = models.ManyToManyField(Axe, blank=True, related_name="projets", verbose_name="axes")
    nature = models.CharField("nature", max_length=20, choices=Nature.choices, blank=True)

    porteur_raison_sociale = models.CharField(
        "raison sociale du porteur", max_length=200, blank=True
    )
    porteur_siret = models.CharField(
        "SIRET du porteur", max_length=14, blank=True, validators=[valider_siret]
    )
    porteur_taille = models.CharField(
        "taille de l'entreprise", max_length=3, choices=Taille.choices, blank=True
    )
    contact_nom = models.CharField("nom du contact", max_length=150, blank=True)
    contact_email = models.EmailField("courriel du contact", blank=True)
    contact_telephone = models.CharField("téléphone du contact", max_length=20, blank=True)

    commune = models.ForeignKey(
        Commune,
        on_delete=models.PROTECT,
        related_name="projets",
        verbose_name="commune",
        null=True,
        blank=True,
    )

    montant_investissement = models.DecimalField(
        "investissement prévu (€)", **MONTANT, null=True, blank=True
    )
    aide_demandee = models.DecimalField("aide demandée (€)", **MONTANT, null=True, blank=True)
    emplois_crees = models.PositiveIntegerField("emplois créés", null=True, blank=True)
    emplois_maintenus = models.PositiveIntegerField("emplois maintenus", null=True, blank=True)
    co2_evite = models.DecimalField(
        "CO₂ évité (t/an)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    zone_qpv = models.BooleanField("quartier prioritaire de la ville (QPV)", default=False)
    zone_zrr = models.BooleanField("zone de revitalisation rurale (ZRR)", default=False)
    zone_afr = models.BooleanField("zone d'aide à finalité régionale (AFR)", default=False)
    zone_acv = models.BooleanField("Action cœur de ville (ACV)", default=False)
    date_debut_prevue = models.DateField("début prévu", null=True, blank=True)
    date_fin_prevue = models.DateField("fin prévue", null=True, blank=True)

    statut = models.CharField(
        "statut",
        max_length=20,
        choices=Statut.choices,
        default=Statut.BROUILLON,
        editable=False,
        db_index=True,
    )
    deposant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="projets_deposes",
        verbose_name="déposant",
    )
    instructeur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="projets_instruits",
        verbose_name="instructeur",
        null=True,
        blank=True,
    )
    cree_le = models.DateTimeField("créé le", auto_now_add=True)
    depose_le = models.DateTimeField("déposé le", null=True, blank=True, editable=False)
    decide_le = models.DateTimeField("décidé le", null=True, blank=True, editable=False)
    modifie_le = models.DateTimeField("modifié le", auto_now=True, db_index=True)

    objects = ProjetQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "dossier de projet"
        verbose_name_plural = "dossiers de projet"
        ordering = ["-cree_le"]
        indexes = [
            models.Index(fields=["territoire", "statut"], name="projet_territoire_statut"),
            # Default ordering: lets a LIMIT-ed page read the index instead of sorting all.
            models.Index(fields=["-cree_le"], name="projet_cree_le"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(montant_investissement__gte=0),
                name="projet_investissement_positif",
                violation_error_message="Le montant d'investissement ne peut pas être négatif.",
            ),
            models.CheckConstraint(
                condition=Q(aide_demandee__gte=0),
                name="projet_aide_demandee_positive",
                violation_error_message="L'aide demandée ne peut pas être négative.",
            ),
            models.CheckConstraint(
                condition=Q(aide_demandee__isnull=True)
                | Q(montant_investissement__isnull=True)
                | Q(aide_demandee__lte=F("montant_investissement")),
                name="projet_aide_inferieure_investissement",
                violation_error_message="L'aide demandée ne peut pas dépasser "
                "le montant de l'investissement.",
            ),
            models.CheckConstraint(
                condition=Q(co2_evite__gte=0),
                name="projet_co2_positif",
                violation_error_message="Le CO₂ évité ne peut pas être négatif.",
            ),
            models.CheckConstraint(
                condition=Q(date_fin_prevue__isnull=True)
                | Q(date_debut_prevue__isnull=True)
                | Q(date_fin_prevue__gte=F("date_debut_prevue")),
                name="projet_dates_ordonnees",
                violation_error_message="La date de fin prévue précède la date de début.",
            ),
            models.CheckConstraint(
                condition=Q(porteur_siret="") | Q(porteur_siret__regex=REGEX_SIRET),
                name="projet_siret_format",
            ),
            models.CheckConstraint(
                condition=Q(
                    statut__in=[
                        "brouillon",
                        "depose",
                        "en_instruction",
                        "a_completer",
                        "retenu",
                        "refuse",
                        "sans_suite",
                        "en_cours",
                        "realise",
                        "abandonne",
                    ]
                ),
                name="projet_statut_valide",
            ),
        ]

    def __str__(self):
        return f"{self.reference} — {self.titre}"

    @property
    def epci(self):
        return self.commune.epci if self.commune_id else None

    @property
    def region(self) -> Region:
        """The dossier's région: where it is located, else its territory's pilot région."""
        if self.commune_id:
            return self.commune.departement.region
        return self.territoire.region_pilote

    @property
    def libelle_statut_porteur(self) -> str:
        return LIBELLES_PORTEUR.get(self.statut, self.get_statut_display())

    @property
    def est_modifiable_par_porteur(self) -> bool:
        return self.statut in STATUTS_MODIFIABLES_PORTEUR

    @property
    def est_final(self) -> bool:
        return self.statut in STATUTS_FINAUX


class CompteurReference(models.Model):
    """Per région and year sequence behind dossier references; never goes back."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT)
    annee = models.PositiveSmallIntegerField()
    dernier = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "compteur de références"
        constraints = [
            models.UniqueConstraint(fields=["region", "annee"], name="compteur_unique"),
        ]

    def __str__(self):
        return f"TI-{self.region_id}-{self.annee} : {self.dernier}"


class TransitionProjet(models.Model):
    projet = models.ForeignKey(
        Projet, on_delete=models.PROTECT, related_name="transitions", verbose_name="dossier"
    )
    statut_avant = models.CharField("de", max_length=20, choices=Statut.choices)
    statut_apres = models.CharField("vers", max_length=20, choices=Statut.choices)
    auteur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="auteur",
    )
    date = models.DateTimeField("date", auto_now_add=True, db_index=True)
    commentaire = models.TextField("commentaire", blank=True)

    class Meta:
        verbose_name = "changement de statut"
        verbose_name_plural = "changements de statut"
        ordering = ["date", "pk"]

    def __str__(self):
        return f"{self.projet.reference} : {self.statut_avant} → {self.statut_apres}"


def chemin_piece_jointe(instance, filename):
    # Never the uploaded name: a random, non-guessable one.
    return f"pieces-jointes/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}"


class DuProjetQuerySet(models.QuerySet):
    """Rows that belong to a dossier are seen with their dossier."""

    def visibles_par(self, user):
        return parmi(self, "projet", Projet.objects.visibles_par(user))


class PieceJointe(models.Model):
    class Type(models.TextChoices):
        DEVIS = "devis", "Devis"
        PLAN_FINANCEMENT = "plan_financement", "Plan de financement"
        KBIS = "kbis", "Extrait Kbis"
        DELIBERATION = "deliberation", "Délibération"
        AUTRE = "autre", "Autre"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    projet = models.ForeignKey(
        Projet, on_delete=models.PROTECT, related_name="pieces_jointes", verbose_name="dossier"
    )
    type = models.CharField("type de pièce", max_length=20, choices=Type.choices)
    fichier = models.FileField("fichier", upload_to=chemin_piece_jointe, max_length=200)
    nom_original = models.CharField("nom du fichier", max_length=200)
    type_mime = models.CharField("format", max_length=100)
    taille = models.PositiveIntegerField("taille (octets)")
    depose_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="déposée par",
    )
    depose_le = models.DateTimeField("déposée le", auto_now_add=True)

    objects = DuProjetQuerySet.as_manager()

    class Meta:
        verbose_name = "pièce jointe"
        verbose_name_plural = "pièces jointes"
        ordering = ["depose_le", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(taille__gt=0), name="piece_jointe_non_vide"),
        ]

    def __str__(self):
        return f"{self.get_type_display()} — {self.nom_original}"


class Message(models.Model):
    projet = models.ForeignKey(
        Projet, on_delete=models.PROTECT, related_name="messages", verbose_name="dossier"
    )
    auteur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="auteur",
    )
    texte = models.TextField("message")
    demande_complements = models.BooleanField("demande de compléments", default=False)
    envoye_le = models.DateTimeField("envoyé le", auto_now_add=True)

    objects = DuProjetQuerySet.as_manager()

    class Meta:
        verbose_name = "message"
        verbose_name_plural = "messages"
        ordering = ["envoye_le", "pk"]

    def __str__(self):
        return f"Message de {self.auteur} ({self.envoye_le:%d/%m/%Y})"


class RevueQuerySet(models.QuerySet):
    def visibles_par(self, user):
        from territoires.perimetre import regions_visibles

        return self.filter(region__in=regions_visibles(user))


class RevueRegionale(models.Model):
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="revues", verbose_name="région"
    )
    date = models.DateField("date")
    intitule = models.CharField("intitulé", max_length=200, blank=True)
    projets = models.ManyToManyField(
        Projet, through="AvisRevue", related_name="revues", verbose_name="dossiers examinés"
    )

    objects = RevueQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "revue régionale d'accélération"
        verbose_name_plural = "revues régionales d'accélération"
        ordering = ["-date"]

    def __str__(self):
        return self.intitule or f"Revue régionale {self.region} du {self.date:%d/%m/%Y}"


class AvisRevue(models.Model):
    class Avis(models.TextChoices):
        FAVORABLE = "favorable", "Favorable"
        DEFAVORABLE = "defavorable", "Défavorable"
        AJOURNE = "ajourne", "Ajourné"

    revue = models.ForeignKey(
        RevueRegionale, on_delete=models.CASCADE, related_name="avis", verbose_name="revue"
    )
    projet = models.ForeignKey(
        Projet, on_delete=models.PROTECT, related_name="avis_revues", verbose_name="dossier"
    )
    avis = models.CharField("avis", max_length=12, choices=Avis.choices)
    commentaire = models.TextField("commentaire", blank=True)

    class Meta:
        verbose_name = "avis de revue"
        verbose_name_plural = "avis de revue"
        constraints = [
            models.UniqueConstraint(fields=["revue", "projet"], name="avis_revue_unique"),
        ]

    def __str__(self):
        return f"{self.projet.reference} : {self.get_avis_display()}"
