"""Programme figures (open data): one grouped aggregate query per measure and dimension.

Only public dossiers (retained, in progress, completed) and the aid engaged or paid on
them are counted. Python merges the grouped rows (a few hundred at most), never the
dossiers themselves.
"""

from decimal import Decimal

from django.db.models import Count, F, Sum
from django.utils import timezone

from commun.cache_donnees import memoriser
from financements.models import Aide, Versement
from projets.models import Projet, expression_region
from territoires.models import Axe, Labellisation, Phase, Region, Territoire

ZERO = Decimal("0.00")


def _chiffres(cle) -> dict:
    """Measures per value of `cle(chemin)`, an expression given the path to the dossier."""
    resultat: dict = {}
    requetes = (
        Projet.objects.publics()
        .values(cle=cle(""))
        .annotate(
            # One row per dossier (per axe for the axes: a dossier counts in each).
            nombre_projets=Count("pk"),
            investissement=Sum("montant_investissement"),
            emplois_crees=Sum("emplois_crees"),
            emplois_maintenus=Sum("emplois_maintenus"),
        ),
        Aide.objects.publiques().values(cle=cle("projet__")).annotate(aide_engagee=Sum("montant")),
        Versement.objects.publics()
        .values(cle=cle("aide__projet__"))
        .annotate(aide_versee=Sum("montant")),
    )
    for requete in requetes:
        for ligne in requete.order_by():
            resultat.setdefault(ligne.pop("cle"), {}).update(ligne)
    return resultat


def _champ(nom):
    return lambda chemin: F(f"{chemin}{nom}")


def _totaux() -> dict:
    return {
        **Projet.objects.publics().aggregate(
            nombre_projets=Count("pk"),
            investissement=Sum("montant_investissement"),
            emplois_crees=Sum("emplois_crees"),
            emplois_maintenus=Sum("emplois_maintenus"),
        ),
        **Aide.objects.publiques().aggregate(aide_engagee=Sum("montant")),
        **Versement.objects.publics().aggregate(aide_versee=Sum("montant")),
    }


def _complet(chiffres: dict | None) -> dict:
    chiffres = chiffres or {}
    return {
        "nombre_projets": chiffres.get("nombre_projets") or 0,
        "investissement": chiffres.get("investissement") or ZERO,
        "emplois_crees": chiffres.get("emplois_crees") or 0,
        "emplois_maintenus": chiffres.get("emplois_maintenus") or 0,
        "aide_engagee": chiffres.get("aide_engagee") or ZERO,
        "aide_versee": chiffres.get("aide_versee") or ZERO,
    }


def _compte(queryset, cle: str, compte: str) -> dict:
    return {
        ligne["cle"]: ligne["n"]
        for ligne in queryset.values(cle=F(cle)).annotate(n=Count(compte, distinct=True)).order_by()
    }


def statistiques_programme() -> dict:
    par_phase = _chiffres(_champ("phase"))
    par_region = _chiffres(expression_region)
    par_territoire = _chiffres(_champ("territoire"))
    par_axe = _chiffres(_champ("axes"))
    territoires_par_phase = _compte(Labellisation.objects.all(), "phase", "territoire")
    territoires_par_region = _compte(Territoire.objects.all(), "region_pilote", "pk")

    return {
        "genere_le": timezone.now(),
        "programme": {
            "nombre_territoires": Territoire.objects.count(),
            **_complet(_totaux()),
        },
        "par_phase": [
            {
                "phase": phase.code,
                "nom": phase.nom,
                "nombre_territoires": territoires_par_phase.get(phase.pk, 0),
                **_complet(par_phase.get(phase.pk)),
            }
            for phase in Phase.objects.all()
        ],
        "par_region": [
            {
                "region": region.code,
                "nom": region.nom,
                "nombre_territoires": territoires_par_region.get(region.code, 0),
                **_complet(par_region.get(region.code)),
            }
            for region in Region.objects.all()
        ],
        "par_territoire": [
            {
                "territoire": territoire.slug,
                "nom": territoire.nom,
                "region_pilote": territoire.region_pilote_id,
                **_complet(par_territoire.get(territoire.pk)),
            }
            for territoire in Territoire.objects.only("pk", "slug", "nom", "region_pilote")
        ],
        "par_axe": [
            {"axe": axe.identifiant, "nom": axe.nom, **_complet(par_axe.get(axe.pk))}
            for axe in Axe.objects.avec_identifiant()
        ],
    }


# Cache: the figures are recomputed after a write on what they count (api/cache.py), at
# worst every DUREE_CACHE seconds.
DUREE_CACHE = 300


def statistiques_en_cache() -> dict:
    # Never from a replica that has not replayed the last write (commun.cache_donnees).
    return memoriser("statistiques", None, statistiques_programme, DUREE_CACHE)
