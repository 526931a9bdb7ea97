"""The programme's figures: the one module every door reads (portal home and territory
pages, API `/statistiques/`, back-office dashboard).

Counted: public dossiers only (retained, in progress, completed: « projets soutenus »)
and the aid engaged or further on them (`Aide.objects.publiques`); « aide signée » is
the part under a signed convention (conventionnée, soldée, résiliée). One grouped
aggregate query per measure and dimension; Python merges the grouped rows (a few
hundred at most), never the dossiers themselves.

« Région » means, everywhere, the dossier's région (`REGION`): the région of its
commune, else the pilot région of its territory (`projets.models.expression_region`).
"""

from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from commun.cache_donnees import memoriser
from projets.models import ZONE_FRAGILE, Projet, expression_region
from territoires.models import Axe, Labellisation, Phase, Region, Territoire

from .models import Aide, Dispositif, Versement

ZERO = Decimal("0.00")
REGION = expression_region
DEFINITION_REGION = (
    "région du dossier : celle de sa commune, à défaut la région pilote de son territoire"
)


def _mesures_projets():
    return {
        "nombre_projets": Count("pk"),
        "investissement": Sum("montant_investissement"),
        "emplois_crees": Sum("emplois_crees"),
        "emplois_maintenus": Sum("emplois_maintenus"),
        "en_zone_fragile": Count("pk", filter=ZONE_FRAGILE),
    }


def _mesures_aides():
    return {
        "aide_engagee": Sum("montant"),
        "aide_signee": Sum("montant", filter=Q(statut__in=Aide.STATUTS_SIGNES)),
    }


def _chiffres(cle) -> dict:
    """Measures per value of `cle(chemin)`, an expression given the path to the dossier."""
    resultat: dict = {}
    requetes = (
        # One row per dossier (per axe for the axes: a dossier counts in each).
        Projet.objects.publics().values(cle=cle("")).annotate(**_mesures_projets()),
        Aide.objects.publiques().values(cle=cle("projet__")).annotate(**_mesures_aides()),
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


def _complet(chiffres: dict | None) -> dict:
    chiffres = chiffres or {}
    nombre = chiffres.get("nombre_projets") or 0
    fragiles = chiffres.get("en_zone_fragile") or 0
    return {
        "nombre_projets": nombre,
        "investissement": chiffres.get("investissement") or ZERO,
        "emplois_crees": chiffres.get("emplois_crees") or 0,
        "emplois_maintenus": chiffres.get("emplois_maintenus") or 0,
        "aide_engagee": chiffres.get("aide_engagee") or ZERO,
        "aide_signee": chiffres.get("aide_signee") or ZERO,
        "aide_versee": chiffres.get("aide_versee") or ZERO,
        # Share of supported projects in a fragile zone (QPV, ZRR then FRR, AFR, ACV).
        "part_zone_fragile": round(100 * fragiles / nombre, 1) if nombre else None,
    }


def _totaux(projets=None, aides=None, versements=None) -> dict:
    projets = Projet.objects.publics() if projets is None else projets
    aides = Aide.objects.publiques() if aides is None else aides
    versements = Versement.objects.publics() if versements is None else versements
    return {
        **projets.aggregate(**_mesures_projets()),
        **aides.aggregate(**_mesures_aides()),
        **versements.aggregate(aide_versee=Sum("montant")),
    }


def _compte(queryset, cle: str, compte: str) -> dict:
    return {
        ligne["cle"]: ligne["n"]
        for ligne in queryset.values(cle=F(cle)).annotate(n=Count(compte, distinct=True)).order_by()
    }


def _par_dispositif() -> dict:
    """Per dispositif: the public dossiers it aids, each counted once (its first aid of
    the dispositif carries the dossier's measures), and its own aid. Three queries."""
    premiere = Subquery(
        Aide.objects.publiques()
        .filter(projet=OuterRef("projet"), enveloppe__dispositif=OuterRef("enveloppe__dispositif"))
        .order_by("pk")
        .values("pk")[:1]
    )
    une_fois = Q(premiere=F("pk"))
    fragile = (
        Q(projet__zone_qpv=True)
        | Q(projet__zone_zrr=True)
        | Q(projet__zone_frr=True)
        | Q(projet__zone_afr=True)
        | Q(projet__zone_acv=True)
    )
    resultat: dict = {}
    requetes = (
        Aide.objects.publiques()
        .annotate(premiere=premiere)
        .values(cle=F("enveloppe__dispositif"))
        .annotate(
            nombre_projets=Count("projet", distinct=True),
            investissement=Sum("projet__montant_investissement", filter=une_fois),
            emplois_crees=Sum("projet__emplois_crees", filter=une_fois),
            emplois_maintenus=Sum("projet__emplois_maintenus", filter=une_fois),
            en_zone_fragile=Count("projet", distinct=True, filter=fragile),
            **_mesures_aides(),
        ),
        Versement.objects.publics()
        .values(cle=F("aide__enveloppe__dispositif"))
        .annotate(aide_versee=Sum("montant")),
    )
    for requete in requetes:
        for ligne in requete.order_by():
            resultat.setdefault(ligne.pop("cle"), {}).update(ligne)
    return resultat


def chiffres_programme() -> dict:
    """Every figure, per phase, dispositif, région, territory and axe."""
    par_phase = _chiffres(_champ("phase"))
    par_region = _chiffres(REGION)
    par_territoire = _chiffres(_champ("territoire"))
    par_axe = _chiffres(_champ("axes"))
    par_dispositif = _par_dispositif()
    territoires_par_phase = _compte(Labellisation.objects.all(), "phase", "territoire")
    territoires_par_region = _compte(Territoire.objects.all(), "region_pilote", "pk")
    return {
        "genere_le": timezone.now(),
        "definition_region": DEFINITION_REGION,
        "programme": {
            "nombre_territoires": Territoire.objects.count(),
            **_complet(_totaux()),
        },
        "par_phase": [
            {
                "phase": phase.code,
                "nom": phase.nom,
                # Territories labelled in this phase (never both phases mixed).
                "nombre_territoires": territoires_par_phase.get(phase.pk, 0),
                **_complet(par_phase.get(phase.pk)),
            }
            for phase in Phase.objects.order_by("date_debut")
        ],
        "par_dispositif": [
            {
                "dispositif": dispositif.code,
                "nom": dispositif.nom,
                "phase": dispositif.phase.code if dispositif.phase_id else None,
                **_complet(par_dispositif.get(dispositif.pk)),
            }
            for dispositif in Dispositif.objects.select_related("phase").order_by("nom")
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


def chiffres_territoire(territoire: Territoire) -> dict:
    """One territory's figures (its page), as counted in `chiffres_programme`."""
    projets = Projet.objects.publics().filter(territoire=territoire)
    return _complet(
        _totaux(
            projets=projets,
            aides=Aide.objects.publiques().filter(projet__territoire=territoire),
            versements=Versement.objects.publics().filter(aide__projet__territoire=territoire),
        )
    )


# Recomputed after a write on what they count (data version), at worst every 5 minutes.
DUREE_CACHE = 300


def chiffres_en_cache() -> dict:
    """`chiffres_programme()` as every door shows it (one cache entry for all)."""
    return memoriser("chiffres-programme", None, chiffres_programme, DUREE_CACHE)
