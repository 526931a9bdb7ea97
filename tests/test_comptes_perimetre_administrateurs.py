"""A regional administrator reads the invitations, grant journal, ProConnect profiles and
decided access requests of its own perimeter only (national administrators: all)."""

import pytest

from comptes import services
from comptes.models import (
    DemandeHabilitation,
    Invitation,
    JournalHabilitation,
    ProfilProConnect,
)
from comptes.services import Perimetre
from territoires.models import Habilitation

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrateurs(monde, personas):
    return {
        "national": personas["national"],
        "ara": f.utilisateur(
            "admin-ara", role="agent", echelon="region", niveau=3, regions=[monde["ara"]]
        ),
        "occ": f.utilisateur(
            "admin-occ", role="agent", echelon="region", niveau=3, regions=[monde["occ"]]
        ),
    }


@pytest.fixture
def deux_regions(monde, administrateurs):
    """In each région: an invitation, a granted request (journal) and a ProConnect
    profile."""
    for cle, region, territoire in (("ara", "ara", "adn"), ("occ", "occ", "ales")):
        admin = administrateurs[cle]
        services.inviter(
            admin,
            f"invite-{cle}@exemple.fr",
            Perimetre(
                role="porteur", echelon="territoire", niveau=1, territoires=[monde[territoire]]
            ),
        )
        demandeur = f.UserFactory(username=f"demandeur-{cle}", email=f"demandeur-{cle}@exemple.fr")
        ProfilProConnect.objects.create(user=demandeur, sub=f"sub-{cle}", siret="13002526500013")
        demande = DemandeHabilitation.objects.create(user=demandeur, email=demandeur.email)
        services.accorder_demande(
            demande,
            admin,
            Perimetre(role="agent", echelon="region", niveau=1, regions=[monde[region]]),
        )
    attente = f.UserFactory(username="en-attente", email="en-attente@exemple.fr")
    DemandeHabilitation.objects.create(user=attente, email=attente.email)


def courriels(queryset, champ="email"):
    return sorted(queryset.values_list(champ, flat=True))


def test_querysets_limites_au_perimetre(administrateurs, deux_regions):
    ara, national = administrateurs["ara"], administrateurs["national"]
    assert courriels(Invitation.objects.visibles_par(ara)) == ["invite-ara@exemple.fr"]
    assert len(Invitation.objects.visibles_par(national)) == 2
    assert set(courriels(JournalHabilitation.objects.visibles_par(ara))) == {
        "invite-ara@exemple.fr",
        "demandeur-ara@exemple.fr",
    }
    assert courriels(ProfilProConnect.objects.visibles_par(ara), "sub") == ["sub-ara"]
    assert courriels(ProfilProConnect.objects.visibles_par(national), "sub") == [
        "sub-ara",
        "sub-occ",
    ]
    # The pending request (no région yet) is in every administrator's queue.
    assert courriels(DemandeHabilitation.objects.visibles_par(ara)) == [
        "demandeur-ara@exemple.fr",
        "en-attente@exemple.fr",
    ]
    assert len(DemandeHabilitation.objects.visibles_par(national)) == 3


def test_non_administrateurs_ne_voient_rien(personas, deux_regions):
    for nom in ("region-ara", "prefecture-07", "porteur-adn", "partenaire-bpi"):
        user = personas[nom]
        for modele in (Invitation, JournalHabilitation, ProfilProConnect, DemandeHabilitation):
            assert not modele.objects.visibles_par(user).exists(), (nom, modele)


@pytest.mark.parametrize(
    ("modele", "visible", "cache"),
    [
        ("invitation", "invite-ara@exemple.fr", "invite-occ@exemple.fr"),
        ("journalhabilitation", "demandeur-ara@exemple.fr", "demandeur-occ@exemple.fr"),
        ("profilproconnect", "demandeur-ara", "demandeur-occ"),
        ("demandehabilitation", "demandeur-ara@exemple.fr", "demandeur-occ@exemple.fr"),
    ],
)
def test_pages_du_back_office_limitees(
    client, administrateurs, deux_regions, modele, visible, cache
):
    """Failed before the fix: the regional administrator's lists showed the other
    région's invitations (e-mails, perimeters), journal, profiles and requests."""
    client.force_login(administrateurs["ara"])
    page = client.get(f"/admin/comptes/{modele}/")
    assert page.status_code == 200
    contenu = page.content.decode()
    assert visible in contenu and cache not in contenu
    # The other région's object answers 404 whatever the view.
    classe = {
        "invitation": Invitation,
        "journalhabilitation": JournalHabilitation,
        "profilproconnect": ProfilProConnect,
        "demandehabilitation": DemandeHabilitation,
    }[modele]
    champ = "user__username" if classe is ProfilProConnect else "email__startswith"
    autre = classe.objects.filter(**{champ: cache}).first()
    assert client.get(f"/admin/comptes/{modele}/{autre.pk}/change/").status_code == 404
    client.force_login(administrateurs["national"])
    assert cache in client.get(f"/admin/comptes/{modele}/").content.decode()


def test_page_des_demandes_limitee(client, administrateurs, deux_regions):
    client.force_login(administrateurs["ara"])
    page = client.get("/comptes/demandes/").content.decode()
    assert "demandeur-ara@exemple.fr" in page and "en-attente@exemple.fr" in page
    assert "demandeur-occ@exemple.fr" not in page
    autre = DemandeHabilitation.objects.get(email="demandeur-occ@exemple.fr")
    assert client.get(f"/comptes/demandes/{autre.pk}/").status_code == 404


def test_invitation_nationale_cachee_aux_regions(monde, administrateurs):
    services.inviter(
        administrateurs["national"],
        "directrice@anct.gouv.fr",
        Perimetre(role="agent", echelon="national", niveau=Habilitation.Niveau.ADMINISTRATEUR),
    )
    services.inviter(
        administrateurs["national"],
        "deux-regions@exemple.fr",
        Perimetre(role="agent", echelon="region", niveau=1, regions=[monde["ara"], monde["occ"]]),
    )
    assert not Invitation.objects.visibles_par(administrateurs["ara"]).exists()
    assert Invitation.objects.visibles_par(administrateurs["national"]).count() == 2
