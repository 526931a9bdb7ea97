"""Login protection: the lockout page (django-axes) and TOTP two-factor authentication
(django-otp) for back-office staff.

When DOUBLE_AUTHENTIFICATION is on, every route of the project that may serve staff
data (DoubleAuthentificationMiddleware: all but a short list of public ones; the
back-office's `admin_view` checks it too) needs a second factor verified during the
session:
- a staff user without a device is sent to the enrolment page (QR code, secret, a first
  code to confirm, then ten single-use recovery codes shown once);
- a staff user with a device is sent to the code page (authenticator code or recovery
  code).
Portal users (not staff) are never asked. ProConnect sign-ins of staff are asked too:
the check is on the back-office pages, whatever the way the user signed in.
"""

import functools
import time
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import journaliser

NOMBRE_CODES_SECOURS = 10
NOM_APPLICATION = "Application d'authentification"
NOM_CODES_SECOURS = "Codes de secours"
MESSAGE_CODE_INCORRECT = (
    "Code incorrect, expiré ou déjà utilisé. Saisissez le code à 6 chiffres affiché par "
    "votre application (vérifiez que l'heure de votre téléphone est juste) ou un code de "
    "secours."
)
MESSAGE_PATIENTER = (
    "Trop de codes erronés : patientez quelques secondes avant de réessayer (le délai double "
    "à chaque erreur)."
)
MESSAGE_CODE_INCORRECT_ENROLEMENT = (
    "Code incorrect. Saisissez le code à 6 chiffres affiché par votre application après "
    "avoir scanné le QR code (vérifiez que l'heure de votre téléphone est juste)."
)


# ---------------------------------------------------------------------------
# Lockout (django-axes)


def reponse_verrouillage(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the French 429 page, in the portal's or the admin's look.

    The same page whatever the password typed: a locked pair learns nothing."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    contexte = {"title": "Connexion temporairement bloquée", "minutes": minutes}
    if request.path.startswith(reverse("admin:index")):
        contexte.update(admin.site.each_context(request))
        contexte.update(has_permission=False, is_nav_sidebar_enabled=False)
        gabarit = "admin/verrouillage.html"
    else:
        gabarit = "comptes/verrouillage.html"
    reponse = render(request, gabarit, contexte, status=429)
    reponse["Retry-After"] = str(minutes * 60)
    return reponse


# ---------------------------------------------------------------------------
# Two-factor authentication (django-otp)


def est_personnel(user) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.is_superuser))


def _est_verifie(user) -> bool:
    return bool(getattr(user, "is_verified", lambda: False)())


def double_authentification_manquante(user) -> bool:
    """True when `user` is staff and has not verified a second factor in this session
    (always False when DOUBLE_AUTHENTIFICATION is off)."""
    return bool(
        settings.DOUBLE_AUTHENTIFICATION
        and user is not None
        and est_personnel(user)
        and not _est_verifie(user)
    )


def redirection_double_authentification(request):
    """A redirect to the enrolment or code page when the signed-in staff user still
    needs a second factor for this session; None otherwise."""
    user = request.user
    if not double_authentification_manquante(user):
        return None
    nom = "comptes:double_authentification"
    if not user_has_device(user, confirmed=True):
        nom = "comptes:double_authentification_activer"
    return redirect(f"{reverse(nom)}?{urlencode({'next': request.get_full_path()})}")


# Routes a staff user who has typed only a password may still open: public pages (no
# staff data), signing in and out, the second-factor pages themselves, an invitation
# link, and the API, which reads such a session as anonymous open data (api.acces).
# Every other route of the project, present or future, asks for the second factor.
ROUTES_SANS_SECOND_FACTEUR = frozenset(
    {
        "accueil",
        "territoires",
        "territoire_detail",
        "connexion",
        "deconnexion",
        "deconnexion_admin",
        "mot_de_passe_oublie",
        "mot_de_passe_envoye",
        "mot_de_passe_nouveau",
        "mot_de_passe_reinitialise",
        "sante",
        "rapport_csp",
        "proconnect_retour",
        "comptes:proconnect_connexion",
        "comptes:double_authentification",
        "comptes:double_authentification_activer",
        "comptes:en_attente",
        "comptes:invitation",
        "admin:login",
        "admin:logout",
        "admin:jsi18n",
    }
)
ESPACES_SANS_SECOND_FACTEUR = frozenset({"api"})


def route_sans_second_facteur(resolver_match) -> bool:
    if resolver_match is None:
        return False
    if ESPACES_SANS_SECOND_FACTEUR.intersection(resolver_match.namespaces):
        return True
    return resolver_match.view_name in ROUTES_SANS_SECOND_FACTEUR


class DoubleAuthentificationMiddleware:
    """The one second-factor rule for every route that serves staff data: while
    DOUBLE_AUTHENTIFICATION is on, a staff user who has not verified a second factor in
    this session is sent to the enrolment or code page from every route but
    ROUTES_SANS_SECOND_FACTEUR (deny by default: a new route is protected without a
    word). Portal users (not staff) are never asked."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not double_authentification_manquante(getattr(request, "user", None)):
            return None
        if route_sans_second_facteur(request.resolver_match):
            return None
        return redirection_double_authentification(request)


def _suivant(request) -> str:
    suivant = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        suivant, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return suivant
    return reverse("admin:index")


def _contexte(request, **contexte):
    return {
        **admin.site.each_context(request),
        # The back-office's menus stay hidden until the second factor is verified.
        "has_permission": False,
        "is_nav_sidebar_enabled": False,
        "next": _suivant(request),
        **contexte,
    }


def _personnel_requis(vue):
    @functools.wraps(vue)
    def verifiee(request, *args, **kwargs):
        if not est_personnel(request.user):
            raise PermissionDenied
        return vue(request, *args, **kwargs)

    return login_required(verifiee, login_url="admin:login")


def qr_code_svg(texte: str) -> str:
    """An inline SVG QR code (no image file, no script), drawn by qrcode's SvgPathImage
    on a white background (readable in the admin's dark theme too)."""
    image = qrcode.make(texte, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=8)
    return image.to_string(encoding="unicode")


def secret_lisible(device: TOTPDevice) -> str:
    """The base32 secret, in groups of four, to type in by hand."""
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split()).lower()


