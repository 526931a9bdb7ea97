"""Partner self-service of webhook subscriptions (`/api/v1/webhooks/`), authenticated by
a partner token: each token manages the subscriptions it carries, and only them (404
for any other). Writes go through `api.services`."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import services
from .models import CHOIX_EVENEMENTS, AbonnementWebhook, JetonPartenaire
from .rapide import RenduJSON
from .views import VueAPIMixin


class JetonRequis(permissions.BasePermission):
    """Only a partner token manages subscriptions (their scope is the token's)."""

    message = "Les abonnements webhooks se gèrent avec un jeton partenaire (Authorization: Bearer)."

    def has_permission(self, request, view):
        if not isinstance(request.auth, JetonPartenaire):
            if not request.user or not request.user.is_authenticated:
                raise exceptions.NotAuthenticated(self.message)
            return False
        return True


class AbonnementSerializer(serializers.ModelSerializer):
    jeton = serializers.CharField(
        source="jeton.prefixe", read_only=True, help_text="Préfixe du jeton qui porte l'abonnement."
    )
    evenements = serializers.ListField(
        child=serializers.ChoiceField(choices=CHOIX_EVENEMENTS),
        allow_empty=False,
        help_text="Événements transmis, parmi : " + ", ".join(CHOIX_EVENEMENTS) + ".",
    )
    url = serializers.CharField(
        max_length=500,
        help_text="Adresse HTTPS publique de réception (adresses internes refusées).",
    )

    class Meta:
        model = AbonnementWebhook
        fields = [
            "id",
            "jeton",
            "url",
            "evenements",
            "actif",
            "echecs_consecutifs",
            "cree_le",
            "desactive_le",
            "motif_desactivation",
        ]
        read_only_fields = [
            "id",
            "echecs_consecutifs",
            "cree_le",
            "desactive_le",
            "motif_desactivation",
        ]


class AbonnementCreeSerializer(AbonnementSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="Secret de signature (Standard Webhooks, « whsec_… ») : donné une seule fois.",
    )

    class Meta(AbonnementSerializer.Meta):
        fields = [*AbonnementSerializer.Meta.fields, "secret"]


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(
        read_only=True, help_text="Nouveau secret, donné une seule fois."
    )


@extend_schema_view(
    list=extend_schema(summary="Abonnements webhooks du jeton"),
    retrieve=extend_schema(summary="Un abonnement du jeton"),
    create=extend_schema(
        summary="Créer un abonnement",
        responses={201: AbonnementCreeSerializer},
        description="Le secret de signature n'est donné qu'une fois, dans cette réponse.",
    ),
    partial_update=extend_schema(summary="Modifier l'adresse, les événements ou l'état"),
    destroy=extend_schema(summary="Supprimer un abonnement (et son journal de livraisons)"),
)
class AbonnementViewSet(
    VueAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Abonnements webhooks (norme Standard Webhooks) du jeton appelant : chaque
    changement du flux que le jeton peut lire part en POST signé vers l'adresse."""

    serializer_class = AbonnementSerializer
    permission_classes = [JetonRequis]
    renderer_classes = [RenduJSON]
    pagination_class = None
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    queryset = AbonnementWebhook.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AbonnementWebhook.objects.none()
        return AbonnementWebhook.objects.filter(jeton=self.request.auth).select_related("jeton")

    def create(self, request, *args, **kwargs):
        entree = self.get_serializer(data=request.data)
        entree.is_valid(raise_exception=True)
        abonnement, secret = services.abonnement_creer(
            par=request.user,
            jeton=request.auth,
            url=entree.validated_data["url"],
            evenements=entree.validated_data["evenements"],
            actif=entree.validated_data.get("actif", True),
        )
        sortie = AbonnementCreeSerializer(abonnement).data
        sortie["secret"] = secret
        reponse = Response(sortie, status=status.HTTP_201_CREATED)
        reponse["Cache-Control"] = "no-store"
        return reponse

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            raise exceptions.MethodNotAllowed(request.method)
        abonnement = self.get_object()
        entree = self.get_serializer(abonnement, data=request.data, partial=True)
        entree.is_valid(raise_exception=True)
        abonnement = services.abonnement_modifier(
            par=request.user,
            abonnement=abonnement,
            url=entree.validated_data.get("url"),
            evenements=entree.validated_data.get("evenements"),
            actif=entree.validated_data.get("actif"),
        )
        return Response(AbonnementSerializer(abonnement).data)

    def perform_destroy(self, instance):
        services.abonnement_supprimer(par=self.request.user, abonnement=instance)

    @extend_schema(
        summary="Renouveler le secret de signature",
        request=None,
        responses={200: SecretSerializer, 404: OpenApiResponse(description="Introuvable")},
    )
    @action(detail=True, methods=["post"])
    def secret(self, request, pk=None):
        secret = services.abonnement_renouveler_secret(
            par=request.user, abonnement=self.get_object()
        )
        reponse = Response({"secret": secret})
        reponse["Cache-Control"] = "no-store"
        return reponse
