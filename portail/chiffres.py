"""Programme figures for the home page, computed with aggregates on public data only."""

from django.db.models import Count, Q

from financements.chiffres import chiffres_en_cache as chiffres_programme
from projets.models import Projet
from territoires.models import Axe, Phase, Territoire


def phase_en_cours() -> Phase | None:
    return Phase.objects.order_by("-date_debut").first()


def chiffres_cles() -> dict:
    """The home page's figures, read from the one figures module (financements.chiffres):
    programme totals, per phase (labelled territories of that phase, never both mixed),
    per dispositif and per région (the dossier's région)."""
    tous = chiffres_programme()
    programme = tous["programme"]
    return {
        "territoires": programme["nombre_territoires"],
        "territoires_par_phase": territoires_par_phase(),
        "dossiers_retenus": programme["nombre_projets"],
        "investissement": programme["investissement"],
        "aide_publique": programme["aide_engagee"],
        "aide_signee": programme["aide_signee"],
        "emplois_crees": programme["emplois_crees"],
        "emplois_maintenus": programme["emplois_maintenus"],
        "part_zone_fragile": programme["part_zone_fragile"],
        "par_phase": tous["par_phase"],
        "par_dispositif": [d for d in tous["par_dispositif"] if d["nombre_projets"]],
        "definition_region": tous["definition_region"],
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
    """Supported dossiers and investment per région (the dossier's région, as defined
    once in financements.chiffres), régions without a dossier left out."""
    lignes = [r for r in chiffres_programme()["par_region"] if r["nombre_projets"]]
    return sorted(lignes, key=lambda r: (-r["investissement"], r["nom"]))


def par_axe(phase: Phase | None) -> list[Axe]:
    """The phase's axes with their number of retained dossiers."""
    if phase is None:
        return []
    return list(
        phase.axes.annotate(
            dossiers=Count("projets", filter=Q(projets__in=Projet.objects.publics()))
        ).order_by("ordre")
    )
