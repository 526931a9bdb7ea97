"""One French search for every door (portal, back-office, API).

Each searchable model declares on its queryset *what* a search reads (a `Recherche`:
weighted fields, fields compared for typos, exact identifiers); this module knows
*how* to search:

- an exact identifier (dossier reference TI-84-2026-00012, SIRET, SIREN, INSEE code of
  a commune) is recognised first and becomes an exact filter, so that it « jumps » to
  its object;
- on PostgreSQL, full-text search with the `francais_sans_accents` configuration
  (French stemming over `unaccent`, created by `commun/migrations/0001`), ranked by
  `ts_rank`, plus trigram word similarity (`pg_trgm`) for typos; GIN indexes of the
  same expressions are created by each app's migrations;
- on SQLite (the embedded default), an accent- and case-insensitive fallback: every
  word of the query must appear in one of the fields, compared through the
  `ti_sans_accents` SQL function this module registers on each connection.

The caller always passes a queryset already limited to what the user may see
(`visibles_par(user)`, `publics()`): searching never widens a perimeter.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from django.db import connections, models
from django.db.backends.signals import connection_created
from django.db.models import Case, F, FloatField, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.db.models.lookups import Contains
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

# Created by commun/migrations/0001_recherche_francaise.py (PostgreSQL only).
CONFIGURATION = "francais_sans_accents"
FONCTION_SANS_ACCENTS = "ti_sans_accents"
LONGUEUR_MAX = 200
# Word similarity (pg_trgm `<%`) above which a word of the query matches despite a typo.
SEUIL_SIMILARITE = 0.6

RE_REFERENCE = re.compile(r"^TI-[0-9]{2}-[0-9]{4}-[0-9]{5}$")
RE_CODE_COMMUNE = re.compile(r"^([0-9]{2}|2A|2B)[0-9]{3}$")
RE_MOT = re.compile(r"\w+")
# Letters `unaccent` spells out and NFKD does not decompose.
LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l"})


def sans_accents(texte: str | None) -> str | None:
    """« Mécanique ŒUVRE » → « mecanique oeuvre » (Python side of `ti_sans_accents`)."""
    if texte is None:
        return None
    decompose = unicodedata.normalize("NFKD", str(texte).casefold().translate(LIGATURES))
    return "".join(c for c in decompose if not unicodedata.combining(c))


def _enregistrer_fonction(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            FONCTION_SANS_ACCENTS, 1, sans_accents, deterministic=True
        )


connection_created.connect(_enregistrer_fonction, dispatch_uid="commun.recherche.sqlite")


@dataclass(frozen=True)
class Identifiant:
    type: str  # "reference", "siret", "siren" or "insee"
    valeur: str


def reconnaitre(texte: str) -> Identifiant | None:
    """The exact identifier `texte` is, if any (spaces and dots in numbers allowed)."""
    brut = (texte or "").strip().upper()
    if RE_REFERENCE.match(brut):
        return Identifiant("reference", brut)
    compact = re.sub(r"[\s.]", "", brut)
    if compact.isdigit() and len(compact) == 14 and stdnum_siret.is_valid(compact):
        return Identifiant("siret", compact)
    if compact.isdigit() and len(compact) == 9 and stdnum_siren.is_valid(compact):
        return Identifiant("siren", compact)
    if RE_CODE_COMMUNE.match(compact):
        return Identifiant("insee", compact)
    return None


@dataclass(frozen=True)
class Recherche:
    """What a search over one model reads, declared on the model's queryset.

    `champs`: lookup → weight ("A" most important … "D"); single-valued paths only
    (own columns or forward foreign keys), they rank the results.
    `multiples`: lookups across many-valued relations (a territory's EPCI, communes):
    they match through a subquery (no duplicate rows) and do not rank.
    `similarite`: own text columns also compared by trigram word similarity (typos).
    `identifiants`: identifier type → lookup for the exact match (see `reconnaitre`).
    """

    champs: dict[str, str]
    multiples: tuple[str, ...] = ()
    similarite: tuple[str, ...] = ()
    identifiants: dict[str, str | tuple[str, ...]] = field(default_factory=dict)

    @property
    def locaux(self) -> dict[str, str]:
        """The model's own columns: their vector is the one the GIN index holds."""
        return {c: p for c, p in self.champs.items() if "__" not in c}

    @property
    def joints(self) -> dict[str, str]:
        return {c: p for c, p in self.champs.items() if "__" in c}


class SansAccents(models.Func):
    """`ti_sans_accents(text)`: lower case without accents, on both backends
    (IMMUTABLE SQL function on PostgreSQL, so that trigram indexes can use it)."""

    function = FONCTION_SANS_ACCENTS
    output_field = models.TextField()


class VecteurFrancais(models.Expression):
    """`setweight(to_tsvector('francais_sans_accents', coalesce(col, '')), 'A') || …`.

    Written by hand (not Django's SearchVector) so that its SQL is exactly the
    expression of the GIN indexes created by the migrations."""

    output_field = models.TextField()

    def __init__(self, champs: dict[str, str]):
        super().__init__()
        self.champs = champs
        self.sources = [F(chemin) for chemin in champs]

    def get_source_expressions(self):
        return self.sources

    def set_source_expressions(self, exprs):
        self.sources = list(exprs)

    def as_sql(self, compiler, connection):
        parties, parametres = [], []
        for source, poids in zip(self.sources, self.champs.values(), strict=True):
            sql, params = compiler.compile(source)
            parties.append(
                f"setweight(to_tsvector('{CONFIGURATION}'::regconfig, "
                f"COALESCE(({sql})::text, '')), '{poids}')"
            )
            parametres.extend(params)
        return "(" + " || ".join(parties) + ")", parametres


class RequeteFrancaise(models.Expression):
    output_field = models.TextField()

    def __init__(self, texte: str):
        super().__init__()
        self.texte = texte

    def as_sql(self, compiler, connection):
        return f"websearch_to_tsquery('{CONFIGURATION}'::regconfig, %s)", [self.texte]


class Correspond(models.Expression):
    """`vecteur @@ requête` as a boolean expression usable in `filter()`."""

    output_field = models.BooleanField()
    conditional = True

    def __init__(self, vecteur, requete):
        super().__init__()
        self.vecteur, self.requete = vecteur, requete

    def get_source_expressions(self):
        return [self.vecteur, self.requete]

    def set_source_expressions(self, exprs):
        self.vecteur, self.requete = exprs

    def as_sql(self, compiler, connection):
        gauche, p1 = compiler.compile(self.vecteur)
        droite, p2 = compiler.compile(self.requete)
        return f"({gauche} @@ {droite})", [*p1, *p2]


class Rang(models.Func):
    function = "ts_rank"
    output_field = FloatField()


class SimilariteMots(models.Expression):
    """`word_similarity(ti_sans_accents(q), ti_sans_accents(col))` (pg_trgm)."""

    output_field = FloatField()

    def __init__(self, texte: str, chemin: str):
        super().__init__()
        self.texte, self.colonne = texte, SansAccents(F(chemin))

    def get_source_expressions(self):
        return [self.colonne]

    def set_source_expressions(self, exprs):
        (self.colonne,) = exprs

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.colonne)
        return (
            f"word_similarity({FONCTION_SANS_ACCENTS}(%s), {sql})",
            [self.texte, *params],
        )


