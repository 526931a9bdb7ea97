from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from comptes.audit import journaliser


class Command(BaseCommand):
    help = (
        "Supprime l'application d'authentification et les codes de secours d'un compte "
        "(téléphone perdu) : il devra réactiver la double authentification à sa prochaine "
        "connexion au back-office."
    )

    def add_arguments(self, parser):
        parser.add_argument("identifiant")

    def handle(self, *args, identifiant: str, **options):
        user = get_user_model().objects.filter(username=identifiant).first()
        if user is None:
            raise CommandError(f"Aucun compte « {identifiant} ».")
        supprimes = 0
        for modele in (TOTPDevice, StaticDevice):
            n, _ = modele.objects.filter(user=user).delete()
            supprimes += n
        journaliser(
            "double_authentification",
            user=user,
            action="reinitialisation",
            par="commande reinitialiser_double_authentification",
        )
        self.stdout.write(
            f"Double authentification de {identifiant} réinitialisée ({supprimes} élément(s) "
            "supprimé(s))."
        )
