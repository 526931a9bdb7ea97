from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import SimpleRouter

from . import abonnements, changements, views
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
routeur.register("webhooks", abonnements.AbonnementViewSet, basename="webhook")

# Redoc draws its page with styled-components, which writes <style> elements at run time:
# this page alone (no form, no user data, scripts still limited to the site's own files)
# allows inline styles, and blob: workers for its search index.
redoc = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})(
    SpectacularRedocView.as_view(
        url_name="api:schema", template_name="api/redoc.html", metadata_class=None
    )
)

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI with its init script served as a file (?script): no inline script.
    path(
        "docs/",
        # No OPTIONS metadata on an HTML page (DRF rendered it with no template: a 500):
        # OPTIONS answers 405.
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html", metadata_class=None
        ),
        name="docs",
    ),
    path("redoc/", redoc, name="redoc"),
    path("v1/statistiques/", views.StatistiquesView.as_view(), name="statistiques"),
    path(
        "v1/opendata/subventions.csv", views.SubventionsView.as_view(), name="opendata-subventions"
    ),
    path("v1/changements/", changements.ChangementsView.as_view(), name="changements"),
    path("v1/", views.RacineView.as_view(), name="racine"),
    path("v1/", include(routeur.urls)),
    # Any other address under /api/ answers a JSON 404.
    re_path(r"^.*$", introuvable),
]
