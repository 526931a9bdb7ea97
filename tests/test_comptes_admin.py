"""Issue 10: the back-office shows access requests to administrators, and the ProConnect
button on its login page when ProConnect is configured."""

import pytest

from comptes.models import DemandeHabilitation

from .factories import UserFactory
from .test_comptes_proconnect import proconnect  # noqa: F401 - fixture


@pytest.mark.parametrize(
    ("persona", "attendu"),
    [
        ("national", 200),
        ("region-ara", 403),
        ("prefecture-07", 403),
        ("porteur-adn", 302),
    ],
)
def test_demandes_visibles_des_administrateurs(client, personas, persona, attendu):
    demandeur = UserFactory(username="inconnu", email="agent@region.fr")
    DemandeHabilitation.objects.create(user=demandeur, email="agent@region.fr", nom="Agent")
    client.force_login(personas[persona])
    reponse = client.get("/admin/comptes/demandehabilitation/")
    assert reponse.status_code == attendu
    if attendu == 200:
        assert "agent@region.fr" in reponse.text and "Accorder ou refuser" in reponse.text


def test_bouton_proconnect_sur_la_connexion_du_back_office(client, db, proconnect):  # noqa: F811
    assert "ProConnect" in client.get("/admin/login/").text


def test_pas_de_bouton_sans_configuration(client, db):
    assert "ProConnect" not in client.get("/admin/login/").text
