from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API partenaires"

    def ready(self):
        from financements.models import Aide, Enveloppe, Versement
        from projets.models import Projet, TransitionProjet
        from territoires.models import CompositionTerritoire, Labellisation, Territoire

        from .statistiques import invalider_statistiques

        # Status changes are queryset updates: their TransitionProjet row signals them.
        for modele in (
            Projet,
            TransitionProjet,
            Aide,
            Versement,
            Enveloppe,
            Territoire,
            CompositionTerritoire,
            Labellisation,
        ):
            post_save.connect(
                invalider_statistiques,
                sender=modele,
                dispatch_uid=f"statistiques-{modele.__name__}",
            )
            post_delete.connect(
                invalider_statistiques,
                sender=modele,
                dispatch_uid=f"statistiques-suppr-{modele.__name__}",
            )
