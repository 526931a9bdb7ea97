"""Small factories: a handful of rows per test, never the full reference data."""

import random
from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from financements.models import Aide, Dispositif, Enveloppe, Operateur
from projets.models import Projet
from territoires.models import (
    Axe,
    Commune,
    CompositionTerritoire,
    Departement,
    Habilitation,
    Intercommunalite,
    Labellisation,
    Phase,
    Region,
    Territoire,
)
from territoires.validators import _chiffre_luhn, siret_fictif

_rng = random.Random(42)


def siren_valide(n: int) -> str:
    base = f"2{n:07d}"
    return base + _chiffre_luhn(base)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "84"
    nom = "Auvergne-Rhône-Alpes"


class DepartementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Departement
        django_get_or_create = ("code",)

    code = "07"
    nom = "Ardèche"
    region = factory.SubFactory(RegionFactory)


class IntercommunaliteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Intercommunalite

    siren = factory.Sequence(lambda n: siren_valide(n + 1))
    nom = factory.Sequence(lambda n: f"CC Exemple {n}")
    nature = "CC"
    departement = factory.SubFactory(DepartementFactory)
    population = 10000


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commune

    code_insee = factory.Sequence(lambda n: f"{n % 1000:03d}".rjust(5, "0"))
    nom = factory.Sequence(lambda n: f"Commune {n}")
    epci = factory.SubFactory(IntercommunaliteFactory)
    departement = factory.LazyAttribute(lambda o: o.epci.departement)
    population = 1500


class PhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phase
        django_get_or_create = ("code",)

    code = "2023-2027"
    nom = "Territoires d'industrie 2023-2027"
    date_debut = date(2023, 11, 9)
    date_fin = date(2027, 12, 31)


class AxeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Axe
        django_get_or_create = ("phase", "code")

    phase = factory.SubFactory(PhaseFactory)
    code = "foncier"
    nom = "Mobiliser un foncier industriel adapté"


class TerritoireFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territoire
        skip_postgeneration_save = True

    nom = factory.Sequence(lambda n: f"Territoire {n}")
    region_pilote = factory.SubFactory(RegionFactory)

    @factory.post_generation
    def epcis(self, create, extracted, **kwargs):
        """`TerritoireFactory(epcis=[epci, ...])` composes and labels it for 2023-2027."""
        if not create or not extracted:
            return
        phase = PhaseFactory()
        Labellisation.objects.get_or_create(
            territoire=self, phase=phase, defaults={"date": phase.date_debut}
        )
        for epci in extracted:
            CompositionTerritoire.objects.create(territoire=self, phase=phase, epci=epci)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@exemple.gouv.fr")
    password = factory.django.Password("motdepasse-de-test-123")


def utilisateur(
    username, *, role, echelon, niveau=2, regions=(), departements=(), territoires=(), is_staff=None
):
    """A user with a perimeter (persona)."""
    user = UserFactory(
        username=username, is_staff=role == "agent" if is_staff is None else is_staff
    )
    hab = Habilitation.objects.create(user=user, role=role, echelon=echelon, niveau=niveau)
    hab.regions.set(regions)
    hab.departements.set(departements)
    hab.territoires.set(territoires)
    return user


class ProjetFactory(factory.django.DjangoModelFactory):
    """A complete dossier (all fields required for submission), created in draft."""

    class Meta:
        model = Projet
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"TI-84-1999-{n + 1:05d}")  # never generated
    titre = factory.Sequence(lambda n: f"Extension de l'usine {n}")
    description = "Extension de la ligne de production."
    territoire = factory.SubFactory(TerritoireFactory)
    phase = factory.SubFactory(PhaseFactory)
    nature = "extension"
    porteur_raison_sociale = "Ateliers du Vivarais"
    porteur_siret = factory.LazyFunction(lambda: siret_fictif(_rng))
    porteur_taille = "PME"
    commune = factory.LazyAttribute(
        lambda o: (
            CommuneFactory(epci=o.territoire.epcis.first())
            if o.territoire.epcis.exists()
            else CommuneFactory()
        )
    )
    montant_investissement = Decimal("1000000.00")
    aide_demandee = Decimal("200000.00")
    emplois_crees = 10
    emplois_maintenus = 50
    date_debut_prevue = date(2026, 1, 1)
    deposant = factory.SubFactory(UserFactory)

    @factory.post_generation
    def complet(self, create, extracted, **kwargs):
        """One axe of its phase and one PDF attachment, so that it can be submitted."""
        if not create or extracted is False:
            return
        from django.core.files.base import ContentFile

        from demo.donnees import PDF_MINIMAL
        from projets.models import PieceJointe

        self.axes.add(self.phase.axes.first() or AxeFactory(phase=self.phase))
        piece = PieceJointe(
            projet=self,
            type="devis",
            nom_original="devis.pdf",
            type_mime="application/pdf",
            taille=len(PDF_MINIMAL),
            depose_par=self.deposant,
        )
        piece.fichier.save("piece", ContentFile(PDF_MINIMAL), save=False)
        piece.save()


class OperateurFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Operateur
        django_get_or_create = ("nom",)

    nom = "Région Auvergne-Rhône-Alpes"
    type = "region"
    siret = "20005376700014"


class DispositifFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dispositif

    nom = factory.Sequence(lambda n: f"Dispositif {n}")
    code = factory.Sequence(lambda n: f"dispositif-{n}")
    operateur = factory.SubFactory(OperateurFactory)
    phase = factory.SubFactory(PhaseFactory)
    natures = ["subvention", "avance_remboursable"]
    montant_national = Decimal("10000000.00")
    date_debut = date(2024, 1, 1)


class EnveloppeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enveloppe

    dispositif = factory.SubFactory(DispositifFactory)
    region = factory.SubFactory(RegionFactory)
    annee = 2026
    montant = Decimal("1000000.00")


class AideFactory(factory.django.DjangoModelFactory):
    """A proposed aide written directly (bypassing the service) for read-side tests."""

    class Meta:
        model = Aide

    enveloppe = factory.SubFactory(EnveloppeFactory)
    projet = factory.SubFactory(ProjetFactory)
    montant = Decimal("100000.00")
    nature = "subvention"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Written outside the service: bring the envelope's maintained totals along.
        aide = super()._create(model_class, *args, **kwargs)
        Enveloppe.objects.filter(pk=aide.enveloppe_id).recalculer_totaux()
        return aide
