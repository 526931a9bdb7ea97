from django.apps import AppConfig


class FinancementsConfig(AppConfig):
    name = "financements"
    verbose_name = "Financements"

    def ready(self):
        # The dossier lifecycle (projets, below) asks the money layer, without importing
        # it, whether aid is live on a dossier and whether a dossier may be retained.
        from projets import services as projets_services

        from . import services

        if services.aides_vivantes_du_projet not in projets_services.ARGENT_VIVANT:
            projets_services.ARGENT_VIVANT.append(services.aides_vivantes_du_projet)
        if services.conditions_pour_retenir not in projets_services.CONDITIONS_RETENIR:
            projets_services.CONDITIONS_RETENIR.append(services.conditions_pour_retenir)
