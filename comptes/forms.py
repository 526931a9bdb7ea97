from django import forms
from django.contrib.auth import password_validation

from commun.formulaires import FormulaireDsfr
from territoires import perimetre
from territoires.models import Departement, Habilitation, Territoire

from .services import ROLES_INVITABLES, Perimetre


class PerimetreForm(FormulaireDsfr):
    """The perimeter to grant; choices limited to the administrator's own perimeter (the
    service checks again)."""

    role = forms.ChoiceField(label="Rôle", choices=[(r.value, r.label) for r in ROLES_INVITABLES])
    echelon = forms.ChoiceField(label="Échelon", choices=Habilitation.Echelon.choices)
    niveau = forms.TypedChoiceField(label="Niveau", choices=Habilitation.Niveau.choices, coerce=int)
    organisation = forms.CharField(label="Organisation", max_length=200, required=False)
    regions = forms.ModelMultipleChoiceField(
        label="Régions", queryset=None, required=False, help_text="Pour l'échelon « Régions »."
    )
    departements = forms.ModelMultipleChoiceField(
        label="Départements",
        queryset=None,
        required=False,
        help_text="Pour l'échelon « Départements ».",
    )
    territoires = forms.ModelMultipleChoiceField(
        label="Territoires",
        queryset=None,
        required=False,
        help_text="Pour l'échelon « Territoires » (obligatoire pour un porteur).",
    )

    def __init__(self, *args, par, **kwargs):
        super().__init__(*args, **kwargs)
        regions = perimetre.regions_visibles(par)
        self.fields["regions"].queryset = regions
        self.fields["departements"].queryset = Departement.objects.filter(region__in=regions)
        self.fields["territoires"].queryset = Territoire.objects.visibles_par(par).order_by("nom")

    def perimetre(self) -> Perimetre:
        d = self.cleaned_data
        return Perimetre(
            role=d["role"],
            echelon=d["echelon"],
            niveau=d["niveau"],
            organisation=d["organisation"],
            regions=list(d["regions"]),
            departements=list(d["departements"]),
            territoires=list(d["territoires"]),
        )


class InvitationForm(PerimetreForm):
    email = forms.EmailField(label="Courriel de la personne invitée")
    field_order = ["email"]


class MotDePasseInvitationForm(FormulaireDsfr):
    mot_de_passe = forms.CharField(
        label="Mot de passe",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
        strip=False,
    )
    confirmation = forms.CharField(
        label="Confirmation du mot de passe",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )

    def clean(self):
        d = super().clean()
        if d.get("mot_de_passe") and d.get("mot_de_passe") != d.get("confirmation"):
            self.add_error("confirmation", "Les deux mots de passe ne correspondent pas.")
        return d
