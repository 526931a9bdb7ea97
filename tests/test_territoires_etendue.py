"""Issue 18: a territory's declared extent and the one perimeter rule, on every door.

« Lacq-Pau-Tarbes » (pilot 75 Nouvelle-Aquitaine) declares départements 64 (75) and
65 (76 Occitanie) and has no known composition: both régions and both préfectures see
it, in the back-office, on the portal and in the API; a préfecture elsewhere does not.
"""

from datetime import date

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from territoires.models import CommuneTerritoire, CompositionTerritoire, Labellisation, Territoire

from . import factories as f


@pytest.fixture
def lpt(monde):
    na = f.RegionFactory(code="75", nom="Nouvelle-Aquitaine")
    d64 = f.DepartementFactory(code="64", nom="Pyrénées-Atlantiques", region=na)
    d65 = f.DepartementFactory(code="65", nom="Hautes-Pyrénées", region=monde["occ"])
    epci_65 = f.IntercommunaliteFactory(nom="CA Tarbes-Lourdes-Pyrénées", departement=d65)
    tarbes = f.CommuneFactory(code_insee="65440", nom="Tarbes", epci=epci_65)
    epci_29 = f.IntercommunaliteFactory(
        nom="Brest métropole",
        departement=f.DepartementFactory(
            code="29", nom="Finistère", region=f.RegionFactory(code="53", nom="Bretagne")
        ),
    )
    brest = f.CommuneFactory(code_insee="29019", nom="Brest", epci=epci_29)
    territoire = f.TerritoireFactory(nom="Lacq-Pau-Tarbes", region_pilote=na)
    label = Labellisation.objects.create(
        territoire=territoire, phase=monde["phase"], date=date(2023, 11, 9)
    )
    label.departements.set([d64, d65])
    return {
        "territoire": territoire,
        "label": label,
        "na": na,
        "d64": d64,
        "d65": d65,
        "tarbes": tarbes,
        "brest": brest,
        "epci_65": epci_65,
    }


@pytest.fixture
def agents(monde, lpt, personas):
    def agent(nom, **perimetre):
        echelon = "region" if "regions" in perimetre else "departement"
        return f.utilisateur(nom, role="agent", echelon=echelon, **perimetre)

    return {
        "region-na": agent("region-na", regions=[lpt["na"]]),
        "region-occitanie": personas["region-occitanie"],
        "prefecture-64": agent("prefecture-64", departements=[lpt["d64"]]),
        "prefecture-65": agent("prefecture-65", departements=[lpt["d65"]]),
        "prefecture-07": personas["prefecture-07"],
        "region-ara": personas["region-ara"],
    }


VOIENT = ["region-na", "region-occitanie", "prefecture-64", "prefecture-65"]
NE_VOIENT_PAS = ["prefecture-07", "region-ara"]


@pytest.mark.parametrize("persona", VOIENT + NE_VOIENT_PAS)
def test_perimetre_etendue_declaree_multi_region(lpt, agents, persona):
    visibles = Territoire.objects.visibles_par(agents[persona])
    assert visibles.filter(pk=lpt["territoire"].pk).exists() == (persona in VOIENT)


def test_etendue_derivee_declares_epci_et_communes(monde, lpt):
    territoire = lpt["territoire"]
    assert set(territoire.departements().values_list("code", flat=True)) == {"64", "65"}
    assert set(territoire.regions().values_list("code", flat=True)) == {"75", "76"}
    # A commune member in 07 adds 07; once it leaves (exit date), 07 no longer counts.
    membre = CommuneTerritoire.objects.create(
        territoire=territoire, phase=monde["phase"], commune=monde["commune_07"]
    )
    assert Territoire.objects.touchant_departements(["07"]).filter(pk=territoire.pk).exists()
    membre.date_sortie = date(2025, 1, 1)
    membre.save()
    assert not Territoire.objects.touchant_departements(["07"]).filter(pk=territoire.pk).exists()
    # Same for a closed EPCI composition row.
    ligne = CompositionTerritoire.objects.create(
        territoire=territoire, phase=monde["phase"], epci=monde["epci_30"], date_sortie=date.today()
    )
    assert not Territoire.objects.touchant_departements(["30"]).filter(pk=territoire.pk).exists()
    ligne.date_sortie = None
    ligne.save()
    assert Territoire.objects.touchant_departements(["30"]).filter(pk=territoire.pk).exists()


def test_perimetre_une_seule_requete_avec_etendue(agents, django_assert_max_num_queries):
    # 1: the habilitation (cached on the user afterwards); 2: the territories.
    with django_assert_max_num_queries(2):
        list(Territoire.objects.visibles_par(agents["prefecture-65"]))


@pytest.fixture
def dossier_lpt(monde, lpt):
    return f.ProjetFactory(
        territoire=lpt["territoire"], phase=monde["phase"], commune=lpt["tarbes"], titre="Usine"
    )


@pytest.mark.parametrize("persona", VOIENT + NE_VOIENT_PAS)
def test_porte_back_office(client, agents, lpt, dossier_lpt, persona):
    client.force_login(agents[persona])
    voit = persona in VOIENT
    fiche = client.get(reverse("admin:territoires_territoire_change", args=[lpt["territoire"].pk]))
    assert fiche.status_code == (200 if voit else 404)
    dossier = client.get(reverse("admin:projets_projet_change", args=[dossier_lpt.pk]))
    assert dossier.status_code == (200 if voit else 404)
    liste = client.get(reverse("admin:territoires_territoire_changelist"))
    assert ("Lacq-Pau-Tarbes" in liste.content.decode()) == voit