def _nouveaux_codes_secours(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    appareil = StaticDevice.objects.create(user=user, name=NOM_CODES_SECOURS, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(NOMBRE_CODES_SECOURS)]
    StaticToken.objects.bulk_create([StaticToken(device=appareil, token=c) for c in codes])
    return codes


def _verifier(request, appareil) -> None:
    """Mark the session as verified by `appareil` (new session key: no fixation)."""
    request.session.cycle_key()
    otp_login(request, appareil)


@require_http_methods(["GET", "HEAD", "POST"])
@_personnel_requis
def activer(request):
    """Enrolment: scan the QR code, confirm with a first code, keep the recovery codes."""
    user = request.user
    if user_has_device(user, confirmed=True):
        return redirect(
            f"{reverse('comptes:double_authentification')}?{urlencode({'next': _suivant(request)})}"
        )
    appareil = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if appareil is None:
        appareil = TOTPDevice.objects.create(user=user, name=NOM_APPLICATION, confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            appareil = TOTPDevice.objects.select_for_update().get(pk=appareil.pk)
            autorise = appareil.verify_is_allowed()[0]
            valide = autorise and appareil.verify_token(form.cleaned_data["code"])
            if valide:
                appareil.confirmed = True
                appareil.save(update_fields=["confirmed"])
                codes = _nouveaux_codes_secours(user)
        if valide:
            _verifier(request, appareil)
            journaliser(
                "double_authentification", request=request, action="enrolement", resultat="succes"
            )
            return render(
                request,
                "admin/double_authentification_codes.html",
                _contexte(request, title="Vos codes de secours", codes=codes),
            )
        journaliser(
            "double_authentification",
            request=request,
            action="enrolement",
            resultat="echec" if autorise else "attente",
        )
        form.add_error("code", MESSAGE_CODE_INCORRECT_ENROLEMENT if autorise else MESSAGE_PATIENTER)
    return render(
        request,
        "admin/double_authentification_activer.html",
        _contexte(
            request,
            title="Activer la double authentification",
            form=form,
            qr_code=mark_safe(qr_code_svg(appareil.config_url)),
            secret=secret_lisible(appareil),
        ),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@_personnel_requis
def verifier(request):
    """The code page: an authenticator code, or one of the recovery codes (once)."""
    user = request.user
    if not user_has_device(user, confirmed=True):
        return redirect(
            f"{reverse('comptes:double_authentification_activer')}"
            f"?{urlencode({'next': _suivant(request)})}"
        )
    if _est_verifie(user):
        return redirect(_suivant(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        modele = TOTPDevice if code.isdigit() else StaticDevice
        appareil_valide = None
        with transaction.atomic():
            appareils = list(modele.objects.devices_for_user(user).select_for_update())
            autorise = any(a.verify_is_allowed()[0] for a in appareils)
            for appareil in appareils if autorise else []:
                if appareil.verify_token(code):
                    appareil_valide = appareil
                    break
        moyen = "application" if modele is TOTPDevice else "code_secours"
        if appareil_valide is not None:
            _verifier(request, appareil_valide)
            journaliser(
                "double_authentification",
                request=request,
                action="verification",
                moyen=moyen,
                resultat="succes",
            )
            return redirect(_suivant(request))
        journaliser(
            "double_authentification",
            request=request,
            action="verification",
            moyen=moyen,
            resultat="echec" if autorise else "attente",
        )
        form.add_error("code", MESSAGE_CODE_INCORRECT if autorise else MESSAGE_PATIENTER)
    restants = StaticToken.objects.filter(device__user=user).count()
    return render(
        request,
        "admin/double_authentification.html",
        _contexte(
            request,
            title="Double authentification",
            form=form,
            codes_restants=restants,
        ),
    )


CLE_DERNIERE_ACTIVITE = "derniere_activite"
# The session records activity at most this often (seconds): not a write per request.
PAS_ACTIVITE = 60


def noter_activite(session) -> None:
    """Record now as the session's last activity (signing in counts as activity)."""
    session[CLE_DERNIERE_ACTIVITE] = time.time()


class InactiviteMiddleware:
    """Signs out a session left idle for SESSION_INACTIVITE_MINUTES (the absolute limit
    stays SESSION_COOKIE_AGE). The sign-out is audited (`deconnexion`, motif
    « inactivité ») and the next page says why."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            maintenant = time.time()
            derniere = request.session.get(CLE_DERNIERE_ACTIVITE)
            limite = settings.SESSION_INACTIVITE_MINUTES * 60
            if limite and derniere is not None and maintenant - derniere > limite:
                request.motif_deconnexion = "inactivité"
                logout(request)
                messages.info(
                    request,
                    "Votre session a été fermée après "
                    f"{settings.SESSION_INACTIVITE_MINUTES} minutes d'inactivité. "
                    "Reconnectez-vous pour continuer.",
                )
            elif derniere is None or maintenant - derniere > PAS_ACTIVITE:
                noter_activite(request.session)
        return self.get_response(request)
