"""Issue 2: reference data importers (the full import is tested once, here)."""

from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from territoires import importation
from territoires.models import (
    Commune,
    CompositionTerritoire,
    Departement,
    Intercommunalite,
    Labellisation,
    Region,
    Territoire,
)

from . import factories as f

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "referentiel"
ADN_EPCI = {
    "200040491",
    "200072015",
    "240700716",
    "200016905",
    "200073096",
    "200041366",
    "200071413",
    "200041465",
}


def _comptes():
    return (
        Region.objects.count(),
        Departement.objects.count(),
        Intercommunalite.objects.count(),
        Commune.objects.count(),
        Territoire.objects.count(),
        CompositionTerritoire.objects.count(),
        Labellisation.objects.count(),
    )


@pytest.mark.django_db
def test_import_complet_du_referentiel_et_des_territoires(capsys):
    """The full reference import, run once in the suite: counts, blank line, idempotence."""
    call_command("importer_referentiel", verbosity=0)
    sortie = capsys.readouterr().out
    assert (Region.objects.count(), Departement.objects.count()) == (18, 101)
    assert Intercommunalite.objects.count() == 1255
    assert Commune.objects.count() == 34871
    assert "ligne 34873 : ligne vide ignorée" in sortie
    assert Commune.objects.get(code_insee="2A004").departement_id == "2A"
    assert Intercommunalite.objects.get(siren="200072015").departement_id == "07"

    call_command("importer_territoires", str(FIXTURES / "territoires-connus.csv"))
    call_command("importer_territoires", str(FIXTURES / "territoires-anct-extrait.csv"))
    adn = Territoire.objects.get(slug="ardeche-drome-nord")
    assert set(adn.epcis.values_list("siren", flat=True)) == ADN_EPCI
    assert set(adn.departements().values_list("code", flat=True)) == {"07", "26"}
    assert adn.laureat_rebond_industriel
    assert Territoire.objects.count() == 49
    oyonnax = Territoire.objects.get(id_anct="ti-8413")
    assert oyonnax.region_pilote_id == "84"
    # Derived from communes (Apremont, Aranc, Arbent…): their EPCI is in the composition.
    epci_apremont = Commune.objects.get(code_insee="01011").epci_id
    assert oyonnax.epcis.filter(siren=epci_apremont).exists()
    # Issue 18: commune-level membership, partial EPCI, declared extent, successors, history.
    assert oyonnax.communes_membres.filter(commune_id="01011").exists()
    assert oyonnax.compositions.get(epci_id=epci_apremont).partielle
    lpt = Territoire.objects.get(slug="lacq-pau-tarbes")
    assert set(lpt.departements().values_list("code", flat=True)) == {"64", "65"}
    assert set(lpt.regions().values_list("code", flat=True)) == {"75", "76"}
    nab = Territoire.objects.get(slug="nord-ardeche-et-boutieres")
    assert nab.labellisations.get().successeur == adn.labellisations.get(phase__code="2023-2027")
    phase_1 = sum(
        "2018-2022" in ligne.split(";")[2]
        for ligne in (FIXTURES / "territoires-connus.csv").read_text().splitlines()[1:]
    )
    assert Territoire.objects.labellises_le(date(2021, 6, 1)).count() == phase_1 == 34
    assert Territoire.objects.labellises_le(date(2024, 6, 1)).count() == 25

    avant = _comptes()
    capsys.readouterr()
    call_command("importer_referentiel", verbosity=0)
    call_command("importer_territoires", str(FIXTURES / "territoires-connus.csv"))
    call_command("importer_territoires", str(FIXTURES / "territoires-anct-extrait.csv"))
    sortie = capsys.readouterr().out
    assert _comptes() == avant
    assert "Communes : 34872 lus, 0 nouveaux, 0 mis à jour" in sortie
    assert "Intercommunalités : 1255 lus, 0 nouveaux, 0 mis à jour" in sortie


def _ecrire(tmp_path, nom, texte):
    chemin = tmp_path / nom
    chemin.write_text(texte, encoding="utf-8")
    return chemin


