"""Portal forms: they validate input and give French messages; they never write.

Writes go through `projets.services`; views pass `cleaned_data` to them.
"""

import re

from django import forms
from django.contrib.auth import forms as auth_forms
from django.db.models import Q

from commun.formulaires import FormulaireDsfr, IdentifiantBorneMixin
from projets.fichiers import FORMATS_ACCEPTES
from projets.models import PieceJointe, Projet
from projets.services import CHAMPS_REQUIS_DEPOT
from territoires.models import Commune, Departement, Phase, Region


def champ(nom: str, **kwargs):
    """The form field of `Projet.<nom>`: label, validators and limits come from the model."""
    return Projet._meta.get_field(nom).formfield(**kwargs)


class NombreDecimalFrancais(forms.DecimalField):
    """A decimal written the French way: « 1 250 000,50 » (any spaces, comma or point)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.widget.is_localized = True  # shown with a decimal comma

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"\s", "", value).replace(",", ".")
        return super().to_python(value)


def champ_montant(nom: str):
    return champ(
        nom,
        form_class=NombreDecimalFrancais,
        min_value=0,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text="En euros, par exemple « 250000 » ou « 250 000,50 ».",
        error_messages={
            "invalid": "Saisissez un montant en euros, par exemple « 250000 ».",
            "min_value": "Le montant ne peut pas être négatif.",
        },
    )


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class SectionDossierForm(FormulaireDsfr):
    """A section of the dossier: everything is optional in a draft; the fields needed to
    submit say so in their hint."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for nom, field in self.fields.items():
            if nom in CHAMPS_REQUIS_DEPOT:
                aide = f" {field.help_text}" if field.help_text else ""
                field.help_text = f"Nécessaire au dépôt du dossier.{aide}"
            if isinstance(field, forms.TypedChoiceField):
                field.choices = [("", "— Choisir —"), *[c for c in field.choices if c[0] != ""]]
        # DsfrBaseForm already built the bound fields, which copy the help text.
        self._bound_fields_cache.clear()


# ---------------------------------------------------------------------------
# Dossier sections. Every field is optional while the dossier is a draft; the
# fields required for submission are listed by `projets.services.champs_manquants`.


