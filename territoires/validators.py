"""Validators for official French identifiers, with French messages."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from stdnum import exceptions as stdnum_exceptions
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

# Regular expressions shared by validators and database check constraints.
REGEX_CODE_REGION = r"^[0-9]{2}$"
REGEX_CODE_DEPARTEMENT = r"^(0[1-9]|1[0-9]|2[1-9]|[3-8][0-9]|9[0-5]|2A|2B|97[1-46])$"
REGEX_CODE_COMMUNE = r"^([0-9]{2}|2A|2B)[0-9]{3}$"
REGEX_SIREN = r"^[0-9]{9}$"
REGEX_SIRET = r"^[0-9]{14}$"

valider_code_region = RegexValidator(
    REGEX_CODE_REGION, "Le code INSEE d'une région compte deux chiffres (ex. « 84 »)."
)
valider_code_departement = RegexValidator(
    REGEX_CODE_DEPARTEMENT,
    "Code de département invalide : attendu « 01 » à « 95 » (sauf « 20 »), « 2A », « 2B », "
    "« 971 » à « 974 » ou « 976 ».",
)
valider_code_commune = RegexValidator(
    REGEX_CODE_COMMUNE,
    "Code INSEE de commune invalide : cinq caractères (ex. « 07010 », « 2A004 »).",
)


def valider_siren(value: str) -> None:
    try:
        stdnum_siren.validate(value)
    except stdnum_exceptions.InvalidChecksum as exc:
        raise ValidationError(
            "Ce numéro SIREN n'est pas valide (clé de contrôle incorrecte).", code="siren_cle"
        ) from exc
    except stdnum_exceptions.ValidationError as exc:
        raise ValidationError(
            "Un numéro SIREN compte exactement neuf chiffres.", code="siren_format"
        ) from exc
    if value != stdnum_siren.compact(value):
        raise ValidationError("Saisissez le SIREN sans espace.", code="siren_format")


def valider_siret(value: str) -> None:
    try:
        stdnum_siret.validate(value)
    except stdnum_exceptions.InvalidChecksum as exc:
        raise ValidationError(
            "Ce numéro SIRET n'est pas valide (clé de contrôle incorrecte).", code="siret_cle"
        ) from exc
    except stdnum_exceptions.ValidationError as exc:
        raise ValidationError(
            "Un numéro SIRET compte exactement quatorze chiffres.", code="siret_format"
        ) from exc
    if value != stdnum_siret.compact(value):
        raise ValidationError("Saisissez le SIRET sans espace.", code="siret_format")


def _chiffre_luhn(chiffres: str) -> str:
    """The digit that makes `chiffres + digit` pass the Luhn check."""
    total = 0
    for position, caractere in enumerate(reversed(chiffres)):
        valeur = int(caractere) * (2 if position % 2 == 0 else 1)
        total += valeur - 9 if valeur > 9 else valeur
    return str((10 - total % 10) % 10)


def siret_fictif(rng) -> str:
    """A syntactically valid SIRET for demo and test data (random SIREN and NIC)."""
    siren = f"{rng.randrange(10**7, 10**8)}"
    siren = "8" + siren[1:] if siren.startswith("356") else siren
    siren += _chiffre_luhn(siren)
    nic = f"{rng.randrange(1, 9999):04d}"
    return siren + nic + _chiffre_luhn(siren + nic)
