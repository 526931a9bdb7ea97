"""Template filters of the French formats (commun.formats) for the back-office pages."""

from django import template

from commun import formats

register = template.Library()

register.filter("euros", formats.euros)
register.filter("nombre", formats.nombre)
register.filter("pourcentage", formats.pourcentage)
register.filter("date_fr", formats.date_fr)
register.filter("date_heure", formats.date_heure)
register.filter("oui_non", formats.oui_non)
register.filter("lisible", formats.lisible)


@register.filter
def euros_arrondis(valeur):
    return formats.euros(valeur, centimes=False)
