from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API partenaires"

    def ready(self):
        from commun.cache_donnees import invalider
        from financements.models import Aide, Dispositif, Enveloppe, Versement
        from projets.models import Projet, TransitionProjet
        from territoires.models import (
            Binome,
            CompositionTerritoire,
            Habilitation,
            Labellisation,
            Territoire,
        )

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
            Binome,
            Dispositif,
            Habilitation,
        ):
            post_save.connect(
                invalider,
                sender=modele,
                dispatch_uid=f"cache-api-{modele.__name__}",
            )
            post_delete.connect(
                invalider,
                sender=modele,
                dispatch_uid=f"cache-api-suppr-{modele.__name__}",
            )
        # A perimeter is also changed through the habilitation's many-to-many fields.
        for champ in ("regions", "departements", "territoires"):
            intermediaire = getattr(Habilitation, champ).through
            m2m_changed.connect(
                invalider, sender=intermediaire, dispatch_uid=f"cache-api-habilitation-{champ}"
            )
