"""The fast path of list pages and CSV exports.

DRF's `ModelSerializer` builds a model instance per row and walks every field of it:
at a page of 100 dossiers that costs tens of milliseconds (docs/performance.md). List
pages and exports therefore read plain rows with `values()` and convert them with one
small function per column, while the serializer stays the single declaration of the
output: the columns, their names, their sources, their formats (and so the OpenAPI
schema) are read from its fields. Detail pages still go through the serializer.

Fields the serializer computes in Python (`SerializerMethodField`, nested serializers,
`source="*"`) are "complements": the view fills them for a whole page at once, with one
query per complement (`LectureViewSet.completer`).
"""

from decimal import Decimal
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo

import orjson
from django.conf import settings
from django.db.models import F, Func, TextField
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings
from rest_framework.utils.encoders import JSONEncoder

_FUSEAU = ZoneInfo(settings.TIME_ZONE)


class HorodatageISO(Func):
    """A timestamp as DRF writes it: ISO 8601 in the site's time zone with its offset,
    microseconds only when not zero."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        local = f"({sql} AT TIME ZONE %s)"
        utc = f"({sql} AT TIME ZONE 'UTC')"
        local_params = [*params, settings.TIME_ZONE]
        # One to_char for date, time and microseconds ('.000000' dropped, as isoformat
        # does); the offset is local minus UTC ('-03:00' carries its own sign).
        texte = (
            f"replace(to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') "
            f"|| CASE WHEN {local} >= {utc} THEN '+' ELSE '' END "
            f"|| to_char({local} - {utc}, 'HH24:MI')"
        )
        parametres = [*local_params, *local_params, *params, *local_params, *params]
        return texte, parametres


def _decimal(places):
    gabarit = f".{places}f"

    def convertir(valeur):
        if not isinstance(valeur, Decimal):
            valeur = Decimal(str(valeur))
        return format(valeur, gabarit)

    return convertir


def _horodatage(valeur):
    # DRF's DateTimeField: local time (the site's zone: none other is ever activated),
    # ISO 8601, "Z" for UTC.
    texte = valeur.astimezone(_FUSEAU).isoformat()
    return texte[:-6] + "Z" if texte.endswith("+00:00") else texte


def _date(valeur):
    return valeur.isoformat()


def _texte(valeur):
    return valeur if type(valeur) is str else str(valeur)


def _convertisseur(champ):
    """The function turning a database value into what `champ.to_representation` gives
    (None for "as is")."""
    if isinstance(champ, serializers.DecimalField):
        en_texte = getattr(champ, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
        return _decimal(champ.decimal_places) if en_texte else None
    if isinstance(champ, serializers.DateTimeField):
        return _horodatage
    if isinstance(champ, serializers.DateField):
        return _date
    if isinstance(champ, serializers.UUIDField):
        return str
    if isinstance(champ, serializers.ChoiceField | serializers.BooleanField):
        return None
    if isinstance(champ, serializers.CharField):
        return _texte
    return None


def est_complement(champ) -> bool:
    return (
        isinstance(champ, serializers.SerializerMethodField | serializers.BaseSerializer)
        or champ.source == "*"
    )


class Plan:
    """The columns of a serializer: (name, `values_list()` position, converter), nested
    objects reached through a foreign key (their own plan), and complements."""

    def __init__(self, serializer, prefixe="", calcules=(), horodatages_sql=False):
        self.noms = list(serializer.fields)
        self.colonnes, self.imbriques, self.complements = [], [], []
        self.convertisseurs = {}
        # PostgreSQL writes timestamps as text itself: Django's timestamptz loader is
        # pure Python (~6 µs a value), then Python formats them again.
        self.annotations = {}
        chemins = []
        for nom, champ in serializer.fields.items():
            chemin = prefixe + "__".join(champ.source_attrs)
            if horodatages_sql and isinstance(champ, serializers.DateTimeField):
                alias = f"iso_{nom}"
                self.annotations[alias] = HorodatageISO(F(chemin))
                self.colonnes.append([nom, alias, None])
                chemins.append(alias)
            elif nom in calcules:
                # A plain field the view computes for the whole page.
                self.complements.append(nom)
                self.convertisseurs[nom] = _convertisseur(champ)
            elif isinstance(champ, serializers.Serializer) and champ.source != "*":
                plan = Plan(champ, chemin + "__")
                self.imbriques.append([nom, chemin, plan])
                chemins += [chemin, *plan.chemins]
            elif est_complement(champ):
                self.complements.append(nom)
            else:
                self.colonnes.append([nom, chemin, _convertisseur(champ)])
                chemins.append(chemin)
        self.chemins = list(dict.fromkeys(chemins))
        if not prefixe:
            # Rows are `values_list("pk", *self.chemins)` tuples: paths become positions.
            self._positionner({chemin: i for i, chemin in enumerate(self.chemins, 1)})

    def _positionner(self, positions):
        for colonne in self.colonnes:
            colonne[1] = positions[colonne[1]]
        for imbrique in self.imbriques:
            imbrique[1] = positions[imbrique[1]]
            imbrique[2]._positionner(positions)

    def ligne(self, brute: tuple) -> dict:
        """One output dict, in the serializer's field order (complements left None)."""
        ligne = dict.fromkeys(self.noms)
        for nom, position, convertir in self.colonnes:
            valeur = brute[position]
            ligne[nom] = valeur if valeur is None or convertir is None else convertir(valeur)
        for nom, position, plan in self.imbriques:
            if brute[position] is not None:
                ligne[nom] = plan.ligne(brute)
        return ligne

    def convertir(self, nom, valeur):
        """The output form of a value computed by the view for a plain field."""
        convertir = self.convertisseurs.get(nom)
        return valeur if valeur is None or convertir is None else convertir(valeur)

    def lignes(self, valeurs):
        """(pk, output dict) pairs from `values_list("pk", *self.chemins)` rows."""
        ligne = self.ligne
        for brute in valeurs:
            yield brute[0], ligne(brute)


@lru_cache(maxsize=64)
def _plan(classe, complet, calcules, horodatages_sql):
    return Plan(
        classe(context={"complet": complet}),
        calcules=calcules,
        horodatages_sql=horodatages_sql,
    )


def plan_de(serializer, calcules: tuple[str, ...] = (), postgresql: bool = False) -> Plan:
    """The plan of a serializer instance (cached per class, access level and database
    kind); `calcules` are plain fields the view computes itself for a page. Rows are
    read from `queryset.annotate(**plan.annotations).values_list("pk", *plan.chemins)`."""
    return _plan(type(serializer), serializer.context.get("complet"), calcules, postgresql)


def par_lots(iterable, taille):
    iterateur = iter(iterable)
    while lot := list(islice(iterateur, taille)):
        yield lot


_encodeur = JSONEncoder()


def _defaut(valeur):
    return _encodeur.default(valeur)


class RenduJSON(JSONRenderer):
    """JSON through orjson (same output as DRF's renderer for API data: decimals as
    strings, dates in ISO 8601, lazy translations as text), several times faster."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=_defaut, option=orjson.OPT_NON_STR_KEYS)
