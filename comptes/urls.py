from django.urls import path

from . import securite, views

app_name = "comptes"

urlpatterns = [
    path("proconnect/connexion/", views.ConnexionProConnect.as_view(), name="proconnect_connexion"),
    path(
        "comptes/double-authentification/",
        securite.verifier,
        name="double_authentification",
    ),
    path(
        "comptes/double-authentification/activer/",
        securite.activer,
        name="double_authentification_activer",
    ),
    path("comptes/en-attente/", views.en_attente, name="en_attente"),
    path("comptes/invitations/", views.invitations, name="invitations"),
    path("comptes/invitation/<str:jeton>/", views.invitation, name="invitation"),
    path("comptes/demandes/", views.demandes, name="demandes"),
    path("comptes/demandes/<int:pk>/", views.demande, name="demande"),
]
