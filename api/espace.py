"""The partner space's webhook pages (`/espace-partenaire/webhooks/…`, portal look):
a partner registers, changes, re-keys and deletes the subscriptions of its own tokens
(404 for any other). They live in `api` (the door that owns webhooks) and are wired
under the portal's address by config/urls.py; writes go through `api.services`."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from commun.formulaires import FormulaireDsfr
from territoires.models import Habilitation
from territoires.perimetre import habilitation_de

from . import services
from .models import EVENEMENTS_WEBHOOK, RESSOURCES_WEBHOOK, AbonnementWebhook

LIBELLES_RESSOURCES = {
    "projet": "Dossiers",
    "aide": "Aides",
    "versement": "Versements",
    "enveloppe": "Enveloppes",
}
LIBELLES_EVENEMENTS = {
    "creation": "création",
    "modification": "modification",
    "sortie": "sortie des données visibles",
    "annulation": "annulation",
}


def libelle_evenement(code: str) -> str:
    ressource, _, evenement = code.partition(".")
    libelle = LIBELLES_EVENEMENTS.get(evenement, evenement)
    return f"{LIBELLES_RESSOURCES.get(ressource, ressource)} : {libelle}"


CHOIX_LIBELLES = [
    (f"{r}.{e}", libelle_evenement(f"{r}.{e}"))
    for r in RESSOURCES_WEBHOOK
    for e in EVENEMENTS_WEBHOOK
]


class AbonnementForm(FormulaireDsfr):
    jeton = forms.ModelChoiceField(
        label="Jeton",
        queryset=None,
        empty_label=None,
        help_text="Les envois suivent la portée de ce jeton (niveau et périmètre).",
        error_messages={"invalid_choice": "Choisissez l'un de vos jetons valides."},
    )
    url = forms.URLField(
        label="Adresse de réception",
        max_length=500,
        assume_scheme="https",
        help_text="Adresse HTTPS publique, ex. https://webhooks.mon-organisation.fr/ti",
        error_messages={
            "required": "Indiquez l'adresse de réception.",
            "invalid": "Saisissez une adresse web complète (https://…).",
        },
    )
    evenements = forms.MultipleChoiceField(
        label="Événements transmis",
        choices=CHOIX_LIBELLES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choisissez au moins un événement."},
    )
    actif = forms.BooleanField(label="Abonnement actif", required=False, initial=True)

    def __init__(self, *args, user, abonnement=None, **kwargs):
        super().__init__(*args, **kwargs)
        if abonnement is None:
            self.fields["jeton"].queryset = user.jetons_api.valides().order_by("-cree_le")
        else:
            del self.fields["jeton"]


def _partenaire_requis(request):
    hab = habilitation_de(request.user)
    return bool(hab and hab.role == Habilitation.Role.PARTENAIRE)


def _abonnement_du_partenaire(request, pk: int) -> AbonnementWebhook:
    """One of the partner's own tokens' subscriptions; 404 for any other."""
    return get_object_or_404(
        AbonnementWebhook.objects.du_titulaire(request.user).select_related("jeton"), pk=pk
    )


def _ariane(actuel: str) -> dict:
    return {
        "links": [{"url": reverse("espace_partenaire"), "title": "Espace partenaire"}],
        "current": actuel,
    }


def _erreurs_vers_formulaire(form, erreur: ValidationError) -> None:
    if not hasattr(erreur, "error_dict"):
        form.add_error(None, erreur)
        return
    for champ, liste in erreur.error_dict.items():
        form.add_error(champ if champ in form.fields else None, liste)


def _secret_affiche(request, abonnement, secret: str, titre: str):
    reponse = render(
        request,
        "api/espace/secret.html",
        {
            "title": titre,
            "abonnement": abonnement,
            "secret": secret,
            "breadcrumb_data": _ariane(titre),
        },
    )
    reponse["Cache-Control"] = "no-store"
    return reponse


@login_required
@require_http_methods(["GET", "POST"])
def abonnement_nouveau(request):
    if not _partenaire_requis(request):
        return redirect("espace_partenaire")
    form = AbonnementForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            abonnement, secret = services.abonnement_creer(
                par=request.user,
                jeton=form.cleaned_data["jeton"],
                url=form.cleaned_data["url"],
                evenements=form.cleaned_data["evenements"],
                actif=form.cleaned_data["actif"],
            )
        except ValidationError as erreur:
            _erreurs_vers_formulaire(form, erreur)
        else:
            return _secret_affiche(request, abonnement, secret, "Abonnement créé")
    return render(
        request,
        "api/espace/abonnement_formulaire.html",
        {
            "title": "Nouvel abonnement webhook",
            "form": form,
            "sans_jeton": not form.fields["jeton"].queryset.exists(),
            "breadcrumb_data": _ariane("Nouvel abonnement webhook"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def abonnement_modifier(request, pk: int):
    abonnement = _abonnement_du_partenaire(request, pk)
    initial = {
        "url": abonnement.url,
        "evenements": abonnement.evenements,
        "actif": abonnement.actif,
    }
    form = AbonnementForm(
        request.POST or None, initial=initial, user=request.user, abonnement=abonnement
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.abonnement_modifier(
                par=request.user,
                abonnement=abonnement,
                url=form.cleaned_data["url"],
                evenements=form.cleaned_data["evenements"],
                actif=form.cleaned_data["actif"],
            )
        except ValidationError as erreur:
            _erreurs_vers_formulaire(form, erreur)
        else:
            messages.success(request, "L'abonnement est enregistré.")
            return redirect("espace_partenaire")
    return render(
        request,
        "api/espace/abonnement_formulaire.html",
        {
            "title": "Modifier l'abonnement webhook",
            "form": form,
            "abonnement": abonnement,
            "livraisons": abonnement.livraisons.order_by("-cree_le", "-pk")[:20],
            "breadcrumb_data": _ariane("Modifier l'abonnement"),
        },
    )


@login_required
@require_POST
def abonnement_secret(request, pk: int):
    abonnement = _abonnement_du_partenaire(request, pk)
    secret = services.abonnement_renouveler_secret(par=request.user, abonnement=abonnement)
    return _secret_affiche(request, abonnement, secret, "Nouveau secret de signature")


@login_required
@require_http_methods(["GET", "POST"])
def abonnement_supprimer(request, pk: int):
    abonnement = _abonnement_du_partenaire(request, pk)
    if request.method == "POST":
        services.abonnement_supprimer(par=request.user, abonnement=abonnement)
        messages.success(request, f"L'abonnement vers {abonnement.url} est supprimé.")
        return redirect("espace_partenaire")
    return render(
        request,
        "api/espace/abonnement_supprimer.html",
        {
            "title": "Supprimer l'abonnement webhook",
            "abonnement": abonnement,
            "breadcrumb_data": _ariane("Supprimer l'abonnement"),
        },
    )


urlpatterns = [
    path("nouveau/", abonnement_nouveau, name="webhook_nouveau"),
    path("<int:pk>/", abonnement_modifier, name="webhook_modifier"),
    path("<int:pk>/secret/", abonnement_secret, name="webhook_secret"),
    path("<int:pk>/supprimer/", abonnement_supprimer, name="webhook_supprimer"),
]
