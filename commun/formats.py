"""French formats of numbers and amounts, the one place every door takes them from."""

from decimal import Decimal

ESPACE_FINE = "\u202f"


def milliers(nombre: int) -> str:
    """« 12 345 »: thousands separated by a narrow no-break space."""
    return f"{nombre:,}".replace(",", ESPACE_FINE)


def euros(valeur) -> str:
    """An amount as officers read it: « 1 234 567,89 € » (a dash when unknown)."""
    if valeur is None:
        return "—"
    montant = Decimal(str(valeur)).quantize(Decimal("0.01"))
    entier, _, centimes = f"{montant:,.2f}".partition(".")
    return entier.replace(",", ESPACE_FINE) + f",{centimes} €"
