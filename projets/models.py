"""Project dossiers (« fiches projet »), their lifecycle trail, attachments and exchanges.

The `statut` field is written by `projets.services` only.
"""

import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from simple_history.models import HistoricalRecords

from commun.formats import date_fr
from commun.recherche import Recherche, RechercheQuerySet
from territoires.models import Axe, Commune, Phase, Region, Territoire, parmi
from territoires.validators import REGEX_SIRET, valider_siret

MONTANT = {"max_digits": 14, "decimal_places": 2}


class Statut(models.TextChoices):
    """The lifecycle's statuses and their ONE set of labels, shown by every door (portal,
    back-office, API schema, exports, e-mails)."""

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


def expression_libelle_statut(champ: str = "statut"):
    """The status label as a database expression (exports write labels, not codes)."""
    return models.Case(
        *[
            models.When(**{champ: code}, then=models.Value(libelle))
            for code, libelle in Statut.choices
        ],
        default=F(champ),
        output_field=models.CharField(),
    )


STATUTS_FINAUX = frozenset({Statut.REFUSE, Statut.SANS_SUITE, Statut.REALISE, Statut.ABANDONNE})
STATUTS_PUBLICS = frozenset({Statut.RETENU, Statut.EN_COURS, Statut.REALISE})
STATUTS_MODIFIABLES_PORTEUR = frozenset({Statut.BROUILLON, Statut.A_COMPLETER})

# Rural fragile zone: ZRR until 30 June 2024, replaced by France Ruralités
# Revitalisation (FRR) from 1 July 2024. The flags are declared with the date whose
# zoning they follow (`date_zonage`); no communal list of these zonings is loaded.
DEBUT_FRR = date(2024, 7, 1)
ZONE_FRAGILE = (
    Q(zone_qpv=True) | Q(zone_zrr=True) | Q(zone_frr=True) | Q(zone_afr=True) | Q(zone_acv=True)
)


def zonage_rural_en_vigueur(jour: date) -> str:
    """`"zrr"` before 1 July 2024, `"frr"` from then on."""
    return "frr" if jour >= DEBUT_FRR else "zrr"


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
    zone_zrr = models.BooleanField(
        "zone de revitalisation rurale (ZRR)",
        default=False,
        help_text="Jusqu'au 30 juin 2024 ; remplacée par France Ruralités Revitalisation.",
    )
    zone_frr = models.BooleanField(
        "France Ruralités Revitalisation (FRR)",
        default=False,
        help_text="Depuis le 1er juillet 2024 (remplace les ZRR).",
    )
    zone_afr = models.BooleanField("zone d'aide à finalité régionale (AFR)", default=False)
    zone_acv = models.BooleanField("Action cœur de ville (ACV)", default=False)
    date_zonage = models.DateField(
        "zonages appréciés au",
        null=True,
        blank=True,
        editable=False,
        help_text="Date dont les zonages (QPV, ZRR ou FRR, AFR, ACV) ont été suivis : "
        "celle de la dernière déclaration des zones.",
    )
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
    abandon_demande_le = models.DateTimeField(
        "abandon demandé le",
        null=True,
        blank=True,
        editable=False,
        help_text="Le porteur a demandé l'abandon d'un dossier aidé : l'instructeur règle "
        "ses aides (engagement libéré, reversement) puis constate l'abandon.",
    )
    complete_le = models.DateTimeField(
        "compléments reçus le",
        null=True,
        blank=True,
        editable=False,
        help_text="Le porteur a renvoyé le dossier complété ; effacé à la décision suivante "
        "de l'instructeur.",
    )
    modifie_le = models.DateTimeField("modifié le", auto_now=True, db_index=True)
    atteste_le = models.DateTimeField(
        "attestation sur l'honneur le", null=True, blank=True, editable=False
    )
    atteste_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="attestation sur l'honneur par",
        null=True,
        blank=True,
        editable=False,
    )

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
                condition=Q(zone_zrr=False)
                | Q(date_zonage__isnull=True)
                | Q(date_zonage__lt=DEBUT_FRR),
                name="projet_zrr_avant_frr",
                violation_error_message="Les zones de revitalisation rurale (ZRR) sont "
                "remplacées depuis le 1er juillet 2024 par France Ruralités Revitalisation "
                "(FRR) : indiquez FRR.",
            ),
            models.CheckConstraint(
                condition=Q(zone_frr=False)
                | Q(date_zonage__isnull=True)
                | Q(date_zonage__gte=DEBUT_FRR),
                name="projet_frr_depuis_juillet_2024",
                violation_error_message="Le zonage France Ruralités Revitalisation (FRR) "
                "n'existe que depuis le 1er juillet 2024 : avant, indiquez ZRR.",
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
    def zonage_rural(self) -> str:
        """The rural zoning the dossier follows: `"zrr"` or `"frr"` (by `date_zonage`,
        else its creation date)."""
        jour = self.date_zonage or (self.cree_le.date() if self.cree_le else date.today())
        return zonage_rural_en_vigueur(jour)

    @property
    def zones_fragiles(self) -> list[str]:
        """Labels of the fragile zones declared for the dossier."""
        zones = [
            ("QPV", self.zone_qpv),
            ("ZRR", self.zone_zrr),
            ("FRR", self.zone_frr),
            ("AFR", self.zone_afr),
            ("Action cœur de ville", self.zone_acv),
        ]
        return [libelle for libelle, oui in zones if oui]

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
        return (
            f"{self.projet.reference} : {self.get_statut_avant_display()} → "
            f"{self.get_statut_apres_display()}"
        )


def chemin_piece_jointe(instance, filename):
    # Never the uploaded name: a random, non-guessable one.
    return f"pieces-jointes/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}"


ATTESTATION = (
    "J'atteste sur l'honneur l'exactitude des informations fournies dans ce dossier "
    "et dans ses pièces jointes."
)


class DuProjetQuerySet(models.QuerySet):
    """Rows that belong to a dossier are seen with their dossier."""

    def visibles_par(self, user):
        return parmi(self, "projet", Projet.objects.visibles_par(user))


class PieceJointeQuerySet(DuProjetQuerySet):
    def telechargeables_par(self, user):
        """Attachments `user` may download: of dossiers in the perimeter, for leads and
        officers only (territoires.perimetre.peut_telecharger_pieces)."""
        from territoires.perimetre import peut_telecharger_pieces

        if not peut_telecharger_pieces(user):
            return self.none()
        return self.visibles_par(user)

    def actives(self):
        """The dossier's current attachments: neither withdrawn nor replaced."""
        return self.filter(retiree_le__isnull=True)

    def du_dossier(self):
        """Attachments of the dossier itself, not those sent with a message."""
        return self.filter(message__isnull=True)


# What a person calls the detected content type (never the raw MIME type on screen).
FORMATS_LISIBLES = {
    "application/pdf": "document PDF",
    "image/png": "image PNG",
    "image/jpeg": "image JPEG",
    "application/vnd.oasis.opendocument.text": "texte OpenDocument (ODT)",
    "application/vnd.oasis.opendocument.spreadsheet": "tableur OpenDocument (ODS)",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "document Word",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "classeur Excel",
}


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
    message = models.ForeignKey(
        "Message",
        on_delete=models.PROTECT,
        related_name="pieces_jointes",
        verbose_name="jointe au message",
        null=True,
        blank=True,
    )
    # Withdrawn or replaced attachments stay (file and row): the dossier's history.
    retiree_le = models.DateTimeField("retirée le", null=True, blank=True, editable=False)
    retiree_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="retirée par",
        null=True,
        blank=True,
        editable=False,
    )
    remplacee_par = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        related_name="remplace",
        verbose_name="remplacée par",
        null=True,
        blank=True,
        editable=False,
    )

    objects = PieceJointeQuerySet.as_manager()

    class Meta:
        verbose_name = "pièce jointe"
        verbose_name_plural = "pièces jointes"
        ordering = ["depose_le", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(taille__gt=0), name="piece_jointe_non_vide"),
            models.CheckConstraint(
                condition=Q(remplacee_par__isnull=True) | Q(retiree_le__isnull=False),
                name="piece_jointe_remplacee_retiree",
                violation_error_message="Une pièce remplacée est aussi retirée.",
            ),
        ]

    def __str__(self):
        return f"{self.get_type_display()} — {self.nom_original}"

    @property
    def format_lisible(self) -> str:
        return FORMATS_LISIBLES.get(self.type_mime, "fichier")

    @property
    def est_retiree(self) -> bool:
        return self.retiree_le is not None


