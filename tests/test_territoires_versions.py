"""Issue 18: versioned imports of the ANCT list (commune level), label history, successors.

A synthetic file in the official format (`insee_com;lib_com;id_ti;lib_ti`) with several
hundred communes: a second vintage removes a territory and communes, renames a
territory, leaves an EPCI partly included and lists a commune code that no longer exists.
"""

from datetime import date

import pytest
from django.core.management import call_command

from territoires import importation
from territoires.models import (
    Commune,
    CommuneTerritoire,
    CompositionTerritoire,
    ImportTerritoires,
    Labellisation,
    Territoire,
)

from . import factories as f

ENTETE = "insee_com;lib_com;id_ti;lib_ti\n"


@pytest.fixture
def referentiel(db):
    """Three EPCI of 120, 150 and 180 communes in 07 and 26 (450 communes)."""
    ara = f.RegionFactory(code="84", nom="Auvergne-Rhône-Alpes")
    d07 = f.DepartementFactory(code="07", nom="Ardèche", region=ara)
    d26 = f.DepartementFactory(code="26", nom="Drôme", region=ara)
    f.PhaseFactory()
    epcis = {
        "A": f.IntercommunaliteFactory(nom="CC A", departement=d07),
        "B": f.IntercommunaliteFactory(nom="CC B", departement=d07),
        "C": f.IntercommunaliteFactory(nom="CA C", departement=d26),
    }
    tailles = {"A": 120, "B": 150, "C": 180}
    communes = {}
    rang = 1
    for cle, taille in tailles.items():
        dep = epcis[cle].departement_id
        communes[cle] = [f"{dep}{rang + i:03d}" for i in range(taille)]
        Commune.objects.bulk_create(
            Commune(code_insee=code, nom=f"Commune {code}", departement_id=dep, epci=epcis[cle])
            for code in communes[cle]
        )
        rang += taille
    # A commune merged away: still in the reference, marked obsolete.
    Commune.objects.create(
        code_insee="07999", nom="Ancienne", departement=d07, epci=epcis["A"], obsolete=True
    )
    return {"epcis": epcis, "communes": communes}


def _fichier(tmp_path, nom, lignes):
    chemin = tmp_path / nom
    chemin.write_text(ENTETE + "".join(lignes), encoding="utf-8")
    return chemin


def _lignes(codes, id_ti, nom):
    return [f"{code};Commune {code};{id_ti};{nom}\n" for code in codes]


@pytest.fixture
def vintages(tmp_path, referentiel):
    c = referentiel["communes"]
    v1 = _fichier(
        tmp_path,
        "liste-ti-com2023-v1.csv",
        _lignes(c["A"], "ti-8401", "Nord")  # EPCI A whole
        + _lignes(c["B"][:100], "ti-8401", "Nord")  # EPCI B only partly
        + _lignes(c["B"][100:], "ti-8403", "Est")
        + _lignes(c["C"], "ti-8402", "Sud"),
    )
    v2 = _fichier(
        tmp_path,
        "liste-ti-com2023-v2.csv",
        _lignes(c["A"][:110], "ti-8401", "Nord")  # 10 communes leave: A becomes partial
        + _lignes(c["B"][:100], "ti-8401", "Nord")
        + _lignes(c["C"], "ti-8402", "Sud Rhône")  # renamed
        + ["07999;Ancienne;ti-8401;Nord\n", "07777;Inconnue;ti-8401;Nord\n"],
        # ti-8403 « Est » removed
    )
    return v1, v2


def _comptes():
    return (
        Territoire.objects.count(),
        Labellisation.objects.count(),
        CommuneTerritoire.objects.count(),
        CompositionTerritoire.objects.count(),
        ImportTerritoires.objects.count(),
    )


def test_premiere_liste_communes_et_epci_partiel(vintages, referentiel, capsys):
    v1, _ = vintages
    call_command("importer_territoires", str(v1), "--phase", "2023-2027", "--date", "2023-12-01")
    sortie = capsys.readouterr().out
    assert "Territoires ajoutés : 3" in sortie and "communes ajoutées : 450" in sortie
    nord = Territoire.objects.get(id_anct="ti-8401")
    assert nord.communes_membres.count() == 220
    a, b = referentiel["epcis"]["A"], referentiel["epcis"]["B"]
    assert dict(nord.compositions.values_list("epci_id", "partielle")) == {
        a.siren: False,
        b.siren: True,
    }
    journal = ImportTerritoires.objects.get()
    assert (journal.fichier, journal.date_fichier) == ("liste-ti-com2023-v1.csv", date(2023, 12, 1))
    # First list of the phase: members dated from the programme's labelling date.
    label = nord.labellisations.get()
    assert label.date == date(2023, 11, 9) and label.composition == "complete"
    assert CommuneTerritoire.objects.filter(date_entree=date(2023, 11, 9)).count() == 450


