"""Output serializers: French field names of the models, official identifiers as keys.

Fields listed in `champs_complets` are sent only to full-access callers (a `complet`
token or an officer's session); they are documented as optional in the schema.
"""

from rest_framework import serializers

from financements.models import Aide, Dispositif, Enveloppe, NatureAide, Operateur, Versement
from projets.models import MONTANT, Projet
from territoires.models import (
    Axe,
    Binome,
    Commune,
    CompositionTerritoire,
    Departement,
    Intercommunalite,
    Labellisation,
    Phase,
    Region,
    Territoire,
)


def _montant(libelle, **kwargs):
    return serializers.DecimalField(**MONTANT, label=libelle, read_only=True, **kwargs)


def _total(libelle):
    """A sum over the programme: beyond one amount's 14 digits (200,000 dossiers reach
    10^12 €)."""
    return serializers.DecimalField(
        max_digits=18, decimal_places=MONTANT["decimal_places"], label=libelle, read_only=True
    )


class ChampsCompletsMixin:
    """Drops the full-access fields when the context says `complet=False`."""

    champs_complets: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.context.get("complet") is False:
            for nom in self.champs_complets:
                self.fields.pop(nom, None)


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "nom"]


class DepartementSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region_id", label="code INSEE de la région")

    class Meta:
        model = Departement
        fields = ["code", "nom", "region"]


class IntercommunaliteSerializer(serializers.ModelSerializer):
    departement = serializers.CharField(
        source="departement_id", label="code INSEE du département du siège"
    )
    region = serializers.CharField(
        source="departement.region_id", label="code INSEE de la région du siège"
    )

    class Meta:
        model = Intercommunalite
        fields = ["siren", "nom", "nature", "departement", "region", "population", "obsolete"]


class CommuneSerializer(serializers.ModelSerializer):
    departement = serializers.CharField(source="departement_id", label="code INSEE du département")
    epci = serializers.CharField(
        source="epci_id", allow_null=True, label="SIREN de l'intercommunalité"
    )

    class Meta:
        model = Commune
        fields = ["code_insee", "nom", "departement", "epci", "population", "obsolete"]


class PhaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Phase
        fields = ["code", "nom", "date_debut", "date_fin"]


class AxeSerializer(serializers.ModelSerializer):
    identifiant = serializers.CharField(
        label="identifiant", help_text="Code de la phase et code de l'axe, ex. 2023-2027-foncier."
    )
    phase = serializers.CharField(source="phase.code", label="code de la phase")

    class Meta:
        model = Axe
        fields = ["identifiant", "phase", "code", "nom", "ordre"]


class CompositionSerializer(serializers.ModelSerializer):
    """A current member EPCI (rows closed by a later official list are left out)."""

    phase = serializers.CharField(source="phase.code", label="code de la phase")
    siren = serializers.CharField(source="epci_id", label="SIREN de l'intercommunalité")
    nom = serializers.CharField(source="epci.nom", label="nom de l'intercommunalité")
    departement = serializers.CharField(
        source="epci.departement_id", label="code INSEE du département du siège"
    )

    class Meta:
        model = CompositionTerritoire
        fields = ["phase", "siren", "nom", "departement", "partielle"]


class LabellisationSerializer(serializers.ModelSerializer):
    phase = serializers.CharField(source="phase.code", label="code de la phase")
    departements = serializers.SlugRelatedField(
        many=True,
        read_only=True,
        slug_field="code",
        label="codes INSEE des départements déclarés par le programme",
    )
    successeur = serializers.CharField(
        source="successeur.territoire.slug",
        allow_null=True,
        default=None,
        label="slug du territoire qui lui succède à la phase suivante",
    )

    class Meta:
        model = Labellisation
        fields = ["phase", "date", "date_sortie", "composition", "departements", "successeur"]


