"""Issue 8: programme figures are cached and recomputed after a write."""

from projets import services


def test_statistiques_en_cache_et_invalidees(
    client, projet_adn, personas, django_assert_max_num_queries
):
    premiere = client.get("/api/v1/statistiques/").json()
    with django_assert_max_num_queries(0):
        assert client.get("/api/v1/statistiques/").json() == premiere
    for nom, acteur in (
        ("deposer", "porteur-adn"),
        ("instruire", "region-ara"),
        ("retenir", "region-ara"),
    ):
        services.projet_transitionner(
            projet=projet_adn, transition=nom, user=personas[acteur], commentaire="ok"
        )
    apres = client.get("/api/v1/statistiques/").json()
    assert apres != premiere
    assert apres["genere_le"] > premiere["genere_le"]
