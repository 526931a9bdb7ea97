"""Import of draft dossiers from CSV or XLSX: all rows or none, with a dry run.

The file is bounded before it is read: at most TAILLE_MAX bytes, and an XLSX (a ZIP
archive) is checked and inflated block by block within LIMITES_XLSX by
`commun.archives` before openpyxl opens it (decompression bombs)."""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from openpyxl import load_workbook

from commun.archives import MIO, ArchiveRefusee, Limites, archive_bornee
from territoires.models import Commune, Phase, Territoire

from . import services

COLONNES = [
    "territoire",
    "phase",
    "titre",
    "description",
    "nature",
    "axes",
    "porteur_raison_sociale",
    "porteur_siret",
    "porteur_taille",
    "commune",
    "montant_investissement",
    "aide_demandee",
    "emplois_crees",
    "emplois_maintenus",
    "date_debut_prevue",
]
OBLIGATOIRES = {"territoire", "phase", "titre"}
TAILLE_MAX = 10 * MIO
# A sheet of dossiers inflates to a few megabytes: openpyxl holds shared strings in
# memory, so the bounds are tighter than for attachments.
LIMITES_XLSX = Limites(membres=200, taille_membre=20 * MIO, taille_totale=50 * MIO, ratio=100)


@dataclass
class RapportImport:
    lignes: int = 0
    crees: int = 0
    erreurs: list[tuple[int, str]] = field(default_factory=list)
    enregistre: bool = False


def _lire(fichier) -> list[dict]:
    nom = (fichier.name or "").lower()
    if nom.endswith(".xlsx"):
        with archive_bornee(fichier, LIMITES_XLSX) as archive:
            archive.verifier_contenu()
        classeur = load_workbook(fichier, read_only=True, data_only=True)
        lignes = classeur.active.iter_rows(values_only=True)
        entetes = [str(c or "").strip() for c in next(lignes, [])]
        return [
            dict(zip(entetes, ligne, strict=False))
            for ligne in lignes
            if any(v not in (None, "") for v in ligne)
        ]
    texte = fichier.read().decode("utf-8-sig")
    return [
        ligne
        for ligne in csv.DictReader(io.StringIO(texte), delimiter=";")
        if any((v or "").strip() for v in ligne.values() if isinstance(v, str))
    ]


def _texte(valeur) -> str:
    return "" if valeur is None else str(valeur).strip()


def _montant(valeur):
    texte = _texte(valeur).replace(" ", "").replace("\u202f", "").replace(",", ".")
    if not texte:
        return None
    try:
        return Decimal(texte)
    except InvalidOperation as exc:
        raise ValidationError(f"montant invalide « {valeur} »") from exc


def _entier(valeur):
    texte = _texte(valeur)
    if not texte:
        return None
    try:
        return int(float(texte))
    except ValueError as exc:
        raise ValidationError(f"nombre invalide « {valeur} »") from exc


def _date(valeur):
    if isinstance(valeur, datetime):
        return valeur.date()
    if isinstance(valeur, date):
        return valeur
    texte = _texte(valeur)
    if not texte:
        return None
    try:
        return date.fromisoformat(texte)
    except ValueError as exc:
        raise ValidationError(f"date invalide « {valeur} » (attendu AAAA-MM-JJ)") from exc


def _convertir(ligne: dict):
    manquantes = [c for c in OBLIGATOIRES if not _texte(ligne.get(c))]
    if manquantes:
        raise ValidationError(f"colonne(s) obligatoire(s) vide(s) : {', '.join(manquantes)}")
    cle = _texte(ligne["territoire"])
    territoire = Territoire.objects.filter(Q(slug=cle) | Q(id_anct=cle)).first()
    if territoire is None:
        raise ValidationError(f"territoire « {cle} » inconnu")
    phase = Phase.objects.filter(code=_texte(ligne["phase"])).first()
    if phase is None:
        raise ValidationError(f"phase « {ligne['phase']} » inconnue")
    codes_axes = [c.strip() for c in _texte(ligne.get("axes")).split(",") if c.strip()]
    axes = list(phase.axes.filter(code__in=codes_axes))
    if len(axes) != len(set(codes_axes)):
        raise ValidationError(f"axe(s) inconnu(s) pour la phase {phase.code} : {codes_axes}")
    commune = None
    if _texte(ligne.get("commune")):
        commune = Commune.objects.filter(code_insee=_texte(ligne["commune"])).first()
        if commune is None:
            raise ValidationError(f"commune « {ligne['commune']} » inconnue")
    donnees = {
        "titre": _texte(ligne["titre"]),
        "description": _texte(ligne.get("description")),
        "nature": _texte(ligne.get("nature")),
        "porteur_raison_sociale": _texte(ligne.get("porteur_raison_sociale")),
        "porteur_siret": _texte(ligne.get("porteur_siret")),
        "porteur_taille": _texte(ligne.get("porteur_taille")),
        "commune": commune,
        "montant_investissement": _montant(ligne.get("montant_investissement")),
        "aide_demandee": _montant(ligne.get("aide_demandee")),
        "emplois_crees": _entier(ligne.get("emplois_crees")),
        "emplois_maintenus": _entier(ligne.get("emplois_maintenus")),
        "date_debut_prevue": _date(ligne.get("date_debut_prevue")),
    }
    return territoire, phase, axes, donnees


def _message(erreur: ValidationError) -> str:
    if hasattr(erreur, "message_dict"):
        return " ; ".join(
            f"{champ} : {' '.join(textes)}" for champ, textes in erreur.message_dict.items()
        )
    return " ".join(erreur.messages)


def importer_dossiers(*, fichier, user, simulation: bool) -> RapportImport:
    """Create one draft per row through `projet_creer`; any error → nothing is saved."""
    rapport = RapportImport()
    if fichier.size is not None and fichier.size > TAILLE_MAX:
        rapport.erreurs.append(
            (0, f"fichier trop volumineux : {TAILLE_MAX // MIO} Mo au plus, rien n'a été lu")
        )
        return rapport
    try:
        lignes = _lire(fichier)
    except ArchiveRefusee as refus:
        rapport.erreurs.append((0, refus.message))
        return rapport
    except (UnicodeDecodeError, csv.Error, OSError, KeyError, ValueError) as exc:
        rapport.erreurs.append((0, f"fichier illisible : {exc}"))
        return rapport
    with transaction.atomic():
        for numero, ligne in enumerate(lignes, start=2):
            rapport.lignes += 1
            try:
                with transaction.atomic():
                    territoire, phase, axes, donnees = _convertir(ligne)
                    services.projet_creer(
                        user=user, territoire=territoire, phase=phase, axes=axes, **donnees
                    )
                rapport.crees += 1
            except ValidationError as erreur:
                rapport.erreurs.append((numero, _message(erreur)))
            except PermissionDenied as refus:
                rapport.erreurs.append((numero, str(refus)))
        if simulation or rapport.erreurs or not rapport.lignes:
            transaction.set_rollback(True)
        else:
            rapport.enregistre = True
    return rapport
