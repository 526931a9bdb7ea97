"""A stale access request never overwrites a grant; a grant never exceeds what its
granter may give at the time; a pending request is closed when a habilitation is
granted elsewhere (back-office, another request)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from comptes import services
from comptes.models import DemandeHabilitation, JournalHabilitation
from comptes.services import Perimetre
from territoires.models import Habilitation

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_ara(monde):
    return f.utilisateur(
        "admin-ara",
        role="agent",
        echelon="region",
        niveau=Habilitation.Niveau.ADMINISTRATEUR,
        regions=[monde["ara"]],
    )


@pytest.fixture
def demandeur(db):
    return f.UserFactory(username="martine", email="martine.dupont@ara.gouv.fr")


def demande_de(user):
    return DemandeHabilitation.objects.create(user=user, email=user.email, nom="Martine Dupont")


def lecteur_ara(monde):
    return Perimetre(role="agent", echelon="region", niveau=1, regions=[monde["ara"]])


def test_demande_perimee_n_ecrase_pas_une_habilitation_nationale(
    monde, personas, admin_ara, demandeur
):
    """Failed before the fix: the regional administrator's acceptance turned the
    national administrator granted meanwhile into a regional reader."""
    demande = demande_de(demandeur)
    # Meanwhile the national team grants a national habilitation in the back-office.
    Habilitation.objects.create(
        user=demandeur, role="agent", echelon="national", niveau=Habilitation.Niveau.ADMINISTRATEUR
    )
    demande.refresh_from_db()
    assert demande.statut == DemandeHabilitation.Statut.CLOSE
    assert JournalHabilitation.objects.filter(action="demande_close", user=demandeur).exists()

    with pytest.raises(ValidationError, match="déjà été traitée"):
        services.accorder_demande(demande, admin_ara, lecteur_ara(monde))
    hab = Habilitation.objects.get(user=demandeur)
    assert (hab.echelon, hab.niveau) == ("national", Habilitation.Niveau.ADMINISTRATEUR)


def test_demande_restee_ouverte_close_sans_rien_ecraser(monde, admin_ara, demandeur):
    """A request left pending beside an existing habilitation (created before the rule,
    or without signals) is closed and refused, the habilitation untouched."""
    demande = demande_de(demandeur)
    Habilitation.objects.bulk_create(
        [Habilitation(user=demandeur, role="agent", echelon="national", niveau=3)]
    )
    with pytest.raises(ValidationError, match="déjà une habilitation"):
        services.accorder_demande(demande, admin_ara, lecteur_ara(monde))
    demande.refresh_from_db()
    assert demande.statut == DemandeHabilitation.Statut.CLOSE
    hab = Habilitation.objects.get(user=demandeur)
    assert (hab.echelon, hab.niveau) == ("national", 3)
    assert not hab.regions.exists()


def test_vue_de_la_demande_affiche_le_refus(client, monde, admin_ara, demandeur):
    demande = demande_de(demandeur)
    Habilitation.objects.bulk_create(
        [Habilitation(user=demandeur, role="agent", echelon="national", niveau=3)]
    )
    client.force_login(admin_ara)
    reponse = client.post(
        f"/comptes/demandes/{demande.pk}/",
        {
            "accorder": "1",
            "role": "agent",
            "echelon": "region",
            "niveau": "1",
            "regions": [monde["ara"].pk],
        },
    )
    assert reponse.status_code == 200
    assert "déjà une habilitation" in reponse.content.decode()
    assert Habilitation.objects.get(user=demandeur).echelon == "national"


def test_accorder_une_demande_clot_les_autres(monde, admin_ara, demandeur):
    premiere, seconde = demande_de(demandeur), demande_de(demandeur)
    services.accorder_demande(premiere, admin_ara, lecteur_ara(monde))
    premiere.refresh_from_db()
    seconde.refresh_from_db()
    assert premiere.statut == DemandeHabilitation.Statut.ACCEPTEE
    assert seconde.statut == DemandeHabilitation.Statut.CLOSE
    assert seconde.decidee_par == admin_ara
    with pytest.raises(ValidationError, match="déjà été traitée"):
        services.accorder_demande(seconde, admin_ara, lecteur_ara(monde))


def test_habilitation_accordee_au_back_office_clot_la_demande(client, monde, personas, demandeur):
    demande = demande_de(demandeur)
    client.force_login(personas["national"])
    reponse = client.post(
        "/admin/territoires/habilitation/add/",
        {"user": demandeur.pk, "role": "agent", "echelon": "national", "niveau": "1"},
    )
    assert reponse.status_code == 302, reponse.content.decode()[:2000]
    demande.refresh_from_db()
    assert demande.statut == DemandeHabilitation.Statut.CLOSE
    assert demande.decidee_par == personas["national"]


def test_accorder_ne_depasse_pas_le_perimetre_du_moment(client, monde, admin_ara):
    """An invitation is checked again when accepted: an inviter who lost the level or
    the perimeter since cannot grant it any more."""
    _, jeton = services.inviter(
        admin_ara,
        "paul@ara.gouv.fr",
        Perimetre(role="agent", echelon="region", niveau=3, regions=[monde["ara"]]),
    )
    hab = admin_ara.habilitation
    hab.niveau = Habilitation.Niveau.INSTRUCTEUR
    hab.save()
    invitation = services.invitation_par_jeton(jeton)
    with pytest.raises(ValidationError, match="n'est plus valable"):
        services.accepter_invitation(invitation, mot_de_passe="Un-mot-de-passe-solide-2026")
    assert not get_user_model().objects.filter(email="paul@ara.gouv.fr").exists()


@pytest.mark.parametrize(
    ("perimetre", "message"),
    [
        (Perimetre(role="agent", echelon="national", niveau=1), "plus large"),
        (Perimetre(role="agent", echelon="region", niveau=1), "au moins un"),
    ],
)
def test_demande_jamais_au_dela_du_perimetre(monde, admin_ara, demandeur, perimetre, message):
    demande = demande_de(demandeur)
    with pytest.raises(ValidationError, match=message):
        services.accorder_demande(demande, admin_ara, perimetre)
    assert not Habilitation.objects.filter(user=demandeur).exists()
    demande.refresh_from_db()
    assert demande.statut == DemandeHabilitation.Statut.EN_ATTENTE


def test_demande_jamais_au_dessus_du_niveau(monde, personas, demandeur):
    instructeur_admin = f.utilisateur(
        "admin-occ", role="agent", echelon="region", niveau=2, regions=[monde["occ"]]
    )
    demande = demande_de(demandeur)
    with pytest.raises(ValidationError):
        services.accorder_demande(
            demande,
            instructeur_admin,
            Perimetre(role="agent", echelon="region", niveau=1, regions=[monde["occ"]]),
        )
    assert not Habilitation.objects.filter(user=demandeur).exists()