class BinomeActifSerializer(serializers.ModelSerializer):
    """The territory's binôme in office (prefetched as `binomes_actifs`), or null."""

    class Meta:
        model = Binome
        fields = [
            "elu_nom",
            "elu_mandat",
            "industriel_nom",
            "industriel_entreprise",
            "industriel_siret",
            "date_debut",
        ]

    def get_attribute(self, instance):
        actifs = instance.binomes_actifs
        return actifs[0] if actifs else None


class TerritoireSerializer(serializers.ModelSerializer):
    region_pilote = serializers.CharField(
        source="region_pilote_id", label="code INSEE de la région pilote"
    )
    labellisations = LabellisationSerializer(many=True, label="labellisations par phase")
    composition = CompositionSerializer(
        source="compositions", many=True, label="intercommunalités membres, par phase"
    )
    binome = BinomeActifSerializer(
        source="*", allow_null=True, label="binôme élu-industriel en fonction"
    )

    class Meta:
        model = Territoire
        fields = [
            "slug",
            "id_anct",
            "nom",
            "region_pilote",
            "laureat_rebond_industriel",
            "date_signature_feuille_de_route",
            "labellisations",
            "composition",
            "binome",
            "modifie_le",
        ]


CHAMPS_COMPLETS_PROJET = (
    "aide_demandee",
    "aide_totale",
    "effet_levier",
    "contact_nom",
    "contact_email",
    "contact_telephone",
    "deposant",
    "instructeur",
    "cree_le",
    "depose_le",
)
CHAMPS_COMPLETS_AIDE = ("motif_annulation", "cree_le")


class ProjetSerializer(ChampsCompletsMixin, serializers.ModelSerializer):
    territoire = serializers.CharField(source="territoire.slug", label="slug du territoire")
    phase = serializers.CharField(source="phase.code", label="code de la phase")
    axes = serializers.SerializerMethodField(label="identifiants des axes prioritaires")
    commune = serializers.CharField(
        source="commune_id", allow_null=True, label="code INSEE de la commune"
    )
    epci = serializers.CharField(
        source="commune.epci_id", allow_null=True, label="SIREN de l'intercommunalité"
    )
    departement = serializers.CharField(
        source="commune.departement_id", allow_null=True, label="code INSEE du département"
    )
    region = serializers.CharField(
        source="region_code",
        label="code INSEE de la région",
        help_text="Région du lieu du projet, à défaut région pilote du territoire.",
    )
    aide_engagee = _montant("aide publique engagée (€)")
    aide_versee = _montant("aide publique versée (€)")
    # Full access only.
    aide_demandee = serializers.DecimalField(
        **MONTANT, required=False, allow_null=True, label="aide demandée (€)"
    )
    aide_totale = serializers.DecimalField(
        **MONTANT, required=False, label="aides proposées ou engagées (€)"
    )
    effet_levier = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        label="effet de levier",
        help_text="Investissement divisé par l'aide publique engagée.",
    )
    contact_nom = serializers.CharField(required=False, label="nom du contact")
    contact_email = serializers.CharField(required=False, label="courriel du contact")
    contact_telephone = serializers.CharField(required=False, label="téléphone du contact")
    deposant = serializers.CharField(
        source="deposant.username", required=False, label="identifiant du déposant"
    )
    instructeur = serializers.CharField(
        source="instructeur.username",
        required=False,
        allow_null=True,
        label="identifiant de l'instructeur",
    )
    cree_le = serializers.DateTimeField(required=False, label="créé le")
    depose_le = serializers.DateTimeField(required=False, allow_null=True, label="déposé le")

    champs_complets = CHAMPS_COMPLETS_PROJET

    class Meta:
        model = Projet
        fields = [
            "reference",
            "titre",
            "description",
            "statut",
            "territoire",
            "phase",
            "axes",
            "nature",
            "porteur_raison_sociale",
            "porteur_siret",
            "porteur_taille",
            "commune",
            "epci",
            "departement",
            "region",
            "montant_investissement",
            "emplois_crees",
            "emplois_maintenus",
            "co2_evite",
            "zone_qpv",
            "zone_zrr",
            "zone_frr",
            "zone_afr",
            "zone_acv",
            "date_zonage",
            "date_debut_prevue",
            "date_fin_prevue",
            "decide_le",
            "modifie_le",
            "aide_engagee",
            "aide_versee",
            *CHAMPS_COMPLETS_PROJET,
        ]

    def get_axes(self, projet) -> list[str]:
        return [axe.identifiant for axe in projet.axes.all()]