class ProcheDe(SimilariteMots):
    """`ti_sans_accents(q) <% ti_sans_accents(col)`: the indexable form of the test."""

    output_field = models.BooleanField()
    conditional = True

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.colonne)
        return f"({FONCTION_SANS_ACCENTS}(%s) <%% {sql})", [self.texte, *params]


def declaration(queryset) -> Recherche | None:
    return getattr(type(queryset), "recherche", None)


def _postgresql(queryset) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def _racine(mot: str) -> str:
    """SQLite fallback's crude stemming: French plural endings (« usines » → « usine »)."""
    if len(mot) > 4 and mot.endswith(("aux",)):
        return mot[:-3] + "a"
    if len(mot) > 3 and mot.endswith(("s", "x")):
        return mot[:-1]
    return mot


def rechercher(queryset, texte: str | None):
    """`queryset` narrowed to what matches `texte`, best first (annotation `pertinence`).

    Empty text: `queryset` unchanged. The model's queryset class must declare
    `recherche = Recherche(...)`."""
    texte = (texte or "").strip()[:LONGUEUR_MAX]
    if not texte:
        return queryset
    regles = declaration(queryset)
    if regles is None:
        raise TypeError(f"{type(queryset).__name__} ne déclare pas de recherche.")
    identifiant = reconnaitre(texte)
    if identifiant is not None and identifiant.type in regles.identifiants:
        lookups = regles.identifiants[identifiant.type]
        condition = Q()
        for lookup in (lookups,) if isinstance(lookups, str) else lookups:
            condition |= Q(**{lookup: identifiant.valeur})
        correspondants = queryset.model._base_manager.filter(condition)
        return queryset.filter(pk__in=correspondants.values("pk")).annotate(
            pertinence=Value(1.0, output_field=FloatField())
        )
    if _postgresql(queryset):
        return _rechercher_postgresql(queryset, texte, regles)
    return _rechercher_sqlite(queryset, texte, regles)


