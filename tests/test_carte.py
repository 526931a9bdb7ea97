"""Map of the territories: outlines pre-computed per territory and phase
(territoires/contours.py), the `/carte/` page (one element per territory, hatched
unknown compositions, laureates, text alternative), offline and without script."""

import json
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from territoires.contours import Projection, _simplifier, calculer_contours, chemin_svg
from territoires.models import ContourTerritoire, ContourZone

from . import factories as f


def _carre(lon, lat, cote=0.2):
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [lon, lat],
                [lon + cote, lat],
                [lon + cote, lat + cote],
                [lon, lat + cote],
                [lon, lat],
            ]
        ],
    }


def _ecrire(dossier, nom, entites):
    (dossier / f"{nom}.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": entites}), encoding="utf-8"
    )


@pytest.fixture
def contours(monde, tmp_path):
    """Synthetic outlines: the world's EPCI as squares, its three départements, one
    région; `Sans composition` declared in 30 only (composition unknown)."""
    epci = [
        ("epci_07", 4.5, 45.2),
        ("epci_26", 4.8, 45.2),
        ("epci_30", 4.0, 44.1),
        ("epci_30b", 4.6, 44.1),
    ]
    _ecrire(
        tmp_path,
        "epci-contours",
        [
            {
                "type": "Feature",
                "properties": {"siren": monde[c].siren, "nom": monde[c].nom, "dept": "07"},
                "geometry": _carre(lon, lat),
            }
            for c, lon, lat in epci
        ],
    )
    _ecrire(
        tmp_path,
        "departements-contours",
        [
            {"type": "Feature", "properties": {"code": code, "nom": code}, "geometry": g}
            for code, g in [
                ("07", _carre(4.2, 44.8, 0.6)),
                ("26", _carre(4.8, 44.8, 0.6)),
                ("30", _carre(3.8, 43.8, 0.8)),
            ]
        ],
    )
    _ecrire(
        tmp_path,
        "regions-contours",
        [
            {
                "type": "Feature",
                "properties": {"code": "84", "nom": "ARA"},
                "geometry": _carre(4.2, 44.8, 1.2),
            }
        ],
    )
    sans = f.TerritoireFactory(nom="Sans composition", region_pilote=monde["occ"])
    from territoires.models import Labellisation

    Labellisation.objects.create(territoire=sans, phase=monde["phase"], date="2023-11-09")
    (tmp_path / "connus.csv").write_text(
        "nom;id_anct;departements\nSans composition;;30\n", encoding="utf-8"
    )
    monde["adn"].laureat_rebond_industriel = True
    monde["adn"].save()
    rapport = calculer_contours(tmp_path, tmp_path / "connus.csv")
    return {"dossier": tmp_path, "sans": sans, "rapport": rapport}


def test_un_contour_par_territoire_et_phase(contours, monde):
    assert ContourZone.objects.filter(niveau="departement").count() == 3
    assert ContourZone.objects.filter(niveau="region").count() == 1
    adn = ContourTerritoire.objects.get(territoire=monde["adn"])
    assert adn.source == "epci" and adn.nombre_epci == 2
    assert adn.chemin.count("M") == 2  # its two EPCI
    sans = ContourTerritoire.objects.get(territoire=contours["sans"])
    assert sans.source == "departements" and sans.composition_inconnue
    assert sans.chemin == ContourZone.objects.get(niveau="departement", code="30").chemin
    assert contours["rapport"].par_departements == 1


def test_calcul_idempotent(contours, monde):
    avant = list(ContourTerritoire.objects.values_list("territoire_id", "phase_id", "chemin"))
    calculer_contours(contours["dossier"], contours["dossier"] / "connus.csv")
    apres = list(ContourTerritoire.objects.values_list("territoire_id", "phase_id", "chemin"))
    assert sorted(avant) == sorted(apres)


def test_commande_fichier_absent(db, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Fichier introuvable"):
        call_command("calculer_contours", "--contours", str(tmp_path))


def test_projection_encarts_drom():
    departements = [
        {"properties": {"code": "974"}, "geometry": _carre(55.2, -21.4, 0.6)},
    ]
    projection = Projection(departements)
    x_metropole, _ = projection.point(2.35, 48.85, "75")
    x_reunion, y_reunion = projection.point(55.5, -21.1, "974")
    assert x_reunion < 100 < x_metropole  # the inset column, left of the mainland
    assert y_reunion > 0


def test_simplification_garde_les_extremites():
    droite = [(0, 0), (1, 0.01), (2, 0), (3, 0.02), (4, 0), (4, 4), (0, 0)]
    assert _simplifier(droite, 0.5) == [(0, 0), (4, 0), (4, 4), (0, 0)]
    assert chemin_svg([[(0, 0), (4, 0), (4, 4), (0, 0)]]) == "M0 0L4 0 4 4Z"


def test_page_carte(client, contours, monde, django_assert_max_num_queries):
    # phase, contours with territories, compositions, labellisations, zones, phases,
    # legend régions, DSFR configuration (x2).
    with django_assert_max_num_queries(10):
        reponse = client.get(reverse("carte"))
    assert reponse.status_code == 200
    contenu = reponse.content.decode()
    svg = contenu[contenu.index('<svg class="portail-carte__svg"') : contenu.index("</svg>")]
    # One element per territory, each a link to its page.
    traces = re.findall(r'data-territoire="([^"]+)"', svg)
    attendus = ContourTerritoire.objects.filter(phase=monde["phase"]).count()
    assert len(traces) == attendus == len(set(traces))
    for slug in traces:
        assert f'href="/territoires/{slug}/"' in svg
    # Unknown composition: hatched, and said.
    assert 'fill="url(#hachures-76)"' in svg
    assert "composition inconnue" in contenu.lower()
    # Laureate marked.
    assert svg.count('class="carte-laureat"') == 1
    # Text alternative: a table with one row per drawn territory.
    tableau = contenu[contenu.index('id="carte-tableau"') :]
    for contour in ContourTerritoire.objects.filter(phase=monde["phase"]):
        assert contour.territoire.nom.replace("'", "&#x27;") in tableau
    # Offline, strict CSP: no script, no style attribute, no external address in the map.
    assert (
        "<script" not in svg
        and "style=" not in svg
        and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    )


def test_page_carte_phase_inconnue(client, contours):
    reponse = client.get(reverse("carte"), {"phase": "1900-1901"})
    assert reponse.status_code == 200
    assert "Phase inconnue" in reponse.content.decode()


def test_page_carte_sans_contours(client, monde):
    reponse = client.get(reverse("carte"))
    assert reponse.status_code == 200
    assert "Aucun contour" in reponse.content.decode()
