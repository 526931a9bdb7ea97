"""Every API error is JSON with a French `detail` message and a stable `code`."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

MESSAGES = {
    status.HTTP_400_BAD_REQUEST: "Paramètres invalides.",
    status.HTTP_401_UNAUTHORIZED: "Authentification requise.",
    status.HTTP_403_FORBIDDEN: "Accès refusé.",
    status.HTTP_404_NOT_FOUND: "Ressource introuvable.",
    status.HTTP_405_METHOD_NOT_ALLOWED: "Méthode non autorisée : l'API est en lecture seule.",
    status.HTTP_406_NOT_ACCEPTABLE: "Format de réponse non disponible.",
    status.HTTP_429_TOO_MANY_REQUESTS: "Trop de requêtes.",
}


def gestionnaire_exceptions(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    code = response.status_code
    donnees = response.data
    corps = {"code": getattr(exc, "default_code", "erreur")}
    if isinstance(exc, exceptions.ValidationError):
        corps["detail"] = MESSAGES[status.HTTP_400_BAD_REQUEST]
        corps["erreurs"] = donnees if isinstance(donnees, dict) else {"non_field_errors": donnees}
    elif isinstance(exc, exceptions.MethodNotAllowed):
        corps["detail"] = MESSAGES[code]
    elif isinstance(exc, exceptions.Throttled):
        corps["detail"] = (
            f"Trop de requêtes : réessayez dans {exc.wait:.0f} secondes."
            if exc.wait is not None
            else MESSAGES[code]
        )
    elif isinstance(donnees, dict) and "detail" in donnees:
        corps["detail"] = str(donnees["detail"])
        corps["code"] = getattr(donnees["detail"], "code", corps["code"])
    else:
        corps["detail"] = MESSAGES.get(code, "Erreur.")
    response.data = corps
    return response


def reponse_erreur(code: int, detail: str, code_erreur: str) -> Response:
    return Response({"code": code_erreur, "detail": detail}, status=code)


def introuvable(request, *args, **kwargs):
    """JSON 404 for any unknown address under /api/."""
    return JsonResponse(
        {"code": "not_found", "detail": "Adresse inconnue de l'API : consultez /api/docs/."},
        status=404,
        json_dumps_params={"ensure_ascii": False},
    )
