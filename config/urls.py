from django.contrib import admin
from django.urls import include, path

from commun.views import rapport_csp, sante

urlpatterns = [
    path("sante/", sante, name="sante"),
    path("csp/rapport/", rapport_csp, name="rapport_csp"),
    path("", include("comptes.urls_racine")),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("", include("portail.urls")),
]

handler404 = "commun.views.page_introuvable"
handler500 = "commun.views.erreur_serveur"
