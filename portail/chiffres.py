"""Programme figures for the home page, computed with aggregates on public data only."""

from django.db.models import Count, Q, Sum

from financements.models import Aide
from projets.models import ZONE_FRAGILE, Projet
from territoires.models import Axe, Phase, Territoire


def phase_en_cours() -> Phase | None:
    return Phase.objects.order_by("-date_debut").first()


def chiffres_cles() -> dict:
    """Territories, retained dossiers, investment, engaged public aid, jobs, fragile share."""
    publics = Projet.objects.publics()
    totaux = publics.aggregate(
        dossiers=Count("pk"),
        investissement=Sum("montant_investissement"),
        emplois_crees=Sum("emplois_crees"),
        emplois_maintenus=Sum("emplois_maintenus"),
        en_zone_fragile=Count("pk", filter=ZONE_FRAGILE),
    )
    aide = Aide.objects.publiques().aggregate(total=Sum("montant"))
    dossiers = totaux["dossiers"]
    return {
        "territoires": Territoire.objects.count(),
        "territoires_par_phase": territoires_par_phase(),
        "dossiers_retenus": dossiers,
        "investissement": totaux["investissement"] or 0,
        "aide_publique": aide["total"] or 0,
        "emplois_crees": totaux["emplois_crees"] or 0,
        "emplois_maintenus": totaux["emplois_maintenus"] or 0,
        "part_zone_fragile": (100 * totaux["en_zone_fragile"] / dossiers) if dossiers else None,
    }


def territoires_par_phase() -> list[dict]:
    """Per phase: territories labelled (ever) and still labelled today (not exited)."""
    from django.utils import timezone

    aujourdhui = timezone.localdate()
    return [
        {
            "phase": phase.nom,
            "code": phase.code,
            "labellises": phase.nombre,
            "en_vigueur": (
                Territoire.objects.labellises_le(aujourdhui, phase=phase).count()
                if phase.date_debut <= aujourdhui <= phase.date_fin
                else None
            ),
        }
        for phase in Phase.objects.annotate(
            nombre=Count("labellisations__territoire", distinct=True)
        ).order_by("date_debut")
    ]


def par_region() -> list[dict]:
    """Retained dossiers and investment per pilot région."""
    return list(
        Projet.objects.publics()
        .values("territoire__region_pilote__nom")
        .annotate(dossiers=Count("pk"), investissement=Sum("montant_investissement"))
        .order_by("-investissement", "territoire__region_pilote__nom")
    )


def par_axe(phase: Phase | None) -> list[Axe]:
    """The phase's axes with their number of retained dossiers."""
    if phase is None:
        return []
    return list(
        phase.axes.annotate(
            dossiers=Count("projets", filter=Q(projets__in=Projet.objects.publics()))
        ).order_by("ordre")
    )
