"""The map of the territories (`/carte/`): an inline SVG drawn on the server from the
outlines pre-computed by `manage.py calculer_contours` (no tile server, no script, works
offline and under the strict CSP), with its text alternative (a table)."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from territoires.contours import HAUTEUR, LARGEUR, cadres_encarts
from territoires.models import (
    CompositionTerritoire,
    ContourTerritoire,
    ContourZone,
    Labellisation,
    Phase,
    Region,
)

from . import chiffres

# One colour per pilot région (DSFR illustrative palette), the legend says which.
COULEURS_REGIONS = {
    "01": "#c3992a",
    "02": "#e4794a",
    "03": "#009081",
    "04": "#a558a0",
    "06": "#ce614a",
    "11": "#000091",
    "24": "#e18b76",
    "27": "#b34000",
    "28": "#417dc4",
    "32": "#3558a2",
    "44": "#958b62",
    "52": "#009099",
    "53": "#1f8d49",
    "75": "#c08c65",
    "76": "#ce0500",
    "84": "#6e445a",
    "93": "#d1a23a",
    "94": "#7d4e5b",
}
COULEUR_AUTRE = "#666666"


def _phase_demandee(request) -> tuple[Phase | None, str]:
    code = request.GET.get("phase", "")
    if code:
        phase = Phase.objects.filter(code=code[:9]).first()
        if phase is not None:
            return phase, ""
        return chiffres.phase_en_cours(), f"Phase inconnue : « {code[:20]} ». Phase affichée :"
    return chiffres.phase_en_cours(), ""


@require_safe
def carte(request):
    phase, erreur = _phase_demandee(request)
    contours = list(ContourTerritoire.objects.pour_carte(phase)) if phase else []
    for contour in contours:
        code = contour.territoire.region_pilote_id
        contour.couleur = COULEURS_REGIONS.get(code, COULEUR_AUTRE)
        contour.motif = f"hachures-{code}"
    traces = {c.territoire_id for c in contours}
    de_la_phase = set(
        CompositionTerritoire.objects.filter(phase=phase).values_list("territoire_id", flat=True)
    ) | set(Labellisation.objects.filter(phase=phase).values_list("territoire_id", flat=True))
    regions_pilotes = {c.territoire.region_pilote_id for c in contours}
    hachures = sorted({c.territoire.region_pilote_id for c in contours if c.composition_inconnue})
    zones = list(ContourZone.objects.all())
    return render(
        request,
        "portail/carte.html",
        {
            "title": "Carte des territoires",
            "phase": phase,
            "phases": Phase.objects.order_by("date_debut"),
            "erreur": erreur,
            "contours": contours,
            "laureats": [c for c in contours if c.territoire.laureat_rebond_industriel],
            "inconnus": [c for c in contours if c.composition_inconnue],
            "non_traces": len(de_la_phase - traces),
            "regions": [z for z in zones if z.niveau == ContourZone.Niveau.REGION],
            "departements": [z for z in zones if z.niveau == ContourZone.Niveau.DEPARTEMENT],
            "legende": [
                {"nom": r.nom, "couleur": COULEURS_REGIONS.get(r.code, COULEUR_AUTRE)}
                for r in Region.objects.filter(code__in=regions_pilotes).order_by("nom")
            ],
            "hachures": [
                {"id": f"hachures-{code}", "couleur": COULEURS_REGIONS.get(code, COULEUR_AUTRE)}
                for code in hachures
            ],
            "encarts": cadres_encarts(),
            "largeur": round(LARGEUR),
            "hauteur": round(HAUTEUR),
            "breadcrumb_data": {"links": [], "current": "Carte des territoires"},
        },
    )
