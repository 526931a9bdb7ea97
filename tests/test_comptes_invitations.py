"""Invitations and access requests: single use, expiry, the granter's perimeter, the log."""

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from comptes import services
from comptes.models import DemandeHabilitation, Invitation, JournalHabilitation, empreinte
from comptes.services import Perimetre
from territoires.models import Habilitation

from .comptes_outils import installer_proconnect, se_connecter

pytestmark = pytest.mark.django_db
MOT_DE_PASSE = "Un-mot-de-passe-solide-2026"


@pytest.fixture
def proconnect(settings, monkeypatch):
    yield from installer_proconnect(settings, monkeypatch)


@pytest.fixture
def admin_ara(monde):
    from . import factories as f

    return f.utilisateur(
        "admin-ara",
        role="agent",
        echelon="region",
        niveau=Habilitation.Niveau.ADMINISTRATEUR,
        regions=[monde["ara"]],
    )


def inviter_porteur(par, monde, email="claire@annonay.fr"):
    return services.inviter(
        par,
        email,
        Perimetre(role="porteur", echelon="territoire", niveau=2, territoires=[monde["adn"]]),
    )


def lien(jeton):
    return f"/comptes/invitation/{jeton}/"


def accepter_par_mot_de_passe(client, jeton):
    return client.post(lien(jeton), {"mot_de_passe": MOT_DE_PASSE, "confirmation": MOT_DE_PASSE})


def test_invitation_envoyee_par_courriel_jeton_hache(monde, admin_ara):
    invitation, jeton = inviter_porteur(admin_ara, monde)
    assert invitation.jeton_empreinte == empreinte(jeton) and jeton not in str(
        Invitation.objects.values_list().get()
    )
    assert invitation.expire_le - invitation.cree_le == timedelta(days=7)
    # The e-mail leaves on commit (pytest-django's db fixture wraps in a transaction).


def test_formulaire_d_invitation_envoie_le_courriel(
    client, monde, admin_ara, django_capture_on_commit_callbacks
):
    client.force_login(admin_ara)
    with django_capture_on_commit_callbacks(execute=True):
        reponse = client.post(
            "/comptes/invitations/",
            {
                "email": "claire@annonay.fr",
                "role": "porteur",
                "echelon": "territoire",
                "niveau": "2",
                "territoires": [monde["adn"].pk],
            },
        )
    assert reponse.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["claire@annonay.fr"]
    assert "/comptes/invitation/" in mail.outbox[0].body
    assert Invitation.objects.get().email == "claire@annonay.fr"


def test_invitation_acceptee_une_seule_fois_avec_le_perimetre_exact(client, monde, admin_ara):
    _, jeton = inviter_porteur(admin_ara, monde)

    reponse = accepter_par_mot_de_passe(client, jeton)

    assert reponse.status_code == 302
    user = get_user_model().objects.get(email="claire@annonay.fr")
    assert int(client.session[SESSION_KEY]) == user.pk
    hab = user.habilitation
    assert (hab.role, hab.echelon, hab.niveau) == ("porteur", "territoire", 2)
    assert list(hab.territoires.all()) == [monde["adn"]]
    assert not hab.regions.exists() and not hab.departements.exists()
    assert not user.is_staff
    assert hab.history.first().history_user == admin_ara
    journal = JournalHabilitation.objects.get(action="invitation_acceptee")
    assert (journal.user, journal.par) == (user, admin_ara)
    assert "Ardèche-Drôme Nord" in journal.perimetre

    client.logout()
    deuxieme = accepter_par_mot_de_passe(client, jeton)
    assert deuxieme.status_code == 410
    assert "déjà été utilisée" in deuxieme.content.decode()
    assert get_user_model().objects.filter(email="claire@annonay.fr").count() == 1


def test_invitation_expiree_refusee(client, monde, admin_ara):
    invitation, jeton = inviter_porteur(admin_ara, monde)
    Invitation.objects.filter(pk=invitation.pk).update(
        expire_le=timezone.now() - timedelta(seconds=1)
    )
    reponse = accepter_par_mot_de_passe(client, jeton)
    assert reponse.status_code == 410 and "expiré" in reponse.content.decode()
    assert not get_user_model().objects.filter(email="claire@annonay.fr").exists()


