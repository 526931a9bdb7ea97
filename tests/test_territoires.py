"""Issue 2: territorial models, validators, constraints and the perimeter entry point."""

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from territoires.models import (
    Binome,
    Commune,
    Departement,
    Habilitation,
    Intercommunalite,
    Territoire,
)
from territoires.validators import (
    valider_code_commune,
    valider_code_departement,
    valider_siren,
    valider_siret,
)

from . import factories as f


@pytest.mark.parametrize("code", ["01", "19", "2A", "2B", "95", "971", "976"])
def test_codes_departement_valides(code):
    valider_code_departement(code)


@pytest.mark.parametrize("code", ["20", "00", "96", "975", "977", "2C", "1", "7"])
def test_codes_departement_invalides(code):
    with pytest.raises(ValidationError, match="Code de département invalide"):
        valider_code_departement(code)


@pytest.mark.parametrize("code", ["07010", "2A004", "2B033", "97611"])
def test_codes_commune_valides(code):
    valider_code_commune(code)


@pytest.mark.parametrize("code", ["7010", "2C004", "070100", "ABCDE"])
def test_codes_commune_invalides(code):
    with pytest.raises(ValidationError, match="Code INSEE de commune invalide"):
        valider_code_commune(code)


def test_siren_valide_et_invalide():
    valider_siren("200040491")
    with pytest.raises(ValidationError, match="clé de contrôle"):
        valider_siren("200040492")
    with pytest.raises(ValidationError, match="neuf chiffres"):
        valider_siren("20004049")
    with pytest.raises(ValidationError):
        valider_siren("200 040 491")


@pytest.mark.parametrize(
    "siret",
    [
        "73282932000074",  # Luhn
        "35600000000048",  # La Poste, head office (Luhn)
        "35600000049837",  # La Poste establishment: digit sum multiple of 5
    ],
)
def test_siret_valides(siret):
    valider_siret(siret)


@pytest.mark.parametrize(
    ("siret", "message"),
    [
        ("73282932000075", "clé de contrôle"),  # wrong Luhn digit
        ("35600000049838", "clé de contrôle"),  # La Poste, digit sum not a multiple of 5
        ("7328293200007", "quatorze chiffres"),
        ("7328293200007A", "quatorze chiffres"),
        ("732 829 320 00074", "sans espace"),
    ],
)
def test_siret_invalides(siret, message):
    with pytest.raises(ValidationError, match=message):
        valider_siret(siret)


