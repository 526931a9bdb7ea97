"""Outlines of the map of the territories, pre-computed once (not on each request).

`calculer_contours()` reads the simplified GeoJSON files of `fixtures/contours/`
(EPCI, départements, régions; WGS84), projects them into the coordinates of the
portal's SVG map and stores:
- one `ContourZone` per région and per département (the reference layer);
- one `ContourTerritoire` per territory and phase: the paths of its EPCI of that phase,
  or, when that composition is unknown, the paths of its declared départements (read
  from the known-territories file), drawn hatched on the map.

Projection: equirectangular, scaled by cos(latitude) of mainland France; each of the
five DROM is moved into an inset on the left of the map (their real positions are
thousands of kilometres away). Coordinates are rounded to whole units, each ring is
simplified (Douglas-Peucker, 0.9 unit); consecutive duplicate
points and rings smaller than a pixel are dropped. Idempotent: a second run rewrites the
same rows.
"""

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from .models import (
    CompositionTerritoire,
    ContourTerritoire,
    ContourZone,
    Labellisation,
    Territoire,
)

DOSSIER_CONTOURS = Path(settings.BASE_DIR) / "fixtures" / "contours"
FICHIER_DECLARES = Path(settings.BASE_DIR) / "fixtures" / "referentiel" / "territoires-connus.csv"

# The map's frame (SVG user units).
ECHELLE = 60.0  # map units per degree of latitude (1 unit ≈ 1.9 km)
METROPOLE = {"lon_min": -5.2, "lat_max": 51.15, "cos": math.cos(math.radians(46.2))}
MARGE_GAUCHE = 100.0  # column of the DROM insets
LARGEUR = MARGE_GAUCHE + (9.7 - METROPOLE["lon_min"]) * ECHELLE * METROPOLE["cos"]
HAUTEUR = (METROPOLE["lat_max"] - 41.3) * ECHELLE
DROM = ["971", "972", "973", "974", "976"]
NOMS_DROM = {
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "976": "Mayotte",
}
REGION_DROM = {"01": "971", "02": "972", "03": "973", "04": "974", "06": "976"}
ENCART = {"largeur": 84.0, "hauteur": HAUTEUR / len(DROM) - 12, "x": 8.0}
SURFACE_MIN = 1.0  # px², rings below are dropped
# Decimals kept in the map's coordinates: on a grid shared by every outline, so that
# neighbours keep identical borders (1 unit ≈ 1.9 km).
PRECISION = 0
# Douglas-Peucker tolerance (map units): neighbours may differ by that much at most.
TOLERANCE = 0.9


@dataclass
class RapportContours:
    zones: int = 0
    territoires: int = 0
    par_departements: int = 0
    ignores: list[str] = field(default_factory=list)

    def __str__(self):
        lignes = [
            f"Contours : {self.zones} régions et départements, {self.territoires} "
            f"territoires-phases dont {self.par_departements} d'après leurs départements "
            "(composition inconnue)."
        ]
        lignes += [f"  ignoré : {motif}" for motif in self.ignores]
        return "\n".join(lignes)


def _lire(nom: str, dossier: Path) -> list[dict]:
    return json.loads((dossier / f"{nom}.geojson").read_text(encoding="utf-8"))["features"]


def _polygones(geometrie: dict) -> list:
    if geometrie["type"] == "Polygon":
        return [geometrie["coordinates"]]
    return geometrie["coordinates"]


