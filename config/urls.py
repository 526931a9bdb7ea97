from django.contrib import admin
from django.urls import include, path

from commun.views import rapport_csp, sante

urlpatterns = [
    path("sante/", sante, name="sante"),
    path("csp/rapport/", rapport_csp, name="rapport_csp"),
    path("", include("comptes.urls_racine")),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    # The partner space's webhook pages (portal look, owned by the api door).
    path("espace-partenaire/webhooks/", include("api.espace")),
    path("", include("portail.urls")),
]

handler404 = "commun.views.page_introuvable"
handler500 = "commun.views.erreur_serveur"
