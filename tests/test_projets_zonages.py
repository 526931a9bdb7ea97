"""Issue 18: fragile zones follow the zoning in force at the dossier's zoning date.

ZRR until 30 June 2024, France Ruralités Revitalisation (FRR) from 1 July 2024; each
declaration of the zones records the date whose zoning it follows (`date_zonage`).
"""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from portail import chiffres
from projets import services
from projets.models import Projet

from . import factories as f

MESSAGE_ZRR = "remplacées depuis le 1er juillet 2024 par France Ruralités Revitalisation"
MESSAGE_FRR = "n'existe que depuis le 1er juillet 2024"


def _creer(personas, monde, **zones):
    return services.projet_creer(
        user=personas["porteur-adn"],
        territoire=monde["adn"],
        phase=monde["phase"],
        titre="Usine",
        commune=monde["commune_07"],
        **zones,
    )


@pytest.fixture
def le(monkeypatch):
    """Pretend today is `jour` for the services."""

    def fixer(jour):
        monkeypatch.setattr(services.timezone, "localdate", lambda: jour)

    return fixer


def test_depuis_juillet_2024_frr_et_pas_zrr(monde, personas, le):
    le(date(2024, 7, 1))
    projet = _creer(personas, monde, zone_frr=True)
    assert (projet.zone_frr, projet.date_zonage, projet.zonage_rural) == (
        True,
        date(2024, 7, 1),
        "frr",
    )
    with pytest.raises(ValidationError, match=MESSAGE_ZRR):
        _creer(personas, monde, zone_zrr=True)
    assert Projet.objects.count() == 1


def test_avant_juillet_2024_zrr_et_pas_frr(monde, personas, le):
    le(date(2024, 6, 30))
    projet = _creer(personas, monde, zone_zrr=True)
    assert projet.zonage_rural == "zrr" and projet.zones_fragiles == ["ZRR"]
    with pytest.raises(ValidationError, match=MESSAGE_FRR):
        _creer(personas, monde, zone_frr=True)
    # Later edits that leave the zones alone keep their vintage…
    le(date(2025, 2, 1))
    services.projet_modifier(projet=projet, user=personas["porteur-adn"], titre="Four")
    projet.refresh_from_db()
    assert (projet.zone_zrr, projet.date_zonage) == (True, date(2024, 6, 30))
    # …declaring the zones again follows today's zoning: ZRR is refused, FRR accepted.
    with pytest.raises(ValidationError, match=MESSAGE_ZRR):
        services.projet_modifier(projet=projet, user=personas["porteur-adn"], zone_qpv=True)
    services.projet_modifier(
        projet=projet, user=personas["porteur-adn"], zone_zrr=False, zone_frr=True
    )
    projet.refresh_from_db()
    assert (projet.zone_zrr, projet.zone_frr, projet.date_zonage) == (
        False,
        True,
        date(2025, 2, 1),
    )


def test_contraintes_en_base(monde):
    projet = f.ProjetFactory(territoire=monde["adn"], phase=monde["phase"], complet=False)
    for champs in (
        {"zone_zrr": True, "date_zonage": date(2024, 7, 1)},
        {"zone_frr": True, "date_zonage": date(2024, 6, 30)},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Projet.objects.filter(pk=projet.pk).update(**champs)


def test_chiffres_filtres_et_portes_comptent_frr(client, monde, personas):
    projet = _creer(personas, monde, zone_frr=True)
    Projet.objects.filter(pk=projet.pk).update(statut="retenu")
    assert chiffres.chiffres_cles()["part_zone_fragile"] == 100
    api = APIClient()
    references = [p["reference"] for p in api.get("/api/v1/projets/?zone=frr").json()["results"]]
    assert references == [projet.reference]
    detail = api.get(f"/api/v1/projets/{projet.reference}/").json()
    assert detail["zone_frr"] is True and detail["date_zonage"]
    assert api.get("/api/v1/projets/?zone=zrr").json()["results"] == []
    client.force_login(personas["national"])
    liste = client.get(reverse("admin:projets_projet_changelist"), {"zone": "frr"})
    assert projet.reference in liste.content.decode()


def test_portail_propose_frr_seulement(client, monde, personas):
    projet = _creer(personas, monde)
    client.force_login(personas["porteur-adn"])
    url = reverse("dossier_section", args=[projet.reference, "localisation"])
    contenu = client.get(url).content.decode()
    assert "France Ruralités Revitalisation (FRR)" in contenu
    assert "zone de revitalisation rurale (ZRR)" not in contenu
    client.post(url, {"commune": "07010", "zone_frr": "on", "zone_zrr": "on"})
    projet.refresh_from_db()
    assert projet.zone_frr and not projet.zone_zrr  # the ZRR box is not a field any more
    recapitulatif = client.get(reverse("dossier_detail", args=[projet.reference]))
    assert "FRR" in recapitulatif.content.decode()


def test_admin_zrr_refusee_en_francais(client, monde, personas):
    projet = _creer(personas, monde)
    client.force_login(personas["national"])
    url = reverse("admin:projets_projet_change", args=[projet.pk])
    formulaire = client.get(url).context["adminform"].form
    donnees = {
        nom: valeur
        for nom, valeur in formulaire.initial.items()
        if valeur is not None and nom in formulaire.fields
    }
    donnees.update(
        territoire=projet.territoire_id,
        phase=projet.phase_id,
        commune="07010",
        axes=[],
        zone_zrr="on",
        **{
            f"{prefixe}-{cle}": "0"
            for prefixe in ("aides", "pieces_jointes", "messages", "transitions")
            for cle in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
    )
    donnees = {k: v for k, v in donnees.items() if v is not False}
    reponse = client.post(url, donnees)
    assert reponse.status_code == 200
    assert "remplacées depuis le 1er juillet 2024" in reponse.content.decode()
    projet.refresh_from_db()
    assert not projet.zone_zrr