def test_lien_inconnu(client, monde):
    reponse = client.get(lien("nimporte-quoi"))
    assert reponse.status_code == 404 and "pas valide" in reponse.content.decode()


def test_mot_de_passe_faible_refuse(client, monde, admin_ara):
    _, jeton = inviter_porteur(admin_ara, monde)
    reponse = client.post(lien(jeton), {"mot_de_passe": "123", "confirmation": "123"})
    assert reponse.status_code == 200
    assert "trop court" in reponse.content.decode()
    assert Invitation.objects.get().acceptee_le is None


@pytest.mark.parametrize(
    ("perimetre", "message"),
    [
        (Perimetre(role="agent", echelon="national", niveau=1), "échelon plus large"),
        (
            Perimetre(role="agent", echelon="region", niveau=1, regions=["occ"]),
            "hors de votre périmètre",
        ),
        (
            Perimetre(role="agent", echelon="departement", niveau=1, departements=["d30"]),
            "hors de votre périmètre",
        ),
        (
            Perimetre(role="porteur", echelon="territoire", niveau=1, territoires=["ales"]),
            "hors de votre périmètre",
        ),
        (Perimetre(role="partenaire", echelon="national", niveau=1), "agent ou un porteur"),
        (Perimetre(role="porteur", echelon="region", niveau=1, regions=["ara"]), "territoires"),
    ],
)
def test_pas_au_dela_de_son_propre_perimetre(monde, admin_ara, perimetre, message):
    for nom in ("regions", "departements", "territoires"):
        setattr(perimetre, nom, [monde[c] for c in getattr(perimetre, nom)])
    with pytest.raises(ValidationError) as exc:
        services.inviter(admin_ara, "x@example.fr", perimetre)
    assert any(message in m for m in exc.value.messages), exc.value.messages
    assert not Invitation.objects.exists()


def test_pas_au_dessus_de_son_niveau(monde, personas):
    from . import factories as f

    admin_07 = f.utilisateur(
        "admin-07", role="agent", echelon="departement", niveau=3, departements=[monde["d07"]]
    )
    services.inviter(
        admin_07,
        "a@ardeche.gouv.fr",
        Perimetre("agent", "departement", 3, departements=[monde["d07"]]),
    )
    instructeur = personas["region-ara"]  # instructor level: may not invite at all
    with pytest.raises(ValidationError, match="administrateurs"):
        services.inviter(
            instructeur, "b@ara.gouv.fr", Perimetre("agent", "region", 1, regions=[monde["ara"]])
        )


def test_national_invite_un_agent_regional(monde, personas, client):
    invitation, jeton = services.inviter(
        personas["national"],
        "agent@ara.gouv.fr",
        Perimetre("agent", "region", 2, regions=[monde["ara"]]),
    )
    accepter_par_mot_de_passe(client, jeton)
    user = get_user_model().objects.get(email="agent@ara.gouv.fr")
    assert user.is_staff and user.habilitation.niveau == 2
    assert list(user.habilitation.regions.all()) == [monde["ara"]]


def test_pas_d_invitation_pour_un_compte_existant(monde, personas):
    personas["porteur-adn"].email = "claire@annonay.fr"
    personas["porteur-adn"].save()
    with pytest.raises(ValidationError, match="existe déjà"):
        inviter_porteur(personas["national"], monde, email="Claire@Annonay.fr")


def test_page_d_invitation_reservee_aux_administrateurs(client, personas):
    client.force_login(personas["region-ara"])  # instructor
    assert client.get("/comptes/invitations/").status_code == 403
    client.force_login(personas["porteur-adn"])
    assert client.get("/comptes/invitations/").status_code == 403


def test_agent_invite_sans_mot_de_passe_quand_desactive(client, settings, monde, personas):
    settings.CONNEXION_MOT_DE_PASSE_AGENTS = False
    _, jeton = services.inviter(
        personas["national"],
        "agent@ara.gouv.fr",
        Perimetre("agent", "region", 1, regions=[monde["ara"]]),
    )
    reponse = accepter_par_mot_de_passe(client, jeton)
    assert reponse.status_code == 200
    assert not get_user_model().objects.filter(email="agent@ara.gouv.fr").exists()


# ---------------------------------------------------------------------------
# Accepting with ProConnect


