from django.contrib.auth import views as auth_views
from django.urls import path, register_converter, reverse_lazy

from . import annuaire, carte, forms, views


class ReferenceConverter:
    """A dossier reference (TI-84-2026-00012): anything else is a 404 before any query
    (PostgreSQL refuses NUL bytes in text, quotes and slashes have nothing to find)."""

    regex = "[A-Za-z0-9-]{1,40}"

    def to_python(self, valeur):
        return valeur

    def to_url(self, valeur):
        return valeur


register_converter(ReferenceConverter, "reference")

# Django's form views also answer PUT like POST: pages take GET, HEAD and POST only.
LECTURE_ET_ENVOI = ["get", "head", "post"]

urlpatterns = [
    path("", views.accueil, name="accueil"),
    path("territoires/", views.territoires, name="territoires"),
    path("territoires/<slug:slug>/", views.territoire_detail, name="territoire_detail"),
    # Public directory of supported projects, site search.
    path("projets/", annuaire.annuaire, name="annuaire"),
    path("projets/<reference:reference>/", annuaire.projet_public, name="projet_public"),
    path("recherche/", annuaire.recherche, name="recherche"),
    path("carte/", carte.carte, name="carte"),
    # Authentication (Django's views, DSFR templates).
    path(
        "connexion/",
        auth_views.LoginView.as_view(
            http_method_names=LECTURE_ET_ENVOI,
            template_name="registration/connexion.html",
            authentication_form=forms.ConnexionForm,
            redirect_authenticated_user=True,
            extra_context={"title": "Connexion"},
        ),
        name="connexion",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="deconnexion"),
    path(
        "mot-de-passe/oublie/",
        auth_views.PasswordResetView.as_view(
            http_method_names=LECTURE_ET_ENVOI,
            template_name="registration/mot_de_passe_oublie.html",
            form_class=forms.MotDePasseOublieForm,
            email_template_name="registration/mot_de_passe_courriel.txt",
            subject_template_name="registration/mot_de_passe_sujet.txt",
            success_url=reverse_lazy("mot_de_passe_envoye"),
            extra_context={"title": "Mot de passe oublié"},
        ),
        name="mot_de_passe_oublie",
    ),
    path(
        "mot-de-passe/envoye/",
        auth_views.PasswordResetDoneView.as_view(
            http_method_names=LECTURE_ET_ENVOI,
            template_name="registration/mot_de_passe_envoye.html",
            extra_context={"title": "Courriel envoyé"},
        ),
        name="mot_de_passe_envoye",
    ),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            http_method_names=LECTURE_ET_ENVOI,
            template_name="registration/mot_de_passe_nouveau.html",
            form_class=forms.NouveauMotDePasseForm,
            success_url=reverse_lazy("mot_de_passe_reinitialise"),
            extra_context={"title": "Nouveau mot de passe"},
        ),
        name="mot_de_passe_nouveau",
    ),
    path(
        "mot-de-passe/reinitialise/",
        auth_views.PasswordResetCompleteView.as_view(
            http_method_names=LECTURE_ET_ENVOI,
            template_name="registration/mot_de_passe_reinitialise.html",
            extra_context={"title": "Mot de passe modifié"},
        ),
        name="mot_de_passe_reinitialise",
    ),
    path(
        "compte/mot-de-passe/",
        auth_views.PasswordChangeView.as_view(
            http_method_names=LECTURE_ET_ENVOI,
            template_name="registration/mot_de_passe_changer.html",
            form_class=forms.ChangementMotDePasseForm,
            success_url=reverse_lazy("mot_de_passe_change"),
            extra_context={"title": "Changer de mot de passe"},
        ),
        name="mot_de_passe_changer",
    ),
    path(
        "compte/mot-de-passe/change/",
        auth_views.PasswordChangeDoneView.as_view(
            http_method_names=LECTURE_ET_ENVOI,
            template_name="registration/mot_de_passe_change.html",
            extra_context={"title": "Mot de passe changé"},
        ),
        name="mot_de_passe_change",
    ),
    path("compte/", views.compte, name="compte"),
    # Territory leads' dossiers.
    path("mes-dossiers/", views.mes_dossiers, name="mes_dossiers"),
    path("mes-dossiers/nouveau/", views.dossier_nouveau, name="dossier_nouveau"),
    path("dossiers/<reference:reference>/", views.dossier_detail, name="dossier_detail"),
    path(
        "dossiers/<reference:reference>/modifier/<slug:section>/",
        views.dossier_section,
        name="dossier_section",
    ),
    path(
        "dossiers/<reference:reference>/recapitulatif/",
        views.dossier_recapitulatif,
        name="dossier_recapitulatif",
    ),
    path("dossiers/<reference:reference>/deposer/", views.dossier_deposer, name="dossier_deposer"),
    path(
        "dossiers/<reference:reference>/abandonner/",
        views.dossier_abandonner,
        name="dossier_abandonner",
    ),
    path(
        "dossiers/<reference:reference>/pieces/<uuid:uuid>/",
        views.piece_jointe_telecharger,
        name="piece_jointe_telecharger",
    ),
    path(
        "dossiers/<reference:reference>/pieces/<uuid:uuid>/retirer/",
        views.piece_jointe_retirer,
        name="piece_jointe_retirer",
    ),
    path(
        "dossiers/<reference:reference>/pieces/<uuid:uuid>/remplacer/",
        views.piece_jointe_remplacer,
        name="piece_jointe_remplacer",
    ),
    path(
        "dossiers/<reference:reference>/recapitulatif.pdf",
        views.dossier_pdf,
        name="dossier_pdf",
    ),
    # Partners (API users) after sign-in.
    path("espace-partenaire/", views.espace_partenaire, name="espace_partenaire"),
    # Legal pages of a State site (DSFR footer).
    *[
        path(chemin, views.page_legale, {"page": nom}, name=nom)
        for nom, chemin in views.PAGES_LEGALES.items()
    ],
]
