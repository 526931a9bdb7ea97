"""Django's French formats, aligned on commun.formats: « 15/01/2026 », « 15/01/2026 09:30 »,
narrow no-break space between thousands (Django's own French module covers the rest)."""

DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
THOUSAND_SEPARATOR = "\u202f"
