"""French formats of numbers, amounts, dates and values: the one place every door takes
them from (admin lists and titles, messages, e-mails, history pages, exports).

- thousands are separated by a narrow no-break space (« 1 234 567 »), decimals by a
  comma, and the euro sign follows a no-break space (« 1 234 567,89 € »): a number never
  breaks across two lines;
- dates read « 15/01/2026 », date-times « 15/01/2026 à 09:30 » (local time);
- booleans read « Oui » / « Non », an unknown value « — ».

Django's own displays (admin lists, `{{ value|date }}`) follow the same date format
through `commun.formats_django` (FORMAT_MODULE_PATH).
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone

ESPACE_FINE = "\u202f"
ESPACE_INSECABLE = "\u00a0"
INCONNU = "—"
FORMAT_DATE = "%d/%m/%Y"
FORMAT_DATE_HEURE = "%d/%m/%Y à %H:%M"


def milliers(nombre: int) -> str:
    """« 12 345 »: thousands separated by a narrow no-break space."""
    return f"{int(nombre):,}".replace(",", ESPACE_FINE)


def nombre(valeur, decimales: int | None = None) -> str:
    """« 1 234,5 »: a number in French (« — » when unknown).

    `decimales`: fixed number of decimals; by default, those of the value (trailing
    zeros of a Decimal are dropped: « 12,5 » for Decimal("12.50"))."""
    if valeur is None or valeur == "":
        return INCONNU
    try:
        valeur = Decimal(str(valeur))
    except InvalidOperation:
        return str(valeur)
    if decimales is None:
        valeur = valeur.normalize() if valeur == valeur.to_integral() else valeur
        texte = f"{valeur:,f}"
        if "." in texte:
            texte = texte.rstrip("0").rstrip(".")
    else:
        texte = f"{valeur:,.{decimales}f}"
    entier, _, fraction = texte.partition(".")
    entier = entier.replace(",", ESPACE_FINE)
    return f"{entier},{fraction}" if fraction else entier


def euros(valeur, *, centimes: bool = True) -> str:
    """An amount as officers read it: « 1 234 567,89 € » (« — » when unknown);
    `centimes=False` rounds to the euro: « 1 234 568 € »."""
    if valeur is None or valeur == "":
        return INCONNU
    return f"{nombre(valeur, 2 if centimes else 0)}{ESPACE_INSECABLE}€"


def pourcentage(valeur, decimales: int = 1) -> str:
    """« 12,5 % » (the value is already a percentage)."""
    if valeur is None or valeur == "":
        return INCONNU
    return f"{nombre(valeur, decimales)}{ESPACE_INSECABLE}%"


def date_fr(valeur) -> str:
    """« 15/01/2026 »; a date-time is read in local time."""
    if valeur is None or valeur == "":
        return INCONNU
    if isinstance(valeur, datetime):
        valeur = timezone.localtime(valeur) if timezone.is_aware(valeur) else valeur
    return valeur.strftime(FORMAT_DATE)


def date_heure(valeur) -> str:
    """« 15/01/2026 à 09:30 » in local time (a plain date reads as a date)."""
    if valeur is None or valeur == "":
        return INCONNU
    if not isinstance(valeur, datetime):
        return date_fr(valeur)
    if timezone.is_aware(valeur):
        valeur = timezone.localtime(valeur)
    return valeur.strftime(FORMAT_DATE_HEURE)


def oui_non(valeur) -> str:
    if valeur is None:
        return INCONNU
    return "Oui" if valeur else "Non"


def lisible(valeur) -> str:
    """Any value as a person reads it: booleans, dates, numbers in French."""
    if valeur is None or valeur == "":
        return INCONNU
    if isinstance(valeur, bool):
        return oui_non(valeur)
    if isinstance(valeur, datetime):
        return date_heure(valeur)
    if isinstance(valeur, date):
        return date_fr(valeur)
    if isinstance(valeur, (int, Decimal, float)):
        return nombre(valeur)
    return str(valeur)


def valeur_de_champ(champ, valeur) -> str:
    """The value of a model field as a person reads it: the label of a choice, the
    object of a foreign key (its `str`), an amount in euros (a field whose label says
    « € »), « Oui »/« Non », a French date — never a Python value or a code."""
    if valeur is None or valeur == "":
        return INCONNU
    if getattr(champ, "choices", None):
        libelles = dict(champ.flatchoices)
        return str(libelles.get(valeur, valeur))
    if getattr(champ, "is_relation", False) and champ.many_to_one:
        modele = champ.related_model
        objet = modele._default_manager.filter(pk=valeur).first()
        return str(objet) if objet is not None else f"{modele._meta.verbose_name} supprimé(e)"
    if champ.get_internal_type() == "DecimalField" and "€" in str(champ.verbose_name):
        return euros(valeur)
    return lisible(valeur)
