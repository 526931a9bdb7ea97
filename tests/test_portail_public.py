"""Public portal pages: programme figures, territories list and territory page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from financements.models import Aide
from projets import services
from territoires.models import Binome, Phase

from . import factories as f


def _retenir(projet, personas):
    services.projet_transitionner(projet=projet, transition="deposer", user=personas["porteur-adn"])
    agent = personas["region-ara"]
    services.projet_transitionner(projet=projet, transition="instruire", user=agent)
    services.projet_transitionner(
        projet=projet, transition="retenir", user=agent, commentaire="Avis favorable."
    )
    projet.refresh_from_db()
    return projet


@pytest.fixture
def projet_retenu(projet_adn, personas):
    return _retenir(projet_adn, personas)


def test_accueil_chiffres_calcules_sur_les_dossiers_publics(client, monde, personas, projet_retenu):
    # A draft of the same territory with huge amounts must not count.
    f.ProjetFactory(
        territoire=monde["adn"],
        phase=monde["phase"],
        montant_investissement=Decimal("9000000"),
        emplois_crees=999,
    )
    enveloppe = f.EnveloppeFactory(region=monde["ara"])
    f.AideFactory(projet=projet_retenu, enveloppe=enveloppe, montant=Decimal("150000"))
    Aide.objects.filter(projet=projet_retenu).update(statut="engagee")
    f.AideFactory(projet=projet_retenu, enveloppe=enveloppe, montant=Decimal("7777"))  # proposed

    reponse = client.get(reverse("accueil"))

    assert reponse.status_code == 200
    chiffres = reponse.context["chiffres"]
    assert chiffres["territoires"] == 3
    assert chiffres["dossiers_retenus"] == 1
    assert chiffres["investissement"] == Decimal("1000000.00")
    assert chiffres["aide_publique"] == Decimal("150000.00")
    assert chiffres["emplois_crees"] == 12
    assert chiffres["part_zone_fragile"] == 0
    contenu = reponse.content.decode()
    assert "150\u00a0k€" in contenu
    assert "chart.umd.min.js" in contenu  # served locally, no CDN
    assert "https://cdn" not in contenu


def test_accueil_sans_donnees(client, db):
    reponse = client.get(reverse("accueil"))
    assert reponse.status_code == 200
    assert reponse.context["chiffres"]["part_zone_fragile"] is None


def test_liste_territoires_filtres(client, monde):
    url = reverse("territoires")

    def noms(**params):
        reponse = client.get(url, params)
        assert reponse.status_code == 200
        return [t.nom for t in reponse.context["page_obj"]]

    assert noms() == ["Ardèche-Drôme Nord", "Bassin d'Alès", "Interrégional"]
    assert noms(q="alès") == ["Bassin d'Alès"]
    # Région: pilot région or an EPCI seated there (Interrégional has an EPCI in 26).
    assert noms(region="84") == ["Ardèche-Drôme Nord", "Interrégional"]
    assert noms(departement="30") == ["Bassin d'Alès", "Interrégional"]
    assert noms(departement="07") == ["Ardèche-Drôme Nord"]
    assert noms(phase="2023-2027") == ["Ardèche-Drôme Nord", "Bassin d'Alès", "Interrégional"]
    Phase.objects.create(
        code="2018-2022", nom="Phase 1", date_debut="2018-11-22", date_fin="2022-12-31"
    )
    assert noms(phase="2018-2022") == []


def test_liste_territoires_filtre_invalide_ignore(client, monde):
    reponse = client.get(reverse("territoires"), {"region": "zz"})
    assert reponse.status_code == 200
    assert "Sélectionnez un choix valide" in reponse.content.decode()


def test_liste_territoires_nombre_de_requetes_constant(
    client, monde, django_assert_max_num_queries
):
    for i in range(30):
        epci = f.IntercommunaliteFactory(departement=monde["d07"])
        f.TerritoireFactory(nom=f"Territoire {i:02d}", region_pilote=monde["ara"], epcis=[epci])
    # Independent of the number of territories: the région filter value, count, the page
    # (annotated), the page's départements (3: declared, EPCI seats, member communes),
    # DSFR site config (2 without a row), and the choices of the three filter selects.
    with django_assert_max_num_queries(11):
        reponse = client.get(reverse("territoires"), {"region": "84"})
    assert reponse.status_code == 200
    assert len(reponse.context["page_obj"]) == 20
    assert "Ardèche (07)" in reponse.content.decode()


def test_page_territoire_informations_publiques(client, monde, personas, projet_retenu):
    brouillon = f.ProjetFactory(
        territoire=monde["adn"], phase=monde["phase"], titre="Projet confidentiel"
    )
    Binome.objects.create(
        territoire=monde["adn"],
        elu_nom="Simon Plénet",
        elu_mandat="Président d'Annonay Rhône Agglo",
        industriel_nom="Anne Martin",
        industriel_entreprise="Ateliers du Vivarais",
        date_debut="2024-01-01",
    )

    reponse = client.get(reverse("territoire_detail", args=[monde["adn"].slug]))

    assert reponse.status_code == 200
    contenu = reponse.content.decode()
    assert projet_retenu.titre.replace("'", "&#x27;") in contenu
    assert brouillon.titre not in contenu
    assert "CA Annonay Rhône Agglo" in contenu
    assert "CC Porte de DrômArdèche" in contenu
    assert "Simon Plénet" in contenu
    assert "Foncier industriel" in contenu
    assert list(reponse.context["retenus"]) == [projet_retenu]


def test_page_territoire_inconnu(client, db):
    assert client.get(reverse("territoire_detail", args=["inconnu"])).status_code == 404
