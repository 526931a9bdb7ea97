"""Routes that must keep a fixed name or take over an existing door (included before
the admin and the portal in config/urls.py)."""

from django.urls import include, path

from . import views

urlpatterns = [
    # The callback URL registered at ProConnect (OIDC_AUTHENTICATION_CALLBACK_URL).
    path("proconnect/retour/", views.RetourProConnect.as_view(), name="proconnect_retour"),
    # Logout doors that also end the ProConnect session.
    path("deconnexion/", views.deconnexion, name="deconnexion"),
    path("admin/logout/", views.deconnexion_admin, name="deconnexion_admin"),
    path("", include("comptes.urls")),
]