def test_back_office_filtres_par_etendue(client, personas, lpt):
    client.force_login(personas["national"])
    url = reverse("admin:territoires_territoire_changelist")
    assert "Lacq-Pau-Tarbes" in client.get(url, {"region": "76"}).content.decode()
    assert "Lacq-Pau-Tarbes" in client.get(url, {"departement": "65"}).content.decode()
    assert "Lacq-Pau-Tarbes" not in client.get(url, {"departement": "07"}).content.decode()


def test_porte_portail_filtres(client, lpt):
    url = reverse("territoires")
    for parametres in ({"region": "76"}, {"region": "75"}, {"departement": "65"}):
        assert "Lacq-Pau-Tarbes" in client.get(url, parametres).content.decode(), parametres
    assert "Lacq-Pau-Tarbes" not in client.get(url, {"departement": "07"}).content.decode()
    assert "Lacq-Pau-Tarbes" not in client.get(url, {"region": "84"}).content.decode()


def _slugs(reponse):
    return {ligne["slug"] for ligne in reponse.json()["results"]}


def test_porte_api_filtres(lpt):
    api = APIClient()
    slug = lpt["territoire"].slug
    assert slug in _slugs(api.get("/api/v1/territoires/?region=76"))
    assert slug in _slugs(api.get("/api/v1/territoires/?departement=65"))
    assert slug in _slugs(api.get("/api/v1/territoires/?departement=64"))
    assert slug not in _slugs(api.get("/api/v1/territoires/?departement=07"))


@pytest.mark.parametrize("persona", VOIENT + NE_VOIENT_PAS)
def test_porte_api_perimetre(agents, dossier_lpt, persona):
    api = APIClient()
    api.force_login(agents[persona])
    references = {p["reference"] for p in api.get("/api/v1/projets/").json()["results"]}
    assert (dossier_lpt.reference in references) == (persona in VOIENT)
    detail = api.get(f"/api/v1/projets/{dossier_lpt.reference}/")
    assert detail.status_code == (200 if persona in VOIENT else 404)


def test_pages_honnetes_composition_non_renseignee(client, monde, lpt):
    page = client.get(reverse("territoire_detail", args=[lpt["territoire"].slug])).content.decode()
    assert "Non renseignée : seuls les départements déclarés" in page
    assert "Pyrénées-Atlantiques (64), Hautes-Pyrénées (65)" in page
    assert "Composition non renseignée : départements déclarés 64, 65." in page
    liste = client.get(reverse("territoires"), {"q": "Lacq"}).content.decode()
    assert "Pyrénées-Atlantiques (64), Hautes-Pyrénées (65)" in liste


def test_page_epci_partiel_et_successeur(client, monde, lpt):
    adn = monde["adn"]
    CompositionTerritoire.objects.filter(territoire=adn, epci=monde["epci_07"]).update(
        partielle=True
    )
    ancienne = f.PhaseFactory(
        code="2018-2022",
        nom="2018-2022",
        date_debut=date(2018, 11, 22),
        date_fin=date(2022, 12, 31),
    )
    nab = f.TerritoireFactory(nom="Nord Ardèche et Boutières", region_pilote=monde["ara"])
    Labellisation.objects.create(
        territoire=nab,
        phase=ancienne,
        date=date(2018, 11, 22),
        successeur=adn.labellisations.get(),
    )
    page = client.get(reverse("territoire_detail", args=[adn.slug])).content.decode()
    assert "en partie (certaines communes)" in page and "en entier" in page
    assert "Succède à" in page and "Nord Ardèche et Boutières" in page
    page_nab = client.get(reverse("territoire_detail", args=[nab.slug])).content.decode()
    assert "ce territoire devient" in page_nab and "Ardèche-Drôme Nord" in page_nab


def test_accueil_compte_les_territoires_par_phase(client, monde, lpt):
    from portail import chiffres

    lignes = {ligne["code"]: ligne for ligne in chiffres.territoires_par_phase()}
    # adn, ales, interregional (factory) and Lacq-Pau-Tarbes.
    assert lignes["2023-2027"]["labellises"] == 4
    lpt["label"].date_sortie = date(2025, 1, 1)
    lpt["label"].save()
    lignes = {ligne["code"]: ligne for ligne in chiffres.territoires_par_phase()}
    assert (lignes["2023-2027"]["labellises"], lignes["2023-2027"]["en_vigueur"]) == (4, 3)
    page = client.get(reverse("accueil")).content.decode()
    assert "territoires labellisés 2023-2027 (3 aujourd'hui)" in page


def test_api_etendue_declaree_et_epci_partiel(monde, lpt):
    CompositionTerritoire.objects.filter(territoire=monde["adn"], epci=monde["epci_07"]).update(
        partielle=True
    )
    CompositionTerritoire.objects.filter(territoire=monde["adn"], epci=monde["epci_26"]).update(
        date_sortie=date(2025, 1, 1)
    )
    api = APIClient()
    lpt_api = api.get(f"/api/v1/territoires/{lpt['territoire'].slug}/").json()
    assert lpt_api["labellisations"][0]["departements"] == ["64", "65"]
    assert lpt_api["labellisations"][0]["composition"] == "inconnue"
    adn = api.get(f"/api/v1/territoires/{monde['adn'].slug}/").json()
    # The EPCI that left is not in the current composition; the other is partial.
    assert [(c["siren"], c["partielle"]) for c in adn["composition"]] == [
        (monde["epci_07"].siren, True)
    ]
    liste = api.get("/api/v1/territoires/?q=Ard").json()["results"]
    assert liste == [adn]
