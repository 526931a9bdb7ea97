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


def test_totaux_au_dela_de_quatorze_chiffres(client, monde):
    """Programme sums outgrow one amount's 14 digits (200,000 dossiers reach 10^12 €)."""
    from decimal import Decimal

    from . import factories as f

    for _ in range(3):
        f.ProjetFactory(
            territoire=monde["adn"],
            phase=monde["phase"],
            statut="retenu",
            montant_investissement=Decimal("999999999999.99"),
            aide_demandee=None,
        )
    reponse = client.get("/api/v1/statistiques/")
    assert reponse.status_code == 200
    assert reponse.json()["programme"]["investissement"] == "2999999999999.97"
