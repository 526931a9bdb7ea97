"""Log in, log out, password reset by e-mail and the account page."""

import re

from django.core import mail
from django.test import Client
from django.urls import reverse

MOT_DE_PASSE = "motdepasse-de-test-123"


def test_connexion_puis_mes_dossiers(client, personas):
    reponse = client.get(reverse("connexion"))
    assert reponse.status_code == 200
    assert 'class="fr-input' in reponse.content.decode()
    reponse = client.post(
        reverse("connexion"), {"username": "porteur-adn", "password": MOT_DE_PASSE}
    )
    assert reponse.url == reverse("mes_dossiers")
    assert client.get(reverse("mes_dossiers")).status_code == 200


def test_connexion_refusee_message_en_francais(client, personas):
    reponse = client.post(reverse("connexion"), {"username": "porteur-adn", "password": "faux"})
    assert reponse.status_code == 200
    assert "Identifiant ou mot de passe incorrect." in reponse.content.decode()
    assert "_auth_user_id" not in client.session


def test_connexion_exige_le_jeton_csrf(personas):
    client = Client(enforce_csrf_checks=True)
    reponse = client.post(
        reverse("connexion"), {"username": "porteur-adn", "password": MOT_DE_PASSE}
    )
    assert reponse.status_code == 403
    assert "_auth_user_id" not in client.session


def test_deconnexion_en_post(client, personas):
    client.force_login(personas["porteur-adn"])
    page = client.get(reverse("accueil")).content.decode()
    assert f'action="{reverse("deconnexion")}"' in page
    reponse = client.post(reverse("deconnexion"))
    assert reponse.url == reverse("accueil")
    assert "_auth_user_id" not in client.session


def test_mot_de_passe_oublie_par_courriel(client, personas):
    reponse = client.post(reverse("mot_de_passe_oublie"), {"email": "porteur-adn@exemple.gouv.fr"})
    assert reponse.url == reverse("mot_de_passe_envoye")
    assert len(mail.outbox) == 1
    courriel = mail.outbox[0]
    assert "réinitialisation" in courriel.subject
    lien = re.search(r"http://127.0.0.1:8000(/mot-de-passe/nouveau/\S+/)", courriel.body)[1]

    reponse = client.get(lien, follow=True)  # Django swaps the token for a session key
    assert reponse.context["validlink"]
    nouveau = "Un-nouveau-mot-de-passe-2026"
    reponse = client.post(
        reponse.redirect_chain[-1][0],
        {"new_password1": nouveau, "new_password2": nouveau},
    )
    assert reponse.url == reverse("mot_de_passe_reinitialise")
    # client.login() has no request, which django-axes' backend refuses: sign in by the form.
    reponse = client.post(reverse("connexion"), {"username": "porteur-adn", "password": nouveau})
    assert reponse.url == reverse("mes_dossiers")


def test_mot_de_passe_oublie_adresse_inconnue(client, db):
    reponse = client.post(reverse("mot_de_passe_oublie"), {"email": "inconnu@exemple.fr"})
    assert reponse.url == reverse("mot_de_passe_envoye")  # no account enumeration
    assert mail.outbox == []


def test_nouveau_mot_de_passe_trop_faible(client, personas):
    client.post(reverse("mot_de_passe_oublie"), {"email": "porteur-adn@exemple.gouv.fr"})
    lien = re.search(r"http://127.0.0.1:8000(/mot-de-passe/nouveau/\S+/)", mail.outbox[0].body)[1]
    reponse = client.get(lien, follow=True)
    reponse = client.post(
        reponse.redirect_chain[-1][0], {"new_password1": "court", "new_password2": "court"}
    )
    assert reponse.status_code == 200
    assert "Ce mot de passe est trop court" in reponse.content.decode()


def test_page_compte(client, personas):
    assert client.get(reverse("compte")).status_code == 302
    client.force_login(personas["porteur-adn"])
    reponse = client.get(reverse("compte"))
    contenu = reponse.content.decode()
    assert "Porteur de territoire" in contenu
    assert "Ardèche-Drôme Nord" in contenu
    assert reverse("mot_de_passe_changer") in contenu


def test_changer_de_mot_de_passe(client, personas):
    client.force_login(personas["porteur-adn"])
    nouveau = "Encore-un-mot-de-passe-2026"
    reponse = client.post(
        reverse("mot_de_passe_changer"),
        {"old_password": MOT_DE_PASSE, "new_password1": nouveau, "new_password2": nouveau},
    )
    assert reponse.url == reverse("mot_de_passe_change")
    personas["porteur-adn"].refresh_from_db()
    assert personas["porteur-adn"].check_password(nouveau)
