"""Public directory of the supported projects (`/projets/`) and the site search.

The public rule is the open-data API's: dossiers in `STATUTS_PUBLICS` only
(`Projet.objects.publics()`), public fields only (no contact, no person, no requested
aid), aids engaged or further (`Aide.objects.publiques()`).
"""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from commun.recherche import reconnaitre
from financements.models import Aide, projets_avec_financements
from projets.models import Projet
from territoires.models import Territoire

from .forms import FiltreProjetsForm, RechercheForm

PROJETS_PAR_PAGE = 20
RESULTATS_PAR_TYPE = 10


def _fil(actuel, *liens):
    return {"links": [{"url": url, "title": titre} for url, titre in liens], "current": actuel}


def projets_publics():
    """The directory's rows: public dossiers with their public figures."""
    return projets_avec_financements(Projet.objects.publics()).select_related(
        "territoire", "territoire__region_pilote", "commune", "commune__departement", "phase"
    )


@require_safe
def annuaire(request):
    filtres = FiltreProjetsForm(request.GET or None)
    liste = filtres.filtrer(projets_publics())
    page = Paginator(liste, PROJETS_PAR_PAGE).get_page(request.GET.get("page"))
    parametres = request.GET.copy()
    parametres.pop("page", None)
    return render(
        request,
        "portail/annuaire.html",
        {
            "title": "Les projets soutenus",
            "filtres": filtres,
            "page_obj": page,
            "parametres": parametres.urlencode(),
            "breadcrumb_data": _fil("Projets soutenus"),
        },
    )


@require_safe
def projet_public(request, reference):
    projet = get_object_or_404(
        projets_publics().prefetch_related("axes"), reference=reference.upper()
    )
    aides = (
        Aide.objects.publiques()
        .filter(projet=projet)
        .select_related("enveloppe__dispositif__operateur")
        .order_by("date_decision", "cree_le")
    )
    return render(
        request,
        "portail/projet_public.html",
        {
            "title": projet.titre,
            "projet": projet,
            "aides": aides,
            "breadcrumb_data": _fil(
                projet.reference,
                (reverse("annuaire"), "Projets soutenus"),
            ),
        },
    )


@require_safe
def recherche(request):
    """Site search (DSFR header): public territories and supported projects; an exact
    identifier that names one object leads straight to its page."""
    form = RechercheForm(request.GET or None)
    texte = form.cleaned_data["q"] if form.is_valid() else ""
    territoires = projets = None
    if texte:
        projets = projets_publics().rechercher(texte)
        territoires = Territoire.objects.select_related("region_pilote").rechercher(texte)
        if reconnaitre(texte) is not None:
            cibles = [
                *(reverse("projet_public", args=[p.reference]) for p in projets[:2]),
                *(reverse("territoire_detail", args=[t.slug]) for t in territoires[:2]),
            ]
            if len(cibles) == 1:
                return redirect(cibles[0])
        projets = list(projets[:RESULTATS_PAR_TYPE])
        territoires = list(territoires[:RESULTATS_PAR_TYPE])
    return render(
        request,
        "portail/recherche.html",
        {
            "title": f"Recherche : {texte}" if texte else "Recherche",
            "form": form,
            "texte": texte,
            "projets": projets,
            "territoires": territoires,
            "breadcrumb_data": _fil("Recherche"),
        },
    )
