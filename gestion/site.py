"""The back-office site: sign-in rule, second factor, dashboard (see gestion.bases for
the perimeter rule every model admin follows)."""

from functools import wraps

from django.contrib import admin
from django.core.exceptions import BadRequest
from django.db.models import Count, F

from commun.formulaires import IdentifiantBorneMixin
from commun.middleware import parametre_avec_nul
from financements.chiffres import chiffres_en_cache as chiffres_programme_en_cache
from territoires import perimetre

from .bases import RefusSansIndiceMixin


class RefusOrienteMixin:
    """A lead or a partner who signs in with the right password is told where to go,
    not that the credentials are wrong (the password was checked first: nobody learns
    anything about an account without its password)."""

    def confirm_login_allowed(self, user):
        from django import forms
        from django.urls import reverse
        from django.utils.html import format_html

        if user.is_active and not (user.is_staff and perimetre.est_agent(user)):
            hab = perimetre.habilitation_de(user)
            role = hab.role if hab else ""
            debut = "L'espace de gestion est réservé aux agents de l'État et des Régions. "
            if role == "porteur":
                message = format_html(
                    '{}Chefs de projet : connectez-vous sur <a href="{}">le portail</a> '
                    "({}) pour retrouver vos dossiers.",
                    debut,
                    reverse("connexion"),
                    reverse("connexion"),
                )
            elif role == "partenaire":
                message = format_html(
                    '{}Partenaires : connectez-vous sur <a href="{}">le portail</a> ({}) '
                    "pour retrouver vos jetons d'API et leur documentation.",
                    debut,
                    reverse("connexion"),
                    reverse("connexion"),
                )
            else:
                message = (
                    "Votre compte n'a pas d'habilitation d'agent pour l'espace de gestion. "
                    "Adressez-vous à l'équipe régionale ou nationale du programme."
                )
            raise forms.ValidationError(message, code="hors_gestion")
        super().confirm_login_allowed(user)


class SiteGestion(admin.AdminSite):
    site_header = "Territoires d'industrie — gestion"
    site_title = "Territoires d'industrie — gestion"
    index_title = "Tableau de bord"
    index_template = "admin/tableau_de_bord.html"
    # The side menu took a quarter of a 1280 px screen from every list: the dashboard and
    # the breadcrumbs lead to every page.
    enable_nav_sidebar = False

    @property
    def login_form(self):
        from django.contrib.admin.forms import AdminAuthenticationForm

        return type(
            "ConnexionGestionForm",
            (RefusOrienteMixin, IdentifiantBorneMixin, AdminAuthenticationForm),
            {},
        )

    def has_permission(self, request):
        user = request.user
        return user.is_active and user.is_staff and perimetre.est_agent(user)

    def admin_view(self, view, cacheable=False):
        """Every back-office page also needs the second factor when
        DOUBLE_AUTHENTIFICATION is on (comptes.securite)."""
        from comptes.securite import redirection_double_authentification

        vue = super().admin_view(view, cacheable)

        @wraps(view)
        def protegee(request, *args, **kwargs):
            if parametre_avec_nul(request.GET) is not None:
                # PostgreSQL refuses NUL bytes in text: a search or filter would be a 500.
                raise BadRequest("Caractère nul interdit dans l'adresse.")  # French 400 page
            redirection = redirection_double_authentification(request)
            if redirection is not None:
                return redirection
            return vue(request, *args, **kwargs)

        return protegee

    def register(self, model_or_iterable, admin_class=None, **options):
        """Third-party model admins (groups, DSFR settings, tasks) refuse like ours."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, RefusSansIndiceMixin):
            admin_class = type(admin_class.__name__, (RefusSansIndiceMixin, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)

    def index(self, request, extra_context=None):
        from financements.models import Enveloppe
        from projets.models import Message, Projet, Statut

        user = request.user
        projets = Projet.objects.visibles_par(user)
        comptes = dict(projets.order_by().values_list("statut").annotate(n=Count("pk")))
        attente = (
            (
                projets.filter(statut=Statut.DEPOSE)
                | projets.filter(statut=Statut.EN_INSTRUCTION, instructeur=user)
                | projets.filter(statut=Statut.EN_INSTRUCTION, instructeur__isnull=True)
            )
            # Dossiers the lead has just completed come first: they await this officer.
            .order_by(F("complete_le").desc(nulls_last=True), "depose_le")
            .select_related("territoire")[:20]
        )
        contexte = {
            "comptes_statuts": [
                (libelle, comptes.get(code, 0), code) for code, libelle in Statut.choices
            ],
            "dossiers_en_attente": attente,
            # Lead abandonments of funded dossiers: aid to settle before closing.
            "argent_a_regler": projets.filter(abandon_demande_le__isnull=False)
            .exclude(statut=Statut.ABANDONNE)
            .select_related("territoire")
            .order_by("abandon_demande_le")[:20],
            "enveloppes": Enveloppe.objects.visibles_par(user)
            .avec_consommation()
            .select_related("dispositif", "region")
            .order_by("-annee", "region__nom"),
            "peut_instruire": perimetre.peut_instruire(user),
            # The programme's figures, as the portal and the API give them.
            "chiffres_programme": chiffres_programme_en_cache(),
            "messages_non_lus": (
                Message.objects.non_lus_par(user)
                .select_related("projet", "auteur")
                .order_by("-envoye_le")[:20]
                if perimetre.peut_instruire(user)
                else []
            ),
        }
        return super().index(request, {**contexte, **(extra_context or {})})
