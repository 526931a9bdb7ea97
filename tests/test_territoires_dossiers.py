"""Issue 18: a dossier is created only for a phase its territory is labelled for, and
located in a commune inside the territory's extent (composition when known, declared
départements otherwise). French refusals on the service, the portal, the admin and the
import; nothing is written."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from projets import services
from projets.models import Projet
from territoires.models import CommuneTerritoire, Labellisation

from . import factories as f
from .test_territoires_etendue import lpt  # noqa: F401


@pytest.fixture
def porteur_lpt(lpt):  # noqa: F811
    return f.utilisateur(
        "porteur-lpt", role="porteur", echelon="territoire", territoires=[lpt["territoire"]]
    )


def _creer(user, territoire, phase, **champs):
    return services.projet_creer(
        user=user, territoire=territoire, phase=phase, titre="Usine", **champs
    )


def test_service_commune_des_departements_declares(monde, lpt, porteur_lpt):  # noqa: F811
    """Composition unknown: the declared départements (64, 65) bound the location."""
    projet = _creer(porteur_lpt, lpt["territoire"], monde["phase"], commune=lpt["tarbes"])
    assert projet.commune == lpt["tarbes"]
    with pytest.raises(ValidationError) as refus:
        _creer(porteur_lpt, lpt["territoire"], monde["phase"], commune=lpt["brest"])
    assert refus.value.message_dict["commune"] == [
        "La commune « Brest (29019) » n'appartient pas au territoire « Lacq-Pau-Tarbes » "
        "pour la phase « Territoires d'industrie 2023-2027 » (départements déclarés : 64, 65)."
    ]
    assert Projet.objects.count() == 1
    # Modifying towards Brest is refused too.
    with pytest.raises(ValidationError):
        services.projet_modifier(projet=projet, user=porteur_lpt, commune=lpt["brest"])


def test_service_phase_non_labellisee_ou_sortie(monde, lpt, porteur_lpt):  # noqa: F811
    ancienne = f.PhaseFactory(
        code="2018-2022",
        nom="2018-2022",
        date_debut=date(2018, 11, 22),
        date_fin=date(2022, 12, 31),
    )
    with pytest.raises(ValidationError) as refus:
        _creer(porteur_lpt, lpt["territoire"], ancienne)
    assert "n'est pas labellisé pour la phase « 2018-2022 »" in refus.value.messages[0]
    label = lpt["label"]
    label.date_sortie = timezone.localdate() - timedelta(days=1)
    label.save()
    with pytest.raises(ValidationError, match="n'est plus labellisé pour la phase"):
        _creer(porteur_lpt, lpt["territoire"], monde["phase"])
    assert not Projet.objects.exists()


def test_service_composition_connue_et_epci_partiel(monde, personas):
    """With commune-level membership, only member communes qualify (partial EPCI)."""
    adn = monde["adn"]
    porteur = personas["porteur-adn"]
    # EPCI composition known: a commune of a member EPCI, even seated elsewhere, is fine.
    _creer(porteur, adn, monde["phase"], commune=monde["commune_07_en_26"])
    with pytest.raises(ValidationError, match="n'appartient pas au territoire"):
        _creer(porteur, adn, monde["phase"], commune=monde["commune_30"])
    # Complete official list at commune level: only Annonay of epci_07 is a member.
    CommuneTerritoire.objects.create(
        territoire=adn, phase=monde["phase"], commune=monde["commune_07"]
    )
    label = adn.labellisations.get()
    label.composition = "partielle"
    label.save()
    # A partial list (extract): the communes of member EPCI still qualify.
    _creer(porteur, adn, monde["phase"], commune=monde["commune_07_en_26"])
    label.composition = "complete"
    label.save()
    _creer(porteur, adn, monde["phase"], commune=monde["commune_07"])
    with pytest.raises(ValidationError, match="n'appartient pas au territoire"):
        _creer(porteur, adn, monde["phase"], commune=monde["commune_07_en_26"])
    assert set(adn.communes_possibles(monde["phase"])) == {monde["commune_07"]}


def test_communes_possibles_suivent_la_regle(monde, lpt):  # noqa: F811
    possibles = set(lpt["territoire"].communes_possibles(monde["phase"]))
    assert lpt["tarbes"] in possibles and lpt["brest"] not in possibles


def test_portail_phase_non_labellisee_refusee(client, monde, lpt, porteur_lpt):  # noqa: F811
    Labellisation.objects.filter(pk=lpt["label"].pk).delete()
    client.force_login(porteur_lpt)
    reponse = client.post(
        reverse("dossier_nouveau"), {"territoire": lpt["territoire"].pk, "titre": "Four"}
    )
    assert reponse.status_code == 200
    assert "n&#x27;est pas labellisé pour la phase" in reponse.content.decode()
    assert not Projet.objects.exists()


def test_portail_localisation_dans_l_etendue(client, monde, lpt, porteur_lpt):  # noqa: F811
    client.force_login(porteur_lpt)
    projet = _creer(porteur_lpt, lpt["territoire"], monde["phase"])
    url = reverse("dossier_section", args=[projet.reference, "localisation"])
    contenu = client.get(url).content.decode()
    assert "Tarbes (65440)" in contenu and "Brest (29019)" not in contenu
    reponse = client.post(url, {"commune": "29019"})
    assert "Sélectionnez un choix valide" in reponse.context["form"].errors["commune"][0]
    client.post(url, {"commune": "65440"})
    projet.refresh_from_db()
    assert projet.commune_id == "65440"


def test_admin_creation_refusee_en_francais(client, monde, lpt, personas):  # noqa: F811
    client.force_login(personas["national"])
    donnees = {
        "territoire": lpt["territoire"].pk,
        "phase": monde["phase"].pk,
        "titre": "Usine béarnaise",
        "commune": "29019",
        **{
            f"{prefixe}-{cle}": valeur
            for prefixe in ("aides", "pieces_jointes", "messages", "transitions")
            for cle, valeur in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))
        },
    }
    reponse = client.post(reverse("admin:projets_projet_add"), donnees)
    assert reponse.status_code == 200
    assert "n&#x27;appartient pas au territoire « Lacq-Pau-Tarbes »" in reponse.content.decode()
    assert not Projet.objects.exists()
    ancienne = f.PhaseFactory(
        code="2018-2022",
        nom="2018-2022",
        date_debut=date(2018, 11, 22),
        date_fin=date(2022, 12, 31),
    )
    reponse = client.post(
        reverse("admin:projets_projet_add"), {**donnees, "phase": ancienne.pk, "commune": ""}
    )
    assert "n&#x27;est pas labellisé pour la phase" in reponse.content.decode()
    assert not Projet.objects.exists()
    reponse = client.post(reverse("admin:projets_projet_add"), {**donnees, "commune": "65440"})
    assert reponse.status_code == 302
    assert Projet.objects.get().commune_id == "65440"


def test_import_refuse_avec_la_ligne(client, monde, lpt, personas):  # noqa: F811
    client.force_login(personas["national"])
    entete = "territoire;phase;titre;commune\n"
    lignes = "lacq-pau-tarbes;2023-2027;Bon;65440\nlacq-pau-tarbes;2023-2027;Brest;29019\n"
    reponse = client.post(
        "/admin/projets/projet/importer/",
        {
            "fichier": SimpleUploadedFile("d.csv", (entete + lignes).encode()),
            "simulation": "",
        },
    )
    texte = reponse.content.decode()
    assert "1 erreur(s) : rien n&#x27;a été enregistré" in texte or "1 erreur(s)" in texte
    assert "n&#x27;appartient pas au territoire" in texte
    assert not Projet.objects.exists()
