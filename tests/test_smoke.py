from projets import services


def test_projet_adn_se_depose(projet_adn, personas):
    services.projet_transitionner(
        projet=projet_adn, transition="deposer", user=personas["porteur-adn"]
    )
    projet_adn.refresh_from_db()
    assert projet_adn.statut == "depose"
    assert projet_adn.reference.startswith("TI-84-")
