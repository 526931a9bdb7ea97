"""Page numbers by default; `?pagination=curseur` for full synchronisation."""

from functools import partial

from django.core.exceptions import FieldError
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy
from rest_framework import exceptions
from rest_framework.pagination import BasePagination, CursorPagination, PageNumberPagination

from commun.cache_donnees import compte

MODES = ("pages", "curseur")


class Paginateur(Paginator):
    """Counts `a_compter` (the view's filtered rows) rather than the page's queryset,
    whose joins and sums a count does not need."""

    def __init__(self, *args, a_compter=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.a_compter = a_compter
        ordre = self._ordre() if a_compter is not None else None
        if ordre is not None:
            # The same total order on every page, ties broken by pk.
            self.object_list = self.object_list.order_by(*ordre)

    @cached_property
    def count(self):
        if self.a_compter is None:
            return Paginator.count.func(self)
        return compte(self.a_compter)

    def page(self, number):
        """Pages after the first pick their ids first, from the filtered rows alone, then
        read the joins and sums for those ids only: an OFFSET over the page's own query
        would compute every skipped row's sums and timestamps (docs/performance.md)."""
        number = self.validate_number(number)
        if number == 1 or self.a_compter is None:
            return super().page(number)
        ids = self._ids()
        if ids is None:
            return super().page(number)
        bas = (number - 1) * self.per_page
        haut = bas + self.per_page
        if haut + self.orphans >= self.count:
            haut = self.count
        choisis = list(ids[bas:haut])
        lignes = {ligne.pk: ligne for ligne in self.object_list.filter(pk__in=choisis)}
        return self._get_page([lignes[pk] for pk in choisis if pk in lignes], number, self)

    def _ordre(self):
        """The page's order with pk breaking ties (None when not plain field names)."""
        requete = self.object_list.query
        ordre = list(requete.order_by)
        if not ordre and requete.default_ordering:
            ordre = list(requete.get_meta().ordering)
        if not all(isinstance(terme, str) for terme in ordre):
            return None
        if not {"pk", "-pk", "id", "-id"} & set(ordre):
            ordre.append("pk")
        return ordre

    def _ids(self):
        """The filtered rows' pks in the page's order, or None when that order needs
        what only the page's query computes."""
        ordre = self._ordre()
        if ordre is None:
            return None
        try:
            return self.a_compter.order_by(*ordre).values_list("pk", flat=True)
        except FieldError:
            return None


class PaginationPages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    page_query_param = "page"
    invalid_page_message = gettext_lazy("Page hors limites ou invalide.")

    def paginate_queryset(self, queryset, request, view=None):
        self.django_paginator_class = partial(
            Paginateur, a_compter=getattr(view, "a_compter", None)
        )
        return super().paginate_queryset(queryset, request, view)


class PaginationCurseur(CursorPagination):
    """Stable order on the resource's official identifier (`view.ordre_curseur`)."""

    cursor_query_param = "curseur"
    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 500
    invalid_cursor_message = gettext_lazy("Curseur invalide.")

    def get_ordering(self, request, queryset, view):
        return (view.ordre_curseur,)


class PaginationAPI(BasePagination):
    """Delegates to page-number or cursor pagination according to `?pagination=`."""

    def _choisir(self, request):
        mode = request.query_params.get("pagination", "pages")
        if mode not in MODES:
            raise exceptions.ValidationError(
                {"pagination": ["Valeur inconnue : « pages » ou « curseur » attendu."]}
            )
        return PaginationCurseur() if mode == "curseur" else PaginationPages()

    def paginate_queryset(self, queryset, request, view=None):
        self.delegue = self._choisir(request)
        return self.delegue.paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        reponse = self.delegue.get_paginated_response(data)
        if "count" not in reponse.data:
            reponse.data = {"count": None, **reponse.data}
        return reponse

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "nullable": True,
                    "description": "Nombre total de résultats (null en pagination par curseur).",
                },
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "Adresse de la page suivante.",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "Adresse de la page précédente.",
                },
                "results": {**schema, "description": "Résultats de la page."},
            },
        }

    def get_schema_operation_parameters(self, view):
        entier = {"type": "integer"}
        return [
            {
                "name": "pagination",
                "in": "query",
                "required": False,
                "description": "Mode de pagination : « pages » (par défaut, numéros de page) ou "
                "« curseur » (synchronisation complète, ordre stable sur l'identifiant officiel).",
                "schema": {"type": "string", "enum": list(MODES)},
            },
            {
                "name": "page",
                "in": "query",
                "required": False,
                "description": "Numéro de page (pagination par pages).",
                "schema": entier,
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "description": "Nombre de résultats par page (50 par défaut, 500 au plus ; "
                "500 par défaut en pagination par curseur).",
                "schema": entier,
            },
            {
                "name": "curseur",
                "in": "query",
                "required": False,
                "description": "Curseur opaque renvoyé dans `next` (pagination par curseur).",
                "schema": {"type": "string"},
            },
        ]