def _rechercher_postgresql(queryset, texte: str, regles: Recherche):
    vecteur = VecteurFrancais(regles.champs)
    condition = Q()
    if regles.locaux:
        condition |= Q(Correspond(VecteurFrancais(regles.locaux), RequeteFrancaise(texte)))
    if regles.joints:
        condition |= Q(Correspond(VecteurFrancais(regles.joints), RequeteFrancaise(texte)))
    for chemin in regles.similarite:
        condition |= Q(ProcheDe(texte, chemin))
    if regles.multiples:
        lies = queryset.model._base_manager.filter(
            Correspond(
                VecteurFrancais(dict.fromkeys(regles.multiples, "D")), RequeteFrancaise(texte)
            )
        )
        condition |= Q(pk__in=lies.values("pk"))
    rang = Rang(vecteur, RequeteFrancaise(texte))
    if regles.similarite:
        similarites = [SimilariteMots(texte, chemin) for chemin in regles.similarite]
        proximite = similarites[0] if len(similarites) == 1 else Greatest(*similarites)
        rang = rang + Value(0.1) * proximite
    return (
        queryset.filter(condition)
        .annotate(pertinence=rang)
        .order_by("-pertinence", *queryset.query.order_by or queryset.model._meta.ordering)
    )


def _rechercher_sqlite(queryset, texte: str, regles: Recherche):
    mots = [_racine(m) for m in RE_MOT.findall(sans_accents(texte))]
    if not mots:
        return queryset.none()
    condition = Q()
    for mot in mots:
        un_mot = Q()
        for chemin in regles.champs:
            un_mot |= Q(Contains(SansAccents(Coalesce(F(chemin), Value(""))), mot))
        if regles.multiples:
            lies = Q()
            for chemin in regles.multiples:
                lies |= Q(Contains(SansAccents(F(chemin)), mot))
            un_mot |= Q(pk__in=queryset.model._base_manager.filter(lies).values("pk"))
        condition &= un_mot
    # Rank: the whole text found in a field of weight A first, then B…
    phrase = " ".join(mots)
    valeurs = {"A": 1.0, "B": 0.6, "C": 0.3, "D": 0.1}
    cas = [
        When(Contains(SansAccents(Coalesce(F(chemin), Value(""))), phrase), then=Value(valeurs[p]))
        for chemin, p in sorted(regles.champs.items(), key=lambda c: c[1])
    ]
    return (
        queryset.filter(condition)
        .annotate(pertinence=Case(*cas, default=Value(0.05), output_field=FloatField()))
        .order_by("-pertinence", *queryset.query.order_by or queryset.model._meta.ordering)
    )


class RechercheQuerySet(models.QuerySet):
    """Base of searchable querysets: `Projet.objects.visibles_par(user).rechercher(q)`."""

    recherche: Recherche | None = None

    def rechercher(self, texte: str | None):
        return rechercher(self, texte)