class MessageQuerySet(DuProjetQuerySet):
    def non_lus_par(self, user):
        """Messages of the other side that `user`'s side has not opened yet (leads read the
        officers' messages, officers the leads')."""
        from territoires.perimetre import est_porteur

        return self.visibles_par(user).filter(lu_le__isnull=True, de_porteur=not est_porteur(user))


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
    de_porteur = models.BooleanField(
        "écrit par le porteur",
        default=False,
        help_text="Sinon, par l'équipe d'instruction.",
    )
    lu_le = models.DateTimeField(
        "lu le",
        null=True,
        blank=True,
        help_text="Quand l'autre partie (porteur ou instructeur) l'a ouvert.",
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = "message"
        verbose_name_plural = "messages"
        ordering = ["envoye_le", "pk"]

    def __str__(self):
        return f"Message de {self.auteur} ({date_fr(self.envoye_le)})"


class RevueQuerySet(models.QuerySet):
    def visibles_par(self, user):
        from territoires.perimetre import regions_visibles

        return self.filter(region__in=regions_visibles(user))


class RevueRegionale(models.Model):
    """A « revue régionale d'accélération », held jointly by a Région and the préfecture
    de région: the projects it examines, its opinion on each, who sat, the minutes."""

    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="revues", verbose_name="région"
    )
    date = models.DateField("date")
    intitule = models.CharField("intitulé", max_length=200, blank=True)
    conseil_regional = models.CharField(
        "pour la Région",
        max_length=200,
        default="",
        help_text="Par exemple : Région Auvergne-Rhône-Alpes.",
    )
    prefecture_region = models.CharField(
        "pour l'État",
        max_length=200,
        default="",
        help_text="La préfecture de région (SGAR), par exemple : Préfecture de la région "
        "Auvergne-Rhône-Alpes.",
    )
    membres_presents = models.TextField(
        "membres présents", blank=True, help_text="Une personne par ligne, avec sa fonction."
    )
    proces_verbal = models.FileField(
        "procès-verbal", upload_to="revues/%Y/", blank=True, max_length=255
    )
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

    def clean(self):
        super().clean()
        if self.revue_id and self.projet_id and self.projet.region.pk != self.revue.region_id:
            from django.core.exceptions import ValidationError

            raise ValidationError(
                {
                    "projet": f"Seuls les dossiers de la région {self.revue.region} peuvent "
                    f"être inscrits à cette revue ({self.projet.reference} relève de "
                    f"{self.projet.region})."
                }
            )