def test_simulation_affiche_sans_ecrire_puis_application_datee(vintages, referentiel, capsys):
    v1, v2 = vintages
    call_command("importer_territoires", str(v1), "--date", "2023-12-01")
    avant = _comptes()
    capsys.readouterr()
    call_command("importer_territoires", str(v2), "--date", "2025-03-01", "--simulation")
    sortie = capsys.readouterr().out
    assert _comptes() == avant
    assert "Simulation : rien n'a été enregistré." in sortie
    assert "- territoire ti-8403 « Est »" in sortie
    assert "~ territoire ti-8402 renommé : « Sud » → « Sud Rhône »" in sortie
    assert "ti-8401 : - 10 commune(s)" in sortie
    assert "désormais en partie seulement" in sortie
    # The obsolete and the unknown codes are refused with their line numbers.
    assert "ligne 392 : la commune « 07999 » n'existe plus" in sortie
    assert "ligne 393 : commune « 07777 » inconnue du référentiel" in sortie

    call_command("importer_territoires", str(v2), "--date", "2025-03-01")
    # Nothing deleted: the same rows, some now closed, one more journal.
    assert _comptes()[:4] == avant[:4]
    journal = ImportTerritoires.objects.latest("applique_le")
    assert journal.fichier == "liste-ti-com2023-v2.csv"
    est = Labellisation.objects.get(territoire__id_anct="ti-8403")
    assert (est.date_sortie, est.import_sortie) == (date(2025, 3, 1), journal)
    assert Territoire.objects.get(id_anct="ti-8402").nom == "Sud Rhône"
    sorties = CommuneTerritoire.objects.filter(date_sortie=date(2025, 3, 1))
    assert sorties.count() == 10 + 50  # 10 from Nord, the 50 of Est
    assert set(sorties.filter(territoire__id_anct="ti-8401").values_list("commune", flat=True)) == (
        set(referentiel["communes"]["A"][110:])
    )
    nord = Territoire.objects.get(id_anct="ti-8401")
    assert nord.compositions.get(epci=referentiel["epcis"]["A"]).partielle
    est_epci = CompositionTerritoire.objects.get(territoire__id_anct="ti-8403")
    assert est_epci.date_sortie == date(2025, 3, 1)

    # History stays queryable.
    avant_sortie = Territoire.objects.labellises_le(date(2024, 6, 1))
    apres_sortie = Territoire.objects.labellises_le(date(2025, 6, 1))
    assert set(avant_sortie.values_list("id_anct", flat=True)) == {"ti-8401", "ti-8402", "ti-8403"}
    assert set(apres_sortie.values_list("id_anct", flat=True)) == {"ti-8401", "ti-8402"}
    # The name history is kept by the territory's history table.
    assert [h.nom for h in Territoire.objects.get(id_anct="ti-8402").history.all()][:2] == [
        "Sud Rhône",
        "Sud",
    ]

    # Applying the same list again changes nothing and records no journal.
    capsys.readouterr()
    call_command("importer_territoires", str(v2), "--date", "2025-03-01")
    assert "Aucune différence" in capsys.readouterr().out
    assert ImportTerritoires.objects.count() == 2


def test_retour_d_une_commune_rouvre_la_ligne(vintages, referentiel):
    v1, v2 = vintages
    importation.importer_territoires_anct(v1, date_fichier=date(2023, 12, 1))
    importation.importer_territoires_anct(v2, date_fichier=date(2025, 3, 1))
    importation.importer_territoires_anct(v1, date_fichier=date(2026, 1, 15))
    code = referentiel["communes"]["A"][115]
    ligne = CommuneTerritoire.objects.get(commune_id=code)
    assert (ligne.date_entree, ligne.date_sortie) == (date(2026, 1, 15), None)
    est = Labellisation.objects.get(territoire__id_anct="ti-8403")
    assert est.date_sortie is None
    assert ImportTerritoires.objects.count() == 3


def test_extrait_garde_la_composition_partielle(vintages):
    v1, _ = vintages
    importation.importer_territoires_anct(v1, extrait=True)
    assert set(Labellisation.objects.values_list("composition", flat=True)) == {"partielle"}


def test_phase_ou_date_invalide_refusees(vintages):
    from django.core.management import CommandError

    v1, _ = vintages
    with pytest.raises(CommandError, match="Phase inconnue"):
        call_command("importer_territoires", str(v1), "--phase", "2030-2034")
    with pytest.raises(CommandError, match="Date invalide"):
        call_command("importer_territoires", str(v1), "--date", "01/12/2023")
    assert ImportTerritoires.objects.count() == 0


def test_journal_des_imports_au_back_office(client, vintages):
    v1, _ = vintages
    importation.importer_territoires_anct(v1, date_fichier=date(2023, 12, 1))
    national = f.utilisateur("national", role="agent", echelon="national", niveau=3)
    client.force_login(national)
    liste = client.get("/admin/territoires/importterritoires/").content.decode()
    assert "liste-ti-com2023-v1.csv" in liste
    journal = ImportTerritoires.objects.get()
    fiche = client.get(f"/admin/territoires/importterritoires/{journal.pk}/change/")
    assert "+ territoire ti-8401 « Nord »" in fiche.content.decode()
    territoire = Territoire.objects.get(id_anct="ti-8401")
    page = client.get(f"/admin/territoires/territoire/{territoire.pk}/change/")
    assert page.status_code == 200 and "Commune 07001" in page.content.decode()
