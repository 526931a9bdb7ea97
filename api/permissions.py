from rest_framework import permissions

from .acces import acces_de


class AccesComplet(permissions.BasePermission):
    """Full access: a `complet` token or an officer's session."""

    message = "Cette ressource demande un jeton d'accès complet."

    def has_permission(self, request, view):
        return acces_de(request).complet