class SectionPorteurForm(SectionDossierForm):
    porteur_raison_sociale = champ("porteur_raison_sociale")
    porteur_siret = champ(
        "porteur_siret",
        max_length=20,  # spaces allowed while typing, removed by clean_porteur_siret
        help_text="Quatorze chiffres, sans espace (le SIREN suivi du NIC de l'établissement).",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    porteur_taille = champ("porteur_taille")
    contact_nom = champ("contact_nom", widget=forms.TextInput(attrs={"autocomplete": "name"}))
    contact_email = champ(
        "contact_email",
        help_text="Format attendu : nom@domaine.fr",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    contact_telephone = champ(
        "contact_telephone", widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"})
    )

    def clean_porteur_siret(self):
        # Spaces are common when copying a SIRET: accept them, store the compact form.
        siret = "".join(self.cleaned_data["porteur_siret"].split())
        if siret:
            for validateur in Projet._meta.get_field("porteur_siret").validators:
                validateur(siret)
        return siret


class SectionProjetForm(SectionDossierForm):
    titre = champ("titre")
    description = champ(
        "description", widget=forms.Textarea(attrs={"rows": 6}), help_text="Objet, étapes, enjeux."
    )
    nature = champ("nature")
    axes = forms.ModelMultipleChoiceField(
        label="Axes prioritaires du programme",
        queryset=None,
        required=False,
        help_text="Nécessaire au dépôt du dossier : au moins un axe.",
        widget=forms.CheckboxSelectMultiple,
    )
    date_debut_prevue = champ("date_debut_prevue", widget=DateInput)
    date_fin_prevue = champ("date_fin_prevue", widget=DateInput)

    def __init__(self, *args, phase: Phase, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["axes"].queryset = phase.axes.all()

    def clean(self):
        donnees = super().clean()
        debut, fin = donnees.get("date_debut_prevue"), donnees.get("date_fin_prevue")
        if debut and fin and fin < debut:
            self.add_error("date_fin_prevue", "La date de fin prévue précède la date de début.")
        return donnees


class ChoixCommune(forms.ModelChoiceField):
    def label_from_instance(self, commune):
        return f"{commune.nom} ({commune.code_insee})"


class SectionLocalisationForm(SectionDossierForm):
    """The commune among the territory's communes, grouped by intercommunalité (EPCI).

    Works without JavaScript: the search field narrows the list on the server
    (« Rechercher » button); a small script narrows it while typing.
    """

    recherche_commune = forms.CharField(
        label="Rechercher une commune",
        required=False,
        help_text="Nom ou code INSEE, puis « Rechercher » pour réduire la liste.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-filtre-communes": ""}),
    )
    commune = ChoixCommune(
        label="Commune d'implantation",
        queryset=Commune.objects.none(),
        required=False,
        empty_label="— Choisir une commune —",
        help_text="Communes des intercommunalités du territoire, groupées par intercommunalité.",
    )
    zone_qpv = champ("zone_qpv")
    zone_zrr = champ("zone_zrr")
    zone_afr = champ("zone_afr")
    zone_acv = champ("zone_acv")

    def __init__(self, *args, communes, recherche: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commune"].queryset = communes
        choix = communes
        if recherche:
            filtre = Q(nom__icontains=recherche) | Q(code_insee__startswith=recherche)
            selection = self["commune"].value()
            if selection:
                filtre |= Q(pk=selection)
            choix = communes.filter(filtre)
        groupes: dict[str, list] = {}
        for commune in choix.select_related("epci").order_by("epci__nom", "nom"):
            groupes.setdefault(commune.epci.nom if commune.epci_id else "Autres", []).append(
                (commune.pk, f"{commune.nom} ({commune.code_insee})")
            )
        self.fields["commune"].choices = [("", "— Choisir une commune —"), *groupes.items()]
        self.nombre_communes = sum(len(v) for v in groupes.values())


class SectionFinancementForm(SectionDossierForm):
    montant_investissement = champ_montant("montant_investissement")
    aide_demandee = champ_montant("aide_demandee")

    def clean(self):
        donnees = super().clean()
        investissement = donnees.get("montant_investissement")
        aide = donnees.get("aide_demandee")
        if investissement is not None and aide is not None and aide > investissement:
            self.add_error(
                "aide_demandee",
                "L'aide demandée ne peut pas dépasser le montant de l'investissement.",
            )
        return donnees


class SectionImpactsForm(SectionDossierForm):
    emplois_crees = champ(
        "emplois_crees",
        min_value=0,
        error_messages={"min_value": "Le nombre d'emplois ne peut pas être négatif."},
    )
    emplois_maintenus = champ(
        "emplois_maintenus",
        min_value=0,
        error_messages={"min_value": "Le nombre d'emplois ne peut pas être négatif."},
    )
    co2_evite = champ(
        "co2_evite",
        form_class=NombreDecimalFrancais,
        min_value=0,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text="Tonnes d'équivalent CO₂ évitées par an, estimation.",
        error_messages={"min_value": "Le CO₂ évité ne peut pas être négatif."},
    )


class PieceJointeForm(FormulaireDsfr):
    type = forms.ChoiceField(label="Type de pièce", choices=PieceJointe.Type.choices)
    fichier = forms.FileField(
        label="Fichier",
        help_text=f"Formats acceptés : {FORMATS_ACCEPTES}. Taille maximale : 20 Mo.",
        error_messages={"required": "Choisissez un fichier à joindre."},
    )


SECTIONS = {
    "porteur": ("Porteur du projet", SectionPorteurForm),
    "projet": ("Projet", SectionProjetForm),
    "localisation": ("Localisation", SectionLocalisationForm),
    "financement": ("Financement", SectionFinancementForm),
    "impacts": ("Impacts", SectionImpactsForm),
    "pieces": ("Pièces jointes", None),
}


class NouveauDossierForm(FormulaireDsfr):
    territoire = forms.ModelChoiceField(label="Territoire", queryset=None, empty_label=None)
    titre = champ("titre", help_text="Vous pourrez le modifier plus tard.")

    def __init__(self, *args, territoires, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["territoire"].queryset = territoires
        if territoires.count() == 1:
            self.fields["territoire"].widget = forms.HiddenInput()
            self.fields["territoire"].initial = territoires.get().pk

    def clean(self):
        donnees = super().clean()
        # A hidden field's error is not shown next to it: say it above the form.
        if self.fields["territoire"].widget.is_hidden and "territoire" in self.errors:
            self.add_error(None, "Ce territoire ne fait pas partie de votre périmètre.")
        return donnees


class MessageForm(FormulaireDsfr):
    texte = forms.CharField(
        label="Votre message",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        error_messages={"required": "Le message est vide."},
    )


class RenvoiForm(FormulaireDsfr):
    commentaire = forms.CharField(
        label="Message à l'instructeur",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=5000,
        help_text="Précisez ce que vous avez complété ou modifié.",
    )


class AbandonForm(FormulaireDsfr):
    commentaire = forms.CharField(
        label="Motif de l'abandon",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        error_messages={"required": "Indiquez le motif de l'abandon."},
    )


# ---------------------------------------------------------------------------
# Territories list filters (public).


class FiltreTerritoiresForm(FormulaireDsfr):
    q = forms.CharField(label="Rechercher un territoire", required=False, max_length=100)
    region = forms.ModelChoiceField(
        label="Région", queryset=Region.objects.all(), required=False, empty_label="Toutes"
    )
    departement = forms.ModelChoiceField(
        label="Département",
        queryset=Departement.objects.all(),
        required=False,
        empty_label="Tous",
    )
    phase = forms.ModelChoiceField(
        label="Phase",
        queryset=Phase.objects.all(),
        required=False,
        empty_label="Toutes",
        to_field_name="code",
    )

    def filtrer(self, territoires):
        if not self.is_valid():
            return territoires
        donnees = self.cleaned_data
        if donnees["q"]:
            territoires = territoires.filter(nom__icontains=donnees["q"].strip())
        if donnees["region"]:
            region = donnees["region"]
            territoires = territoires.filter(
                Q(region_pilote=region) | Q(compositions__epci__departement__region=region)
            )
        if donnees["departement"]:
            territoires = territoires.filter(compositions__epci__departement=donnees["departement"])
        if donnees["phase"]:
            territoires = territoires.filter(compositions__phase=donnees["phase"])
        return territoires.distinct()


# ---------------------------------------------------------------------------
# Authentication forms rendered with the DSFR.


class ConnexionForm(IdentifiantBorneMixin, FormulaireDsfr, auth_forms.AuthenticationForm):
    error_messages = {
        "invalid_login": "Identifiant ou mot de passe incorrect. Les deux champs peuvent "
        "tenir compte des majuscules.",
        "inactive": "Ce compte est désactivé.",
    }


class MotDePasseOublieForm(FormulaireDsfr, auth_forms.PasswordResetForm):
    pass


class NouveauMotDePasseForm(FormulaireDsfr, auth_forms.SetPasswordForm):
    pass


class ChangementMotDePasseForm(FormulaireDsfr, auth_forms.PasswordChangeForm):
    pass