def test_invitation_acceptee_avec_proconnect(client, monde, admin_ara, proconnect):
    _, jeton = inviter_porteur(admin_ara, monde, email="Martine.Dupont@ara.gouv.fr")
    depart = client.post(lien(jeton), {"proconnect": "1"})
    assert depart.url == "/proconnect/connexion/?invitation=1"
    redirection = client.get(depart.url)
    reponse = client.get("/proconnect/retour/", proconnect.autoriser(redirection.url))

    user = get_user_model().objects.get(email__iexact="martine.dupont@ara.gouv.fr")
    assert int(client.session[SESSION_KEY]) == user.pk
    assert reponse.url == reverse("mes_dossiers")
    assert list(user.habilitation.territoires.all()) == [monde["adn"]]
    assert user.profil_proconnect.sub == "sub-martine"
    assert not DemandeHabilitation.objects.exists()
    assert Invitation.objects.get().acceptee_le is not None


def test_invitation_proconnect_avec_une_autre_adresse_refusee(client, monde, admin_ara, proconnect):
    _, jeton = inviter_porteur(admin_ara, monde, email="quelquun.dautre@annonay.fr")
    client.post(lien(jeton), {"proconnect": "1"})
    redirection = client.get("/proconnect/connexion/?invitation=1")
    reponse = client.get("/proconnect/retour/", proconnect.autoriser(redirection.url))
    assert reponse.url == "/connexion/" and SESSION_KEY not in client.session
    assert not get_user_model().objects.filter(email__iexact="martine.dupont@ara.gouv.fr").exists()
    assert Invitation.objects.get().acceptee_le is None


# ---------------------------------------------------------------------------
# Access requests


@pytest.fixture
def demande(client, monde, proconnect):
    se_connecter(client, proconnect)
    client.logout()
    return DemandeHabilitation.objects.get()


def test_demandes_visibles_des_seuls_administrateurs(client, personas, demande):
    for nom in ("region-ara", "prefecture-07", "porteur-adn", "partenaire-bpi"):
        client.force_login(personas[nom])
        assert client.get("/comptes/demandes/").status_code == 403
        assert client.get(f"/comptes/demandes/{demande.pk}/").status_code == 403
    client.force_login(personas["national"])
    page = client.get("/comptes/demandes/").content.decode()
    assert "martine.dupont@ara.gouv.fr" in page and "13002526500013" in page and "fia1v2" in page


def test_administrateur_regional_accorde_dans_son_perimetre(client, admin_ara, monde, demande):
    client.force_login(admin_ara)
    hors = client.post(
        f"/comptes/demandes/{demande.pk}/",
        {
            "accorder": "1",
            "role": "agent",
            "echelon": "region",
            "niveau": "1",
            "regions": [monde["occ"].pk],
        },
    )
    assert hors.status_code == 200  # Occitanie is not offered nor accepted
    assert not Habilitation.objects.filter(user=demande.user).exists()

    reponse = client.post(
        f"/comptes/demandes/{demande.pk}/",
        {
            "accorder": "1",
            "role": "agent",
            "echelon": "departement",
            "niveau": "2",
            "departements": [monde["d07"].pk],
        },
    )
    assert reponse.status_code == 302
    demande.refresh_from_db()
    assert demande.statut == "acceptee" and demande.decidee_par == admin_ara
    hab = demande.user.habilitation
    assert (hab.role, hab.echelon, hab.niveau) == ("agent", "departement", 2)
    assert list(hab.departements.all()) == [monde["d07"]]
    assert hab.history.first().history_user == admin_ara
    assert JournalHabilitation.objects.filter(action="demande_acceptee", par=admin_ara).exists()
    # Already decided: a second grant is refused.
    with pytest.raises(ValidationError, match="déjà été traitée"):
        services.refuser_demande(demande, admin_ara)


def test_refus_d_une_demande(client, personas, demande):
    client.force_login(personas["national"])
    reponse = client.post(f"/comptes/demandes/{demande.pk}/", {"refuser": "1"})
    assert reponse.status_code == 302
    demande.refresh_from_db()
    assert demande.statut == "refusee" and demande.decidee_le is not None
    assert not Habilitation.objects.filter(user=demande.user).exists()
    assert JournalHabilitation.objects.filter(action="demande_refusee").count() == 1
