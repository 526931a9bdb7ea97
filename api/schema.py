"""OpenAPI generation: French descriptions for every field and the error responses."""

from drf_spectacular.openapi import AutoSchema

ERREURS = {
    "400": "Paramètre invalide (valeur inconnue, date ou nombre mal formé).",
    "401": "Jeton inconnu, révoqué ou expiré, ou authentification requise.",
    "403": "Accès refusé pour ce niveau d'accès.",
    "404": "Ressource ou page introuvable.",
    "429": "Trop de requêtes : réessayer après le délai indiqué par l'en-tête Retry-After.",
}


class SchemaAPI(AutoSchema):
    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if "description" not in meta and field.label:
            libelle = str(field.label)
            meta["description"] = libelle[:1].upper() + libelle[1:] + "."
        return meta

    def _get_parameters(self):
        parametres = super()._get_parameters()
        for parametre in parametres:
            if parametre.get("description"):
                continue
            if parametre["in"] == "path":
                parametre["description"] = getattr(
                    self.view, "description_identifiant", "Identifiant de la ressource."
                )
            elif parametre["name"] == "format":
                parametre["description"] = "Format de la réponse : json (par défaut) ou csv."
        return parametres

    def _get_response_bodies(self, direction="response"):
        from .serializers import ErreurSerializer

        reponses = super()._get_response_bodies(direction)
        if not self.path.startswith("/api/v1/"):
            return reponses
        schema = self.resolve_serializer(ErreurSerializer, direction).ref
        for code, description in ERREURS.items():
            reponses.setdefault(
                code,
                {"description": description, "content": {"application/json": {"schema": schema}}},
            )
        return reponses
