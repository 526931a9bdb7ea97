"""The audit trail: one entry point, every kind of event, append-only, national eyes only."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory
from django.urls import reverse

from api.models import JetonPartenaire
from api.services import jeton_emettre, jeton_revoquer
from comptes import services
from comptes.audit import adresse_ip, journaliser
from comptes.models import DemandeHabilitation, EvenementAudit
from comptes.services import Perimetre
from territoires.models import Habilitation

from . import factories as f

pytestmark = pytest.mark.django_db
MOT_DE_PASSE = "motdepasse-de-test-123"
NAVIGATEUR = "Mozilla/5.0 (test) " + "x" * 400


def evenements(type_, **filtres):
    return EvenementAudit.objects.filter(type=type_, **filtres)


# ---------------------------------------------------------------------------
# The entry point


def test_journaliser_signature_de_l_export_api(personas):
    requete = RequestFactory().get(
        "/api/v1/projets/?format=csv", REMOTE_ADDR="192.0.2.7", HTTP_USER_AGENT=NAVIGATEUR
    )
    requete.user = personas["national"]
    evenement = journaliser("export", request=requete, ressource="projets", format="csv")
    evenement.refresh_from_db()
    assert evenement.type == "export"
    assert evenement.user == personas["national"] and evenement.identifiant == "national"
    assert evenement.adresse_ip == "192.0.2.7"
    assert evenement.user_agent == NAVIGATEUR[:255]
    assert evenement.details == {"ressource": "projets", "format": "csv"}
    assert evenement.horodatage is not None


def test_journaliser_refuse_un_type_inconnu(db):
    with pytest.raises(ValueError):
        journaliser("inconnu")


def test_adresse_derriere_un_mandataire(settings):
    requete = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.4"
    )
    assert adresse_ip(requete) == "10.0.0.1"  # X-Forwarded-For ignored by default
    settings.MANDATAIRES_DE_CONFIANCE = 1
    assert adresse_ip(requete) == "198.51.100.4"
    settings.MANDATAIRES_DE_CONFIANCE = 2
    assert adresse_ip(requete) == "203.0.113.9"


# ---------------------------------------------------------------------------
# Sign-ins


def test_connexion_echec_et_deconnexion(client, personas):
    url = reverse("connexion")
    client.post(url, {"username": "porteur-adn", "password": "faux"}, HTTP_USER_AGENT=NAVIGATEUR)
    echec = evenements("echec_connexion").get()
    assert echec.identifiant == "porteur-adn" and echec.user is None
    assert echec.adresse_ip == "127.0.0.1" and echec.user_agent == NAVIGATEUR[:255]
    assert "faux" not in str(echec.details)

    client.post(url, {"username": "porteur-adn", "password": MOT_DE_PASSE})
    connexion = evenements("connexion").get()
    assert connexion.user == personas["porteur-adn"]
    assert connexion.details["backend"] == "comptes.backends.MotDePasseBackend"

    client.post(reverse("deconnexion"))
    assert evenements("deconnexion", user=personas["porteur-adn"]).count() == 1


def test_connexion_au_back_office(client, personas):
    client.post(reverse("admin:login"), {"username": "region-ara", "password": MOT_DE_PASSE})
    assert evenements("connexion", user=personas["region-ara"]).exists()


def test_verrouillage_journalise(client, personas):
    for _ in range(5):
        client.post(reverse("connexion"), {"username": "porteur-ales", "password": "faux"})
    assert evenements("echec_connexion", identifiant="porteur-ales").count() == 5
    assert evenements("verrouillage", identifiant="porteur-ales").count() == 1


# ---------------------------------------------------------------------------
# Exports


def test_export_du_back_office(client, personas):
    client.force_login(personas["region-ara"])
    reponse = client.get("/admin/projets/projet/exporter/?format=xlsx&statut__exact=retenu")
    assert reponse.status_code == 200
    export = evenements("export").get()
    assert export.user == personas["region-ara"]
    assert export.details["ressource"] == "projets.projet"
    assert export.details["format"] == "xlsx"
    assert export.details["filtres"] == {"statut__exact": ["retenu"]}


# ---------------------------------------------------------------------------
# Rights


def test_changement_d_habilitation_et_de_perimetre(personas, monde):
    hab = personas["prefecture-07"].habilitation
    avant = EvenementAudit.objects.order_by("pk").last().pk  # the fixtures' own events
    hab.niveau = Habilitation.Niveau.INSTRUCTEUR
    hab.save()
    hab.departements.add(monde["d26"])
    hab.departements.remove(monde["d07"])
    modifications = list(evenements("habilitation", pk__gt=avant).order_by("pk"))
    assert [e.details["action"] for e in modifications] == ["modification", "ajout", "retrait"]
    assert modifications[0].details["niveau"] == 2
    assert "Drôme" in str(modifications[1].details["elements"])
    assert "Ardèche" in str(modifications[2].details["elements"])
    assert all(e.details["compte"] == "prefecture-07" for e in modifications)


def test_droits_d_un_compte(personas):
    user = personas["porteur-adn"]
    user.is_staff = True
    user.save()
    droits = evenements("permissions", details__compte="porteur-adn").get()
    assert droits.details["changements"] == {"is_staff": [False, True]}

    groupe = Group.objects.create(name="relecteurs")
    user.groups.add(groupe)
    user.user_permissions.add(Permission.objects.get(codename="view_projet"))
    actions = evenements("permissions", details__compte="porteur-adn").order_by("pk")
    assert [e.details.get("champ") for e in actions] == [None, "groups", "user_permissions"]
    # A sign-in (last_login) is not a rights change.
    user.save(update_fields=["last_login"])
    assert actions.count() == 3


def test_creation_d_un_superutilisateur(db):
    f.UserFactory(username="racine", is_superuser=True, is_staff=True)
    evenement = evenements("permissions", details__compte="racine").get()
    assert evenement.details["changements"] == {
        "is_staff": [False, True],
        "is_superuser": [False, True],
    }


def test_habilitation_par_le_back_office_avec_l_auteur(client, personas):
    client.force_login(personas["national"])
    cible = personas["prefecture-07"]
    page = client.get(f"/admin/territoires/habilitation/{cible.habilitation.pk}/change/")
    assert page.status_code == 200
    formulaire = page.context["adminform"].form
    donnees = {
        cle: valeur
        for cle, valeur in formulaire.initial.items()
        if valeur is not None and not isinstance(valeur, list)
    }
    donnees.update(
        user=cible.pk,
        niveau=3,
        departements=[d.pk for d in cible.habilitation.departements.all()],
    )
    reponse = client.post(
        f"/admin/territoires/habilitation/{cible.habilitation.pk}/change/", donnees
    )
    assert reponse.status_code == 302, reponse.content.decode()[:2000]
    evenement = evenements("habilitation", details__compte="prefecture-07").first()
    assert evenement.user == personas["national"]
    assert evenement.adresse_ip == "127.0.0.1"


def test_decisions_sur_les_demandes(personas, monde):
    demandeur = f.UserFactory(username="martine")
    accordee = DemandeHabilitation.objects.create(user=demandeur, email="martine@ara.gouv.fr")
    services.accorder_demande(
        accordee,
        personas["national"],
        Perimetre(role="agent", echelon="region", regions=[monde["ara"]]),
    )
    refusee = DemandeHabilitation.objects.create(
        user=f.UserFactory(username="jean"), email="jean@exemple.fr"
    )
    services.refuser_demande(refusee, personas["national"])
    decisions = evenements("habilitation", details__action__startswith="demande_")
    assert {(e.details["action"], e.details["compte"]) for e in decisions} == {
        ("demande_acceptee", "martine"),
        ("demande_refusee", "jean"),
    }
    assert all(e.user == personas["national"] for e in decisions)
    # The grant made martine staff: recorded too.
    assert evenements("permissions", details__compte="martine").exists()


def test_invitation_envoyee_puis_utilisee(client, personas, monde):
    _, jeton = services.inviter(
        personas["national"],
        "claire@annonay.fr",
        Perimetre(role="porteur", echelon="territoire", territoires=[monde["adn"]]),
    )
    envoi = evenements("habilitation", details__action="invitation_envoyee").get()
    assert envoi.user == personas["national"]
    mot_de_passe = "Un-mot-de-passe-solide-2026"
    client.post(
        f"/comptes/invitation/{jeton}/",
        {"mot_de_passe": mot_de_passe, "confirmation": mot_de_passe},
    )
    utilisee = evenements("habilitation", details__action="invitation_acceptee").get()
    assert utilisee.identifiant == "claire@annonay.fr"
    assert utilisee.details["invitee_par"] == "national"
    assert utilisee.adresse_ip == "127.0.0.1"


def test_jetons_d_api(personas):
    jeton = JetonPartenaire(user=personas["partenaire-bpi"], nom="Bpifrance", niveau="complet")
    secret = jeton_emettre(par=personas["national"], jeton=jeton)
    jeton_revoquer(par=personas["national"], jeton=jeton)
    actions = evenements("jeton").order_by("pk")
    assert [e.details["action"] for e in actions] == ["emission", "revocation"]
    assert all(e.user == personas["national"] for e in actions)
    assert actions[0].details["titulaire"] == "partenaire-bpi"
    assert secret not in str(list(actions.values()))


# ---------------------------------------------------------------------------
# Append-only, and who reads it


def test_journal_en_ajout_seul(db):
    evenement = journaliser("export", ressource="x", format="csv")
    with pytest.raises(PermissionError):
        evenement.save()
    with pytest.raises(PermissionError):
        evenement.delete()
    with pytest.raises(PermissionError):
        EvenementAudit.objects.update(objet="effacé")
    with pytest.raises(PermissionError):
        EvenementAudit.objects.all().delete()
    assert EvenementAudit.objects.filter(pk=evenement.pk).exists()


def test_liste_reservee_aux_administrateurs_nationaux(client, personas, monde):
    admin_ara = f.utilisateur(
        "admin-ara",
        role="agent",
        echelon="region",
        niveau=Habilitation.Niveau.ADMINISTRATEUR,
        regions=[monde["ara"]],
    )
    journaliser("echec_connexion", identifiant="quelquun")
    liste = "/admin/comptes/evenementaudit/"
    for user in (admin_ara, personas["region-ara"], personas["prefecture-07"]):
        client.force_login(user)
        assert client.get(liste).status_code == 403
        assert "evenementaudit" not in client.get("/admin/").content.decode()
    client.force_login(personas["national"])
    page = client.get(liste)
    assert page.status_code == 200 and "quelquun" in page.content.decode()
    assert client.get(liste, {"type__exact": "echec_connexion"}).status_code == 200
    assert client.get(liste, {"q": "quelquun"}).context["cl"].result_count == 1
    assert client.get(liste, {"q": "national"}).context["cl"].result_count >= 1


def test_ni_modification_ni_suppression_dans_le_back_office(client, personas):
    evenement = journaliser("echec_connexion", identifiant="quelquun")
    client.force_login(personas["national"])
    url = f"/admin/comptes/evenementaudit/{evenement.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="identifiant"' not in page.content.decode()  # read-only
    client.post(url, {"identifiant": "autre", "type": "connexion"})
    evenement.refresh_from_db()
    assert evenement.identifiant == "quelquun" and evenement.type == "echec_connexion"
    assert client.get(f"/admin/comptes/evenementaudit/{evenement.pk}/delete/").status_code == 403
    assert client.get("/admin/comptes/evenementaudit/add/").status_code == 403
    reponse = client.post(
        "/admin/comptes/evenementaudit/",
        {"action": "delete_selected", "_selected_action": [evenement.pk]},
    )
    assert EvenementAudit.objects.filter(pk=evenement.pk).exists()
    assert reponse.status_code in (200, 302)