def test_un_seul_binome_actif_par_territoire(monde):
    adn = monde["adn"]
    Binome.objects.create(
        territoire=adn,
        elu_nom="A",
        elu_mandat="m",
        industriel_nom="B",
        industriel_entreprise="E",
        date_debut=date(2024, 1, 1),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Binome.objects.create(
            territoire=adn,
            elu_nom="C",
            elu_mandat="m",
            industriel_nom="D",
            industriel_entreprise="E",
            date_debut=date(2025, 1, 1),
        )
    # Ending the first one lets a new one start.
    Binome.objects.filter(territoire=adn).update(date_fin=date(2024, 12, 31))
    Binome.objects.create(
        territoire=adn,
        elu_nom="C",
        elu_mandat="m",
        industriel_nom="D",
        industriel_entreprise="E",
        date_debut=date(2025, 1, 1),
    )
    assert adn.binome_actif().elu_nom == "C"


def test_binome_actif_en_double_refuse_en_francais_par_la_validation(monde):
    adn = monde["adn"]
    Binome.objects.create(
        territoire=adn,
        elu_nom="A",
        elu_mandat="m",
        industriel_nom="B",
        industriel_entreprise="E",
        date_debut=date(2024, 1, 1),
    )
    second = Binome(
        territoire=adn,
        elu_nom="C",
        elu_mandat="m",
        industriel_nom="D",
        industriel_entreprise="E",
        date_debut=date(2025, 1, 1),
    )
    with pytest.raises(ValidationError, match="déjà un binôme en fonction"):
        second.full_clean()


@pytest.mark.parametrize(
    ("modele", "valeurs"),
    [
        (Departement, {"code": "20", "nom": "Corse", "region_id": "84"}),
        (Commune, {"code_insee": "2C004", "nom": "X", "departement_id": "07"}),
        (Intercommunalite, {"siren": "12345", "nom": "X", "nature": "CC", "departement_id": "07"}),
        (
            Intercommunalite,
            {"siren": "200040491", "nom": "X", "nature": "SIVU", "departement_id": "07"},
        ),
        (Territoire, {"nom": "X", "slug": "x", "id_anct": "ti-84", "region_pilote_id": "84"}),
        (
            Binome,
            {
                "territoire_id": None,
                "elu_nom": "A",
                "elu_mandat": "m",
                "industriel_nom": "B",
                "industriel_entreprise": "E",
                "industriel_siret": "123",
                "date_debut": date(2024, 1, 1),
            },
        ),
    ],
)
def test_contraintes_en_base(monde, modele, valeurs):
    if modele is Binome:
        valeurs["territoire_id"] = monde["adn"].pk
    with pytest.raises(IntegrityError), transaction.atomic():
        modele.objects.create(**valeurs)


def test_porteur_habilite_sur_territoires_seulement(monde):
    user = f.UserFactory(username="mauvais")
    with pytest.raises(IntegrityError), transaction.atomic():
        Habilitation.objects.create(user=user, role="porteur", echelon="region")
    with pytest.raises(ValidationError, match="porteur est habilité sur des territoires"):
        Habilitation(user=user, role="porteur", echelon="region").full_clean()


def test_departements_et_regions_derives_des_epci(monde):
    adn = monde["adn"]
    assert set(adn.departements().values_list("code", flat=True)) == {"07", "26"}
    assert set(monde["interregional"].regions().values_list("code", flat=True)) == {"76", "84"}


def _visibles(user):
    return set(Territoire.objects.visibles_par(user).values_list("nom", flat=True))


TOUS = {"Ardèche-Drôme Nord", "Bassin d'Alès", "Interrégional"}


@pytest.mark.parametrize(
    ("persona", "attendus"),
    [
        ("national", TOUS),
        # A territory spanning two régions is seen by both.
        ("region-ara", {"Ardèche-Drôme Nord", "Interrégional"}),
        ("region-occitanie", {"Bassin d'Alès", "Interrégional"}),
        # EPCI seated in 07 only: the interrégional territory has no EPCI seated in 07.
        ("prefecture-07", {"Ardèche-Drôme Nord"}),
        ("porteur-adn", {"Ardèche-Drôme Nord"}),
        ("porteur-ales", {"Bassin d'Alès"}),
        ("partenaire-bpi", TOUS),
    ],
)
def test_perimetre_par_role(personas, persona, attendus):
    assert _visibles(personas[persona]) == attendus


def test_perimetre_prefecture_par_siege_de_l_epci(monde, personas):
    """A préfecture of 26 sees territories with an EPCI seated in 26, not via communes."""
    pref26 = f.utilisateur(
        "prefecture-26", role="agent", echelon="departement", departements=[monde["d26"]]
    )
    assert _visibles(pref26) == {"Ardèche-Drôme Nord", "Interrégional"}
    # epci_07 has a commune in 26, but its seat is in 07: no extra territory for 26.
    seul_07 = f.TerritoireFactory(
        nom="Seul 07", region_pilote=monde["ara"], epcis=[monde["epci_07"]]
    )
    assert seul_07.nom not in _visibles(pref26)


def test_perimetre_sans_acces(monde):
    assert _visibles(AnonymousUser()) == set()
    assert _visibles(None) == set()
    sans_habilitation = f.UserFactory(username="sans")
    assert _visibles(sans_habilitation) == set()
    inactif = f.utilisateur("inactif", role="agent", echelon="national")
    inactif.is_active = False
    inactif.save()
    assert _visibles(inactif) == set()
    superuser = f.UserFactory(username="root", is_superuser=True)
    assert _visibles(superuser) == TOUS


def test_perimetre_une_seule_requete(personas, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        list(Territoire.objects.visibles_par(personas["region-ara"]))