ENTETE = (
    "dept,siren,raison_sociale,nature_juridique,mode_financ,nb_membres,total_pop_tot,"
    "total_pop_mun,dep_com,insee,siren_membre,nom_membre,ptot_2025,pmun_2025\n"
)


def _ligne(siren, nom, insee, commune, dept="07", nature="CC"):
    return f"{dept},{siren},{nom},{nature},FPU,2,100,100,{dept},{insee},210700000,{commune},50,50\n"


@pytest.fixture
def base_departements(db):
    ara = f.RegionFactory(code="84", nom="Auvergne-Rhône-Alpes")
    f.DepartementFactory(code="07", nom="Ardèche", region=ara)


def test_lignes_invalides_ignorees_et_signalees(tmp_path, base_departements):
    fichier = _ecrire(
        tmp_path,
        "epcicom.csv",
        ENTETE
        + _ligne("200072015", "CA Annonay", "07010", "Annonay")
        + _ligne("200072016", "Mauvais SIREN", "07011", "X")
        + _ligne("200040491", "Dept inconnu", "99001", "Y", dept="99")
        + _ligne("200041366", "Nature", "07012", "Z", nature="SIVOM")
        + ",,,,,,,,,,,,,\n",
    )
    rapports = importation.importer_epci_communes(fichier)
    communes = rapports[1]
    assert Commune.objects.count() == 1 and Intercommunalite.objects.count() == 1
    assert len(communes.rejets) == 4
    texte = "\n".join(communes.rejets)
    assert "clé de contrôle" in texte and "département inconnu" in texte
    assert "nature « SIVOM » inconnue" in texte and "ligne vide ignorée" in texte


def test_ce_qui_disparait_est_marque_obsolete_jamais_supprime(tmp_path, base_departements):
    v1 = _ecrire(
        tmp_path,
        "v1.csv",
        ENTETE
        + _ligne("200072015", "CA Annonay", "07010", "A")
        + _ligne("200041366", "CC Rhône Crussol", "07011", "B"),
    )
    importation.importer_epci_communes(v1)
    v2 = _ecrire(
        tmp_path, "v2.csv", ENTETE + _ligne("200072015", "CA Annonay Rhône Agglo", "07010", "A")
    )
    epci, communes = importation.importer_epci_communes(v2)
    assert (epci.obsoletes, communes.obsoletes, epci.mis_a_jour) == (1, 1, 1)
    assert Intercommunalite.objects.get(siren="200041366").obsolete
    assert Commune.objects.get(code_insee="07011").obsolete
    assert Intercommunalite.objects.get(siren="200072015").nom == "CA Annonay Rhône Agglo"
    # Back in a later file: no longer obsolete.
    importation.importer_epci_communes(v1)
    assert not Intercommunalite.objects.get(siren="200041366").obsolete


def test_format_inconnu_refuse(tmp_path, db):
    fichier = _ecrire(tmp_path, "autre.csv", "a;b;c\n1;2;3\n")
    with pytest.raises(CommandError, match="Format non reconnu"):
        call_command("importer_territoires", str(fichier))
    with pytest.raises(CommandError, match="Fichier introuvable"):
        call_command("importer_territoires", str(tmp_path / "absent.csv"))


def test_anct_commune_inconnue_signalee(tmp_path, monde):
    fichier = _ecrire(
        tmp_path,
        "ti.csv",
        "insee_com;lib_com;id_ti;lib_ti\n"
        "07010;Annonay;ti-8499;Nord Ardèche\n99999;Inconnue;ti-8499;Nord Ardèche\n"
        ";;;\n",
    )
    rapport = importation.importer_territoires_anct(fichier)
    territoire = Territoire.objects.get(id_anct="ti-8499")
    assert list(territoire.epcis.all()) == [monde["epci_07"]]
    assert any("commune « 99999 » inconnue" in r for r in rapport.rejets)
    assert any("manquant" in r for r in rapport.rejets)
