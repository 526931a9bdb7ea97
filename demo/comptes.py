"""Demo accounts shared by the demo data builders."""

from django.contrib.auth import get_user_model

from territoires.models import Habilitation


def porteur_du_territoire(territoire):
    """The demo lead of `territoire` (created once, no password: sign-in disabled)."""
    User = get_user_model()
    username = f"porteur-{territoire.slug}"[:150]
    user, cree = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": "Porteur",
            "last_name": territoire.nom[:150],
            "email": f"{territoire.slug}@demo.territoires-industrie.example",
        },
    )
    if cree:
        user.set_unusable_password()
        user.save()
        hab = Habilitation.objects.create(
            user=user,
            role="porteur",
            echelon="territoire",
            niveau=2,
            organisation=f"Territoire d'industrie {territoire.nom}",
        )
        hab.territoires.add(territoire)
    return user