class OperateurSerializer(serializers.ModelSerializer):
    class Meta:
        model = Operateur
        fields = ["nom", "sigle", "type", "siret"]


class DispositifSerializer(serializers.ModelSerializer):
    operateur = OperateurSerializer(label="opérateur")
    phase = serializers.CharField(source="phase.code", allow_null=True, label="code de la phase")
    natures = serializers.ListField(
        child=serializers.ChoiceField(choices=NatureAide.choices),
        label="natures d'aide autorisées",
    )
    montant_alloue = _total("montant alloué aux enveloppes régionales (€)")
    # Open data: aid of public dossiers only (Aide.objects.publiques), like every figure.
    montant_engage = _total("montant engagé sur les dossiers publics (€)")
    montant_verse = _total("montant versé sur les dossiers publics (€)")

    class Meta:
        model = Dispositif
        fields = [
            "code",
            "nom",
            "description",
            "operateur",
            "phase",
            "natures",
            "montant_national",
            "date_debut",
            "date_fin",
            "id_dispositif_scdl",
            "notification_ue",
            "montant_alloue",
            "montant_engage",
            "montant_verse",
        ]


class EnveloppeSerializer(serializers.ModelSerializer):
    identifiant = serializers.CharField(
        label="identifiant",
        help_text="Code du dispositif, code de la région et année, ex. fonds-acceleration-84-2026.",
    )
    dispositif = serializers.CharField(source="dispositif.code", label="code du dispositif")
    operateur = serializers.CharField(source="dispositif.operateur.nom", label="opérateur")
    region = serializers.CharField(source="region_id", label="code INSEE de la région")
    montant_propose = _montant("aides proposées (€)")
    montant_engage = _montant("aides engagées (€)")
    montant_conventionne = _montant("aides conventionnées ou soldées (€)")
    montant_verse = _montant("montant versé (€)")
    montant_disponible = _montant("montant disponible (€)")
    taux_consommation = serializers.DecimalField(
        max_digits=7,
        decimal_places=1,
        read_only=True,
        allow_null=True,
        label="taux de consommation (%)",
        help_text="Part engagée du montant de l'enveloppe, en pourcentage.",
    )

    class Meta:
        model = Enveloppe
        fields = [
            "identifiant",
            "dispositif",
            "operateur",
            "region",
            "annee",
            "montant",
            "montant_propose",
            "montant_engage",
            "montant_conventionne",
            "montant_verse",
            "montant_disponible",
            "taux_consommation",
            "modifie_le",
        ]


class AideSerializer(ChampsCompletsMixin, serializers.ModelSerializer):
    identifiant = serializers.UUIDField(source="uuid", label="identifiant public de l'aide")
    projet = serializers.CharField(source="projet.reference", label="référence du dossier")
    enveloppe = serializers.CharField(
        source="enveloppe_identifiant", label="identifiant de l'enveloppe"
    )
    dispositif = serializers.CharField(
        source="enveloppe.dispositif.code", label="code du dispositif"
    )
    operateur = serializers.CharField(
        source="enveloppe.dispositif.operateur.nom", label="opérateur attribuant"
    )
    region = serializers.CharField(
        source="enveloppe.region_id", label="code INSEE de la région de l'enveloppe"
    )
    montant_verse = _montant("montant versé (€)")
    motif_annulation = serializers.CharField(required=False, label="motif d'annulation")
    cree_le = serializers.DateTimeField(required=False, label="créée le")

    champs_complets = CHAMPS_COMPLETS_AIDE

    class Meta:
        model = Aide
        fields = [
            "identifiant",
            "projet",
            "enveloppe",
            "dispositif",
            "operateur",
            "region",
            "montant",
            "nature",
            "statut",
            "reference_decision",
            "date_decision",
            "date_convention",
            "montant_verse",
            "modifie_le",
            *CHAMPS_COMPLETS_AIDE,
        ]


