from django import template

from comptes import proconnect

register = template.Library()


@register.simple_tag
def proconnect_configure() -> bool:
    return proconnect.est_configure()
