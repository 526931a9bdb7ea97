from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API partenaires"

    def ready(self):
        from django.contrib.auth import get_user_model

        from config.cache_donnees import invalider
        from financements.models import Aide, Dispositif, Enveloppe, Versement
        from projets.models import Projet, TransitionProjet
        from territoires.models import (
            Binome,
            CompositionTerritoire,
            Habilitation,
            Labellisation,
            Territoire,
        )

        from .authentication import oublier_jetons
        from .models import JetonPartenaire

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
        for modele in (JetonPartenaire, get_user_model(), Habilitation):
            for signal in (post_save, post_delete):
                signal.connect(
                    oublier_jetons,
                    sender=modele,
                    dispatch_uid=f"jetons-{signal is post_save}-{modele.__name__}",
                )
        # A perimeter is also changed through the habilitation's many-to-many fields.
        for champ in ("regions", "departements", "territoires"):
            intermediaire = getattr(Habilitation, champ).through
            for recepteur in (invalider, oublier_jetons):
                m2m_changed.connect(
                    recepteur,
                    sender=intermediaire,
                    dispatch_uid=f"{recepteur.__name__}-habilitation-{champ}",
                )
