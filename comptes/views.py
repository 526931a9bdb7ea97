"""ProConnect sign-in and logout, pending page, invitations and access requests.

Thin views: the OIDC protocol is mozilla-django-oidc's (plus comptes.proconnect), every
grant goes through comptes.services."""

import logging

import requests
from django.conf import settings
from django.contrib import admin, auth, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, SuspiciousOperation, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from territoires import perimetre
from territoires.models import Habilitation

from . import proconnect, services
from .forms import InvitationForm, MotDePasseInvitationForm, PerimetreForm
from .models import DemandeHabilitation, Invitation

logger = logging.getLogger(__name__)

MESSAGE_ECHEC = "La connexion avec ProConnect a échoué ; aucune session n'a été ouverte."


class ConnexionProConnect(OIDCAuthenticationRequestView):
    """Send the browser to ProConnect (state and nonce kept in the session)."""

    def __init__(self, *args, **kwargs):
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def get(self, request):
        if not proconnect.est_configure():
            raise Http404
        if request.GET.get("invitation") != "1":
            request.session.pop(proconnect.SESSION_INVITATION, None)
        try:
            self.OIDC_OP_AUTH_ENDPOINT = proconnect.point("authorization_endpoint")
        except (requests.RequestException, SuspiciousOperation, ValueError):
            logger.exception("ProConnect discovery failed")
            messages.error(request, "ProConnect est indisponible ; réessayez plus tard.")
            return redirect(settings.LOGIN_URL)
        self.OIDC_RP_CLIENT_ID = settings.PROCONNECT_CLIENT_ID
        return super().get(request)

    def get_extra_params(self, request):
        if settings.PROCONNECT_ACR_VALUES:
            return {"acr_values": settings.PROCONNECT_ACR_VALUES}
        return {}


class RetourProConnect(OIDCAuthenticationCallbackView):
    """ProConnect's answer: checked, then the user is signed in or refused."""

    def get(self, request):
        if not proconnect.est_configure():
            raise Http404
        try:
            reponse = super().get(request)
        except (SuspiciousOperation, requests.RequestException, ValidationError) as exc:
            logger.warning("ProConnect sign-in refused: %s", exc)
            request.erreur_proconnect = (
                exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
            )
            reponse = self.login_failure()
        request.session.pop(proconnect.SESSION_INVITATION, None)
        return reponse

    def login_failure(self):
        detail = getattr(self.request, "erreur_proconnect", "")
        if self.request.user.is_authenticated:
            auth.logout(self.request)
        messages.error(self.request, f"{MESSAGE_ECHEC} {detail}".strip())
        return HttpResponseRedirect(reverse(settings.LOGIN_URL))

    @property
    def success_url(self):
        if perimetre.habilitation_de(self.user) is None and not self.user.is_superuser:
            return reverse("comptes:en_attente")
        suivant = self.request.session.get("oidc_login_next")
        if suivant:
            return suivant
        if perimetre.est_agent(self.user):
            return reverse("admin:index")
        return reverse(settings.LOGIN_REDIRECT_URL)


def _fin_de_session_proconnect(request):
    """The end-session URL if the user came through ProConnect, else None."""
    id_token = request.session.get("oidc_id_token")
    if not id_token or not proconnect.est_configure():
        return None
    try:
        return proconnect.url_fin_de_session(request, id_token)
    except (requests.RequestException, SuspiciousOperation, ValueError):
        logger.exception("ProConnect end-session endpoint unavailable")
        return None


@require_POST
def deconnexion(request):
    """Portal logout; ends the ProConnect session too when there is one."""
    url = _fin_de_session_proconnect(request)
    if url is None:
        return auth_views.LogoutView.as_view()(request)
    auth.logout(request)
    return HttpResponseRedirect(url)


@require_POST
def deconnexion_admin(request):
    """Admin logout; ends the ProConnect session too when there is one."""
    url = _fin_de_session_proconnect(request)
    if url is None:
        return admin.site.logout(request)
    auth.logout(request)
    return HttpResponseRedirect(url)


