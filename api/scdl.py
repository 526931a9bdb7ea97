"""The SCDL « subventions » 2.1.1 file (fixtures/scdl/subventions-2.1.1/schema.json).

Which aids are published is a data rule of `financements`
(`Aide.objects.publiables_scdl`: signed subsidies above 23,000 €, attribuant with a
SIRET, convention schedule known). Here each of the 16 columns is a SQL expression of
text, its text neutralised against formula injection (`commun.tableur.NeutraliserSQL`),
so that PostgreSQL writes the file itself with `COPY` (`api.copie.morceaux_copie`) and
SQLite gives the same rows through the Python CSV writer.
"""

from django.db import connections
from django.db.models import Case, F, Func, TextField, Value, When
from django.db.models.functions import Cast, Concat, NullIf, Substr

from commun.tableur import NeutraliserSQL
from financements.models import Aide

from .copie import morceaux_copie
from .exports import lignes_csv, reponse_csv_brute

NOM_FICHIER = "subventions-territoires-industrie"


class MontantTexte(Func):
    """An amount as text with two decimals and a decimal point (`47800.20`)."""

    output_field = TextField()
    arity = 1

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, parametres = compiler.compile(self.source_expressions[0])
        return f"CAST(ROUND({sql}, 2) AS text)", parametres

    def as_sql(self, compiler, connection, **extra_context):
        sql, parametres = compiler.compile(self.source_expressions[0])
        return f"printf('%%.2f', {sql})", parametres


def _texte(expression):
    return Cast(expression, TextField())


def _date(champ):
    return _texte(F(champ))


COLONNES = {
    "nomAttribuant": NeutraliserSQL(F("nom_attribuant")),
    "idAttribuant": _texte(F("siret_attribuant")),
    "dateConvention": _date("date_convention"),
    "referenceDecision": NeutraliserSQL(F("reference_decision")),
    "nomBeneficiaire": NeutraliserSQL(F("projet__porteur_raison_sociale")),
    "idBeneficiaire": _texte(F("projet__porteur_siret")),
    "rnaBeneficiaire": Value("", output_field=TextField()),
    "objet": NeutraliserSQL(Substr(F("projet__titre"), 1, 255)),
    "montant": MontantTexte(F("montant_attribue")),
    "nature": Case(
        When(nature="subvention", then=Value("aide en numéraire")),
        default=Value("aide en nature"),
        output_field=TextField(),
    ),
    "conditionsVersement": Case(
        When(versement_modalite="echelonne", then=Value("échelonné")),
        default=Value("unique"),
        output_field=TextField(),
    ),
    "datesPeriodeVersement": Case(
        When(
            versement_modalite="echelonne",
            then=Concat(
                _date("versement_debut"),
                Value("/"),
                _date("versement_fin"),
                output_field=TextField(),
            ),
        ),
        default=_date("versement_debut"),
        output_field=TextField(),
    ),
    "idRAE": Value("", output_field=TextField()),
    "notificationUE": Case(
        When(enveloppe__dispositif__notification_ue=True, then=Value("oui")),
        default=Value("non"),
        output_field=TextField(),
    ),
    "pourcentageSubvention": Value("1.00", output_field=TextField()),
    # The identifier of the « dispositif d'aide » schema where known, else empty.
    "dispositifAide": NeutraliserSQL(F("enveloppe__dispositif__id_dispositif_scdl")),
}
COLONNES_SCDL = list(COLONNES)


def lignes_scdl(queryset=None):
    """The published rows as a `values_list` of 16 text columns (empty text as NULL:
    PostgreSQL's COPY and Python's CSV writer then write the same empty field)."""
    if queryset is None:
        queryset = Aide.objects.all()
    noms = [f"scdl_{i}" for i in range(len(COLONNES))]
    expressions = [
        NullIf(expression, Value("", output_field=TextField())) for expression in COLONNES.values()
    ]
    return (
        queryset.publiables_scdl()
        .order_by("date_convention", "uuid")
        .annotate(**dict(zip(noms, expressions, strict=True)))
        .values_list(*noms)
    )


def morceaux_scdl(queryset=None):
    """The file's pieces: PostgreSQL's COPY, or the Python CSV writer elsewhere."""
    lignes = lignes_scdl(queryset)
    if connections[lignes.db].vendor == "postgresql":
        return morceaux_copie(lignes, COLONNES_SCDL)
    return lignes_csv(COLONNES_SCDL, lignes.iterator(chunk_size=2000))


def reponse_scdl():
    return reponse_csv_brute(morceaux_scdl(), NOM_FICHIER)