class Projection:
    """WGS84 → map coordinates; one affine frame for mainland France and Corse, one per
    DROM inset (fitted to the DROM's bounding box)."""

    def __init__(self, departements: list[dict]):
        self.encarts = {}
        for rang, code in enumerate(DROM):
            points = [
                (lon, lat)
                for f in departements
                if f["properties"]["code"] == code
                for poly in _polygones(f["geometry"])
                for lon, lat in poly[0]
            ]
            if not points:
                continue
            lon_min = min(p[0] for p in points)
            lon_max = max(p[0] for p in points)
            lat_min = min(p[1] for p in points)
            lat_max = max(p[1] for p in points)
            cos = math.cos(math.radians((lat_min + lat_max) / 2))
            largeur, hauteur = (lon_max - lon_min) * cos, lat_max - lat_min
            # The inset's top line holds its name.
            echelle = min(ENCART["largeur"] / largeur, (ENCART["hauteur"] - 10) / hauteur)
            haut = _cadre(rang)[1] + 4 + 10
            self.encarts[code] = {
                "lon_min": lon_min,
                "lat_max": lat_max,
                "cos": cos,
                "echelle": echelle,
                "x": ENCART["x"] + (ENCART["largeur"] - largeur * echelle) / 2,
                "y": haut + (ENCART["hauteur"] - 10 - hauteur * echelle) / 2,
            }

    def point(self, lon: float, lat: float, departement: str) -> tuple[float, float]:
        encart = self.encarts.get(departement)
        if encart is None:
            x = MARGE_GAUCHE + (lon - METROPOLE["lon_min"]) * METROPOLE["cos"] * ECHELLE
            return x, (METROPOLE["lat_max"] - lat) * ECHELLE
        return (
            encart["x"] + (lon - encart["lon_min"]) * encart["cos"] * encart["echelle"],
            encart["y"] + (encart["lat_max"] - lat) * encart["echelle"],
        )

    def anneaux(self, geometrie: dict, departement: str) -> list[list[tuple[float, float]]]:
        resultat = []
        for polygone in _polygones(geometrie):
            for anneau in polygone:
                points = []
                for lon, lat in anneau:
                    x, y = self.point(lon, lat, departement)
                    p = (round(x, PRECISION), round(y, PRECISION))
                    if not points or points[-1] != p:
                        points.append(p)
                points = _simplifier(points)
                if len(points) >= 4 and _surface(points) >= SURFACE_MIN:
                    resultat.append(points)
        return resultat


def _simplifier(points, tolerance: float = TOLERANCE) -> list:
    """Douglas-Peucker on one ring (first and last points kept)."""
    if len(points) < 5:
        return points
    garder = [False] * len(points)
    garder[0] = garder[-1] = True
    piles = [(0, len(points) - 1)]
    while piles:
        debut, fin = piles.pop()
        (x1, y1), (x2, y2) = points[debut], points[fin]
        dx, dy = x2 - x1, y2 - y1
        longueur = math.hypot(dx, dy)
        pire, indice = 0.0, None
        for i in range(debut + 1, fin):
            x, y = points[i]
            if longueur:
                distance = abs(dy * (x - x1) - dx * (y - y1)) / longueur
            else:
                distance = math.hypot(x - x1, y - y1)
            if distance > pire:
                pire, indice = distance, i
        if indice is not None and pire > tolerance:
            garder[indice] = True
            piles += [(debut, indice), (indice, fin)]
    return [p for p, g in zip(points, garder, strict=True) if g]


def _surface(points) -> float:
    return abs(
        sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False)) / 2
    )


def _nombre(v: float) -> str:
    texte = f"{v:.{PRECISION}f}"
    return texte[:-2] if texte.endswith(".0") else texte


def chemin_svg(anneaux) -> str:
    """`M x y L x y … Z` for each ring (fill-rule evenodd keeps the holes)."""
    parties = []
    for anneau in anneaux:
        debut, *suite = anneau
        if suite and suite[-1] == debut:
            suite = suite[:-1]
        parties.append(
            f"M{_nombre(debut[0])} {_nombre(debut[1])}L"
            + " ".join(f"{_nombre(x)} {_nombre(y)}" for x, y in suite)
            + "Z"
        )
    return "".join(parties)


def _centre(anneaux) -> tuple[float, float]:
    """Centre of the largest ring's bounding box (where the laureate mark goes)."""
    plus_grand = max(anneaux, key=_surface)
    xs, ys = [p[0] for p in plus_grand], [p[1] for p in plus_grand]
    return round((min(xs) + max(xs)) / 2, 1), round((min(ys) + max(ys)) / 2, 1)


def _departements_declares(chemin: Path) -> dict:
    """{(id_anct or name): [département codes]} from the known-territories file."""
    if not chemin.exists():
        return {}
    declares = {}
    with chemin.open(encoding="utf-8", newline="") as fichier:
        for ligne in csv.DictReader(fichier, delimiter=";"):
            codes = [c.strip() for c in (ligne.get("departements") or "").split(",") if c.strip()]
            if not codes:
                continue
            if (ligne.get("id_anct") or "").strip():
                declares[ligne["id_anct"].strip()] = codes
            declares[(ligne.get("nom") or "").strip()] = codes
    return declares


