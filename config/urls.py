from django.contrib import admin
from django.urls import include, path

from config.views import sante

urlpatterns = [
    path("sante/", sante, name="sante"),
    path("", include("comptes.urls_racine")),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("", include("portail.urls")),
]

handler500 = "config.views.erreur_serveur"