@require_safe
@login_required
def en_attente(request):
    if perimetre.habilitation_de(request.user) is not None:
        return redirect(settings.LOGIN_REDIRECT_URL)
    demande = request.user.demandes_habilitation.order_by("-cree_le").first()
    return render(
        request,
        "comptes/en_attente.html",
        {"title": "Habilitation en attente", "demande": demande},
    )


# ---------------------------------------------------------------------------
# Invitations


def _administrateur(request):
    if not perimetre.peut_administrer(request.user):
        raise PermissionDenied


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def invitations(request):
    _administrateur(request)
    form = InvitationForm(request.POST or None, par=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.inviter(request.user, form.cleaned_data["email"], form.perimetre())
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request, f"Invitation envoyée à {form.cleaned_data['email']} (valable 7 jours)."
            )
            return redirect("comptes:invitations")
    envoyees = Invitation.objects.filter(invitee_par=request.user).prefetch_related(
        "regions", "departements", "territoires"
    )
    return render(
        request,
        "comptes/invitations.html",
        {"title": "Inviter un agent ou un porteur", "form": form, "envoyees": envoyees},
    )


@require_http_methods(["GET", "HEAD", "POST"])
def invitation(request, jeton):
    """Accept an invitation: with ProConnect, or by choosing a password."""
    invitation = services.invitation_par_jeton(jeton)
    try:
        services.verifier_invitation(invitation)
    except ValidationError as exc:
        return render(
            request,
            "comptes/invitation.html",
            {"title": "Invitation", "erreur": exc.messages[0]},
            status=410 if invitation else 404,
        )
    mot_de_passe_permis = (
        settings.CONNEXION_MOT_DE_PASSE_AGENTS or invitation.role != Habilitation.Role.AGENT
    )
    form = MotDePasseInvitationForm(request.POST or None)
    if request.method == "POST" and "proconnect" in request.POST:
        request.session[proconnect.SESSION_INVITATION] = invitation.pk
        return redirect(reverse("comptes:proconnect_connexion") + "?invitation=1")
    if request.method == "POST" and mot_de_passe_permis and form.is_valid():
        try:
            user = services.accepter_invitation(
                invitation, mot_de_passe=form.cleaned_data["mot_de_passe"]
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("mot_de_passe" if "mot de passe" in message else None, message)
        else:
            auth.login(request, user, backend="comptes.backends.MotDePasseBackend")
            messages.success(request, "Votre compte est créé. Bienvenue !")
            if perimetre.est_agent(user):
                return redirect("admin:index")
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(
        request,
        "comptes/invitation.html",
        {
            "title": "Invitation",
            "invitation": invitation,
            "form": form,
            "mot_de_passe_permis": mot_de_passe_permis,
        },
    )


# ---------------------------------------------------------------------------
# Access requests


@require_safe
@login_required
def demandes(request):
    _administrateur(request)
    return render(
        request,
        "comptes/demandes.html",
        {
            "title": "Demandes d'habilitation",
            "en_attente": services.demandes_visibles(request.user).filter(
                statut=DemandeHabilitation.Statut.EN_ATTENTE
            ),
            "traitees": services.demandes_visibles(request.user).exclude(
                statut=DemandeHabilitation.Statut.EN_ATTENTE
            )[:50],
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def demande(request, pk):
    _administrateur(request)
    demande = get_object_or_404(services.demandes_visibles(request.user), pk=pk)
    form = PerimetreForm(request.POST or None, par=request.user)
    if request.method == "POST":
        try:
            if "refuser" in request.POST:
                services.refuser_demande(demande, request.user)
                messages.success(request, f"Demande de {demande.email} refusée.")
                return redirect("comptes:demandes")
            if form.is_valid():
                services.accorder_demande(demande, request.user, form.perimetre())
                messages.success(request, f"Habilitation accordée à {demande.email}.")
                return redirect("comptes:demandes")
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
    return render(
        request,
        "comptes/demande.html",
        {"title": f"Demande de {demande.email}", "demande": demande, "form": form},
    )