def _cadre(rang: int) -> tuple[float, float, float, float]:
    haut = rang * (ENCART["hauteur"] + 12) + 6
    return (ENCART["x"] - 4, haut - 4, ENCART["largeur"] + 8, ENCART["hauteur"] + 8)


def cadres_encarts() -> list[dict]:
    """The DROM insets' frames (fixed by the layout), to draw their boxes and names."""
    encarts = []
    for rang, code in enumerate(DROM):
        x, y, largeur, hauteur = (round(v, 1) for v in _cadre(rang))
        encarts.append(
            {
                "code": code,
                "nom": NOMS_DROM[code],
                "x": x,
                "y": y,
                "largeur": largeur,
                "hauteur": hauteur,
                "texte_x": round(x + 3, 1),
                "texte_y": round(y + 9, 1),
            }
        )
    return encarts


def calculer_contours(
    dossier: Path = DOSSIER_CONTOURS, declares: Path = FICHIER_DECLARES
) -> RapportContours:
    rapport = RapportContours()
    epcis = _lire("epci-contours", dossier)
    departements = _lire("departements-contours", dossier)
    regions = _lire("regions-contours", dossier)
    projection = Projection(departements)

    anneaux_epci = {
        f["properties"]["siren"]: projection.anneaux(f["geometry"], f["properties"]["dept"])
        for f in epcis
    }
    anneaux_dep = {
        f["properties"]["code"]: projection.anneaux(f["geometry"], f["properties"]["code"])
        for f in departements
    }
    zones = [
        (ContourZone.Niveau.DEPARTEMENT, f["properties"]["code"], f["properties"]["nom"], a)
        for f in departements
        if (a := anneaux_dep[f["properties"]["code"]])
    ] + [
        (
            ContourZone.Niveau.REGION,
            f["properties"]["code"],
            f["properties"]["nom"],
            projection.anneaux(f["geometry"], REGION_DROM.get(f["properties"]["code"], "")),
        )
        for f in regions
    ]

    compositions = {}
    for territoire_id, phase_id, siren in CompositionTerritoire.objects.values_list(
        "territoire_id", "phase_id", "epci_id"
    ):
        compositions.setdefault((territoire_id, phase_id), []).append(siren)
    phases_labellisees = set(Labellisation.objects.values_list("territoire_id", "phase_id"))
    departements_declares = _departements_declares(declares)

    with transaction.atomic():
        for niveau, code, nom, anneaux in zones:
            ContourZone.objects.update_or_create(
                niveau=niveau, code=code, defaults={"nom": nom, "chemin": chemin_svg(anneaux)}
            )
            rapport.zones += 1
        for territoire in Territoire.objects.order_by("nom"):
            phases = {p for (t, p) in compositions if t == territoire.pk} | {
                p for (t, p) in phases_labellisees if t == territoire.pk
            }
            for phase_id in sorted(phases):
                sirens = compositions.get((territoire.pk, phase_id), [])
                anneaux = [a for s in sirens for a in anneaux_epci.get(s, [])]
                sans_contour = sum(1 for s in sirens if not anneaux_epci.get(s))
                source = ContourTerritoire.Source.EPCI
                if not anneaux:
                    codes = departements_declares.get(
                        territoire.id_anct or "", departements_declares.get(territoire.nom, [])
                    )
                    anneaux = [a for c in codes for a in anneaux_dep.get(c, [])]
                    source = ContourTerritoire.Source.DEPARTEMENTS
                if not anneaux:
                    rapport.ignores.append(
                        f"{territoire.nom} : ni composition ni départements déclarés"
                    )
                    continue
                centre_x, centre_y = _centre(anneaux)
                ContourTerritoire.objects.update_or_create(
                    territoire=territoire,
                    phase_id=phase_id,
                    defaults={
                        "source": source,
                        "chemin": chemin_svg(anneaux),
                        "centre_x": centre_x,
                        "centre_y": centre_y,
                        "nombre_epci": len(sirens) - sans_contour,
                        "epci_sans_contour": sans_contour,
                    },
                )
                rapport.territoires += 1
                rapport.par_departements += source == ContourTerritoire.Source.DEPARTEMENTS
    return rapport
