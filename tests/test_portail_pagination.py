"""Issue 22: the lead's « Mes dossiers » and a territory's page paginate their dossiers
(DSFR pagination), with a query count that does not grow with the territory."""

import pytest
from django.urls import reverse

from projets.models import Projet

from . import factories as f

pytestmark = pytest.mark.django_db


def dossiers(monde, nombre, **champs):
    for _ in range(nombre):
        f.ProjetFactory(
            territoire=monde["adn"], phase=monde["phase"], commune=monde["commune_07"], **champs
        )


def test_mes_dossiers_pagine(client, monde, personas, django_assert_num_queries):
    client.force_login(personas["porteur-adn"])
    dossiers(monde, 3)
    client.get(reverse("mes_dossiers"))  # warm the session and caches
    # Session, user, habilitation and perimeter, the count, the page: measured with three
    # dossiers, then asserted unchanged with twenty-five.
    nombre = _requetes(client, reverse("mes_dossiers"))
    with django_assert_num_queries(nombre):
        reponse = client.get(reverse("mes_dossiers"))
    assert len(reponse.context["dossiers"]) == 3
    assert "fr-pagination" not in reponse.content.decode()
    dossiers(monde, 22)
    with django_assert_num_queries(nombre):
        reponse = client.get(reverse("mes_dossiers"))
    page = reponse.context["dossiers"]
    assert (len(page), page.paginator.count, page.paginator.num_pages) == (20, 25, 2)
    contenu = reponse.content.decode()
    assert 'class="fr-pagination"' in contenu and "page=2" in contenu
    assert "Dossiers de mon territoire (25, page 1 sur 2)" in contenu
    suite = client.get(reverse("mes_dossiers"), {"page": "2"}).context["dossiers"]
    assert len(suite) == 5
    tous = {p.pk for p in page} | {p.pk for p in suite}
    assert tous == set(Projet.objects.filter(territoire=monde["adn"]).values_list("pk", flat=True))
    # Bad page numbers: the first or the last page, never an error.
    for valeur, numero in (("abc", 1), ("999", 2), ("-1", 2)):
        reponse = client.get(reverse("mes_dossiers"), {"page": valeur})
        assert reponse.status_code == 200
        assert reponse.context["dossiers"].number == numero


def _requetes(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as contexte:
        client.get(url)
    return len(contexte.captured_queries)


def test_page_du_territoire_paginee(client, monde, django_assert_num_queries):
    url = reverse("territoire_detail", args=[monde["adn"].slug])
    dossiers(monde, 2, statut="retenu")
    client.get(url)
    nombre = _requetes(client, url)
    dossiers(monde, 23, statut="retenu")
    dossiers(monde, 4)  # drafts: not public, not listed
    with django_assert_num_queries(nombre):
        reponse = client.get(url)
    page = reponse.context["retenus"]
    assert (len(page), page.paginator.count) == (20, 25)
    contenu = reponse.content.decode()
    assert "25</span>" in contenu and "projets retenus" in contenu
    assert 'class="fr-pagination"' in contenu
    assert len(client.get(url, {"page": "2"}).context["retenus"]) == 5
    assert client.get(url, {"page": "x"}).context["retenus"].number == 1
