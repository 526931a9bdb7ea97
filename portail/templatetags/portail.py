"""Display helpers for French amounts and figures."""

from decimal import ROUND_HALF_UP, Decimal

from django import template

register = template.Library()

ESPACE_INSECABLE = "\u202f"  # narrow no-break space, the French thousands separator


def _groupes(entier: int) -> str:
    return f"{entier:,}".replace(",", ESPACE_INSECABLE)


@register.filter
def euros(valeur) -> str:
    """1234567.5 → « 1 234 567,50 € »; integers without cents."""
    if valeur in (None, ""):
        return "—"
    valeur = Decimal(valeur).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    entier = int(valeur)
    centimes = abs(valeur - entier) * 100
    texte = _groupes(entier)
    if centimes:
        texte += f",{int(centimes):02d}"
    return f"{texte}\u00a0€"


@register.filter
def euros_court(valeur) -> str:
    """1 400 000 000 → « 1,4 Md€ »; 143 000 000 → « 143 M€ »."""
    if valeur in (None, ""):
        return "0\u00a0€"
    valeur = Decimal(valeur)
    for seuil, unite in ((Decimal(10**9), "Md€"), (Decimal(10**6), "M€"), (Decimal(10**3), "k€")):
        if abs(valeur) >= seuil:
            montant = (valeur / seuil).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            texte = f"{montant}".replace(".", ",").removesuffix(",0")
            return f"{texte}\u00a0{unite}"
    return euros(valeur)


@register.filter
def nombre(valeur) -> str:
    if valeur in (None, ""):
        return "—"
    return _groupes(int(valeur))


@register.filter
def pourcentage(valeur) -> str:
    if valeur in (None, ""):
        return "—"
    return f"{round(valeur)}\u00a0%"


@register.simple_tag(takes_context=True)
def espace_connecte(context) -> dict:
    """What the header offers the signed-in user: their space and, for a lead, the number
    of the officers' messages not read yet (one query)."""
    from projets.models import Message
    from territoires.models import Habilitation
    from territoires.perimetre import habilitation_de

    request = context.get("request")
    deja = getattr(request, "_espace_connecte", None)
    if deja is not None:  # the header asks twice (tools and menu)
        return deja
    user = getattr(request, "user", None)
    hab = habilitation_de(user)
    role = hab.role if hab else ""
    non_lus = 0
    if role == Habilitation.Role.PORTEUR:
        non_lus = Message.objects.non_lus_par(user).count()
    espace = {"role": role, "non_lus": non_lus}
    if request is not None:
        request._espace_connecte = espace
    return espace
