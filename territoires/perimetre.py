"""Questions about a user's perimeter, answered in one place.

Every door (admin, portal, API) asks these functions or the `visibles_par`
queryset methods built on `Territoire.objects.visibles_par`.
"""

from .models import Departement, Habilitation, Region, Territoire

# Narrowest last: a perimeter may grant or read its own échelon and narrower ones.
RANG_ECHELON = {
    Habilitation.Echelon.NATIONAL: 0,
    Habilitation.Echelon.REGION: 1,
    Habilitation.Echelon.DEPARTEMENT: 2,
    Habilitation.Echelon.TERRITOIRE: 3,
}


def habilitation_de(user) -> Habilitation | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    try:
        return user.habilitation
    except Habilitation.DoesNotExist:
        return None


def est_national(user) -> bool:
    if user is not None and user.is_authenticated and user.is_superuser:
        return True
    hab = habilitation_de(user)
    return bool(hab and hab.role == Habilitation.Role.AGENT and hab.est_national)


def est_agent(user) -> bool:
    """May use the back-office: officers only, never leads or partners."""
    if user is not None and user.is_authenticated and user.is_active and user.is_superuser:
        return True
    hab = habilitation_de(user)
    return bool(hab and hab.role == Habilitation.Role.AGENT)


def est_porteur(user) -> bool:
    hab = habilitation_de(user)
    return bool(hab and hab.role == Habilitation.Role.PORTEUR)


def niveau(user) -> int:
    if user is not None and user.is_authenticated and user.is_active and user.is_superuser:
        return Habilitation.Niveau.ADMINISTRATEUR
    hab = habilitation_de(user)
    return hab.niveau if hab else 0


def peut_instruire(user) -> bool:
    """An officer of instructor level or above (the perimeter is checked apart)."""
    return est_agent(user) and niveau(user) >= Habilitation.Niveau.INSTRUCTEUR


def peut_administrer(user) -> bool:
    return est_agent(user) and niveau(user) >= Habilitation.Niveau.ADMINISTRATEUR


def peut_telecharger_pieces(user) -> bool:
    """Dossier attachments are for the territory's leads and the perimeter's officers
    (the perimeter is checked apart): never for API-only partner accounts, whatever
    their échelon."""
    return est_porteur(user) or est_agent(user)


def voit_territoire(user, territoire) -> bool:
    return Territoire.objects.visibles_par(user).filter(pk=territoire.pk).exists()


def regions_visibles(user):
    """Régions whose envelopes and figures the user may see."""
    if est_national(user):
        return Region.objects.all()
    hab = habilitation_de(user)
    if hab is None:
        return Region.objects.none()
    if hab.echelon == Habilitation.Echelon.NATIONAL:
        # A national partner or reader sees every région (without national rights).
        return Region.objects.all()
    if hab.echelon == Habilitation.Echelon.REGION:
        return hab.regions.all()
    if hab.echelon == Habilitation.Echelon.DEPARTEMENT:
        return Region.objects.filter(departements__in=hab.departements.all()).distinct()
    return Region.objects.filter(territoires_pilotes__in=hab.territoires.all()).distinct()


def dans_le_perimetre(queryset, user):
    """Rows of a model that holds a perimeter (`echelon`, `regions`, `departements`,
    `territoires`: Habilitation, comptes.Invitation) lying wholly within `user`'s
    perimeter: same échelon or narrower, and no région, département or territory
    outside it. Everything for national officers; nothing for non-officers."""
    if est_national(user):
        return queryset
    hab = habilitation_de(user)
    if hab is None or hab.role != Habilitation.Role.AGENT:
        return queryset.none()
    rang = RANG_ECHELON[hab.echelon]
    echelons = [e for e, r in RANG_ECHELON.items() if r >= rang]
    if hab.echelon == Habilitation.Echelon.REGION:
        regions = hab.regions.all()
        departements = Departement.objects.filter(region__in=regions)
    else:
        regions = Region.objects.none()
        departements = hab.departements.all()
    territoires = Territoire.objects.visibles_par(user)
    return (
        queryset.filter(echelon__in=echelons)
        .exclude(regions__in=Region.objects.exclude(pk__in=regions))
        .exclude(departements__in=Departement.objects.exclude(pk__in=departements))
        .exclude(territoires__in=Territoire.objects.exclude(pk__in=territoires))
    )
