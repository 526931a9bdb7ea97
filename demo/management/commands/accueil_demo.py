from django.conf import settings
from django.core.management.base import BaseCommand

from demo.donnees import COMPTES


class Command(BaseCommand):
    help = "Affiche les adresses des trois portes du portail et les comptes de démonstration."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000")

    def handle(self, *args, url: str, **options):
        url = url.rstrip("/")
        lignes = [
            "",
            "Territoires d'industrie — le portail démarre :",
            f"  Portail public (DSFR)      {url}/",
            f"  Back-office (gestion)      {url}/admin/",
            f"  API partenaires            {url}/api/v1/",
            f"  Documentation de l'API     {url}/api/docs/",
            "",
            f"Comptes de démonstration (mot de passe : {settings.DEMO_PASSWORD}) :",
        ]
        for username, _prenom, _nom, role, echelon, _niveau, organisation, *_ in COMPTES:
            lignes.append(f"  {username:<18} {organisation} ({role}, {echelon})")
        if settings.DOUBLE_AUTHENTIFICATION:
            lignes.append(
                "Double authentification active : le back-office demande d'enrôler une "
                "application TOTP à la première connexion (DOUBLE_AUTHENTIFICATION=false pour "
                "la désactiver en développement)."
            )
        else:
            lignes.append(
                "Double authentification du back-office désactivée en développement "
                "(DOUBLE_AUTHENTIFICATION)."
            )
        lignes.append("")
        self.stdout.write("\n".join(lignes))
