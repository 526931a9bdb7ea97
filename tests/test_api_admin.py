"""Partner tokens in the back-office: issued and revoked by national administrators."""

import pytest
from django.test import Client

from api.models import JetonPartenaire, empreinte_secret

from .api_outils import _api_sans_quota_partage  # noqa: F401

URL = "/admin/api/jetonpartenaire/"


@pytest.fixture
def navigateur():
    return Client()


def test_creation_affiche_le_secret_une_seule_fois(navigateur, personas):
    navigateur.force_login(personas["national"])
    reponse = navigateur.post(
        f"{URL}add/",
        {
            "user": personas["partenaire-bpi"].pk,
            "nom": "Synchronisation Bpifrance",
            "niveau": "complet",
            "expire_le_0": "",
            "expire_le_1": "",
        },
    )
    assert reponse.status_code == 200
    jeton = JetonPartenaire.objects.get()
    secret = reponse.context["secret"]
    assert secret in reponse.content.decode()
    assert "no-store" in reponse["Cache-Control"]
    assert jeton.empreinte == empreinte_secret(secret)
    assert jeton.cree_par == personas["national"]
    # Never shown again: not in the list nor in the token's page.
    assert secret not in navigateur.get(URL).content.decode()
    assert secret not in navigateur.get(f"{URL}{jeton.pk}/change/").content.decode()
    # And it works against the API.
    api = Client()
    reponse = api.get("/api/v1/projets/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert reponse.status_code == 200


def test_porteur_refuse_comme_titulaire(navigateur, personas):
    navigateur.force_login(personas["national"])
    reponse = navigateur.post(
        f"{URL}add/", {"user": personas["porteur-adn"].pk, "nom": "x", "niveau": "complet"}
    )
    assert reponse.status_code == 200
    assert "user" in reponse.context["adminform"].form.errors
    assert not JetonPartenaire.objects.exists()


@pytest.mark.parametrize("persona", ["region-ara", "prefecture-07"])
def test_reserve_aux_administrateurs_nationaux(navigateur, personas, persona):
    navigateur.force_login(personas[persona])
    assert navigateur.get(URL).status_code == 403
    reponse = navigateur.post(
        f"{URL}add/", {"user": personas["partenaire-bpi"].pk, "nom": "x", "niveau": "complet"}
    )
    assert reponse.status_code == 403
    assert not JetonPartenaire.objects.exists()


def test_action_revoquer(navigateur, personas):
    from .api_outils import emettre

    jeton, secret = emettre(personas, personas["partenaire-bpi"])
    navigateur.force_login(personas["national"])
    reponse = navigateur.post(URL, {"action": "revoquer", "_selected_action": [jeton.pk]})
    assert reponse.status_code == 302
    jeton.refresh_from_db()
    assert jeton.revoque_par == personas["national"]
    reponse = Client().get("/api/v1/projets/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert reponse.status_code == 401
