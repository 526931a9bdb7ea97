from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from . import views
from .exceptions import introuvable

routeur = SimpleRouter()
routeur.register("regions", views.RegionViewSet, basename="region")
routeur.register("departements", views.DepartementViewSet, basename="departement")
routeur.register("intercommunalites", views.IntercommunaliteViewSet, basename="intercommunalite")
routeur.register("communes", views.CommuneViewSet, basename="commune")
routeur.register("phases", views.PhaseViewSet, basename="phase")
routeur.register("axes", views.AxeViewSet, basename="axe")
routeur.register("territoires", views.TerritoireViewSet, basename="territoire")
routeur.register("projets", views.ProjetViewSet, basename="projet")
routeur.register("dispositifs", views.DispositifViewSet, basename="dispositif")
routeur.register("enveloppes", views.EnveloppeViewSet, basename="enveloppe")
routeur.register("aides", views.AideViewSet, basename="aide")
routeur.register("versements", views.VersementViewSet, basename="versement")

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("v1/statistiques/", views.StatistiquesView.as_view(), name="statistiques"),
    path(
        "v1/opendata/subventions.csv", views.SubventionsView.as_view(), name="opendata-subventions"
    ),
    path("v1/", views.RacineView.as_view(), name="racine"),
    path("v1/", include(routeur.urls)),
    # Any other address under /api/ answers a JSON 404.
    re_path(r"^.*$", introuvable),
]