class VersementSerializer(serializers.ModelSerializer):
    identifiant = serializers.UUIDField(source="uuid", label="identifiant public du versement")
    aide = serializers.UUIDField(source="aide.uuid", label="identifiant de l'aide")
    projet = serializers.CharField(source="aide.projet.reference", label="référence du dossier")

    class Meta:
        model = Versement
        fields = ["identifiant", "aide", "projet", "montant", "date", "reference", "cree_le"]


class ErreurSerializer(serializers.Serializer):
    code = serializers.CharField(label="code de l'erreur")
    detail = serializers.CharField(label="message en français")
    erreurs = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        label="erreurs par paramètre",
    )


class ChiffresSerializer(serializers.Serializer):
    nombre_projets = serializers.IntegerField(label="dossiers retenus, en cours ou réalisés")
    investissement = _total("investissement des dossiers (€)")
    emplois_crees = serializers.IntegerField(label="emplois créés")
    emplois_maintenus = serializers.IntegerField(label="emplois maintenus")
    aide_engagee = _total("aide publique engagée (€)")
    aide_signee = _total(
        "aide publique signée (€) : sous convention (conventionnée, soldée, résiliée)"
    )
    aide_versee = _total("aide publique versée (€)")
    part_zone_fragile = serializers.FloatField(
        label="part des projets soutenus en zone fragile (%) : QPV, ZRR puis FRR, AFR, "
        "Action cœur de ville",
        allow_null=True,
    )


class ChiffresProgrammeSerializer(ChiffresSerializer):
    nombre_territoires = serializers.IntegerField(label="territoires d'industrie")


class ChiffresPhaseSerializer(ChiffresProgrammeSerializer):
    phase = serializers.CharField(label="code de la phase")
    nom = serializers.CharField(label="nom de la phase")


class ChiffresRegionSerializer(ChiffresProgrammeSerializer):
    region = serializers.CharField(label="code INSEE de la région")
    nom = serializers.CharField(label="nom de la région")


class ChiffresTerritoireSerializer(ChiffresSerializer):
    territoire = serializers.CharField(label="slug du territoire")
    nom = serializers.CharField(label="nom du territoire")
    region_pilote = serializers.CharField(label="code INSEE de la région pilote")


class ChiffresDispositifSerializer(ChiffresSerializer):
    dispositif = serializers.CharField(label="code du dispositif")
    nom = serializers.CharField(label="nom du dispositif")
    phase = serializers.CharField(label="phase financée", allow_null=True)


class ChiffresAxeSerializer(ChiffresSerializer):
    axe = serializers.CharField(label="identifiant de l'axe")
    nom = serializers.CharField(label="intitulé de l'axe")


class StatistiquesSerializer(serializers.Serializer):
    genere_le = serializers.DateTimeField(label="date de calcul")
    definition_region = serializers.CharField(label="sens de « région » dans ces chiffres")
    programme = ChiffresProgrammeSerializer(label="chiffres du programme")
    par_phase = ChiffresPhaseSerializer(many=True, label="chiffres par phase")
    par_dispositif = ChiffresDispositifSerializer(
        many=True, label="chiffres par dispositif (dossiers aidés par le dispositif)"
    )
    par_region = ChiffresRegionSerializer(
        many=True, label="chiffres par région (région du dossier ; territoires pilotés)"
    )
    par_territoire = ChiffresTerritoireSerializer(many=True, label="chiffres par territoire")
    par_axe = ChiffresAxeSerializer(
        many=True, label="chiffres par axe (un dossier compte dans chacun de ses axes)"
    )
