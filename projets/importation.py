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
from commun.tableur import neutraliser, texte_xlsx
from territoires.models import Commune, Phase, Territoire

from . import services
from .models import Projet

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
    """(territoire, phase, axes, data, errors): every error of the row, not the first."""
    erreurs = []

    def lire(fonction, colonne):
        try:
            return fonction(ligne.get(colonne))
        except ValidationError as erreur:
            erreurs.append(f"{colonne} : {' '.join(erreur.messages)}")
            return None

    manquantes = [c for c in COLONNES if c in OBLIGATOIRES and not _texte(ligne.get(c))]
    if manquantes:
        erreurs.append(f"colonne(s) obligatoire(s) vide(s) : {', '.join(manquantes)}")
    territoire = phase = None
    cle = _texte(ligne.get("territoire"))
    if cle:
        territoire = Territoire.objects.filter(Q(slug=cle) | Q(id_anct=cle)).first()
        if territoire is None:
            erreurs.append(f"territoire « {cle} » inconnu")
    code_phase = _texte(ligne.get("phase"))
    if code_phase:
        phase = Phase.objects.filter(code=code_phase).first()
        if phase is None:
            erreurs.append(f"phase « {code_phase} » inconnue")
    codes_axes = [c.strip() for c in _texte(ligne.get("axes")).split(",") if c.strip()]
    axes = []
    if phase is not None and codes_axes:
        axes = list(phase.axes.filter(code__in=codes_axes))
        inconnus = sorted(set(codes_axes) - {a.code for a in axes})
        if inconnus:
            erreurs.append(f"axe(s) inconnu(s) pour la phase {phase.code} : {', '.join(inconnus)}")
    commune = None
    if _texte(ligne.get("commune")):
        commune = Commune.objects.filter(code_insee=_texte(ligne["commune"])).first()
        if commune is None:
            erreurs.append(f"commune « {ligne['commune']} » inconnue")
    donnees = {
        "titre": _texte(ligne.get("titre")),
        "description": _texte(ligne.get("description")),
        "nature": _texte(ligne.get("nature")),
        "porteur_raison_sociale": _texte(ligne.get("porteur_raison_sociale")),
        "porteur_siret": _texte(ligne.get("porteur_siret")),
        "porteur_taille": _texte(ligne.get("porteur_taille")),
        "commune": commune,
        "montant_investissement": lire(_montant, "montant_investissement"),
        "aide_demandee": lire(_montant, "aide_demandee"),
        "emplois_crees": lire(_entier, "emplois_crees"),
        "emplois_maintenus": lire(_entier, "emplois_maintenus"),
        "date_debut_prevue": lire(_date, "date_debut_prevue"),
    }
    return territoire, phase, axes, donnees, erreurs


def _messages(erreur: ValidationError) -> list[str]:
    """Every message of a refusal, each with its field's label."""
    if hasattr(erreur, "message_dict"):
        libelles = {f.name: str(f.verbose_name) for f in Projet._meta.fields}
        return [
            f"{libelles.get(champ, champ) if champ != '__all__' else 'dossier'} : {texte}"
            for champ, textes in erreur.message_dict.items()
            for texte in textes
        ]
    return list(erreur.messages)


EXEMPLE = {
    "territoire": "ardeche-drome-nord",
    "phase": "2023-2027",
    "titre": "Extension de l'atelier d'usinage",
    "description": "Nouvelle ligne de production.",
    "nature": "extension",
    "axes": "",
    "porteur_raison_sociale": "Ateliers du Vivarais",
    "porteur_siret": "73282932000074",
    "porteur_taille": "PME",
    "commune": "07010",
    "montant_investissement": "1000000,00",
    "aide_demandee": "200000,00",
    "emplois_crees": "12",
    "emplois_maintenus": "40",
    "date_debut_prevue": "2026-03-01",
}


def codes_acceptes(user) -> list[tuple[str, str, str]]:
    """(column, accepted code, label): natures, sizes, phases, axes of each phase and
    the territories of the user's perimeter."""
    lignes = [("nature", code, libelle) for code, libelle in Projet.Nature.choices]
    lignes += [("porteur_taille", code, libelle) for code, libelle in Projet.Taille.choices]
    for phase in Phase.objects.prefetch_related("axes").order_by("code"):
        lignes.append(("phase", phase.code, str(phase)))
        lignes += [
            ("axes", axe.code, f"{axe} (phase {phase.code})")
            for axe in sorted(phase.axes.all(), key=lambda a: a.code)
        ]
    territoires = Territoire.objects.visibles_par(user).order_by("nom")
    lignes += [("territoire", t.slug, t.nom) for t in territoires.only("slug", "nom")]
    return lignes


def ecrire_modele(*, format_: str, fichier, user) -> None:
    """The import template: the columns and one example row; in XLSX, a second sheet
    « codes acceptés » lists every accepted code with its label."""
    if format_ == "csv":
        texte = io.StringIO()
        ecrivain = csv.writer(texte, delimiter=";")
        ecrivain.writerow(COLONNES)
        ecrivain.writerow([neutraliser(str(EXEMPLE[c])) for c in COLONNES])
        fichier.write(("\ufeff" + texte.getvalue()).encode("utf-8"))
        return
    from openpyxl import Workbook
    from openpyxl.styles import Font

    classeur = Workbook()
    feuille = classeur.active
    feuille.title = "dossiers"
    feuille.append(COLONNES)
    feuille.append([EXEMPLE[c] for c in COLONNES])
    for ligne in feuille.iter_rows():
        for cellule in ligne:
            texte_xlsx(cellule)
    feuille.freeze_panes = "A2"
    for cellule in feuille[1]:
        cellule.font = Font(bold=True)
        feuille.column_dimensions[cellule.column_letter].width = max(len(cellule.value) + 4, 14)
    codes = classeur.create_sheet("codes acceptés")
    codes.append(["colonne", "code accepté", "libellé"])
    for cellule in codes[1]:
        cellule.font = Font(bold=True)
    for ligne in codes_acceptes(user):
        codes.append(list(ligne))
    for ligne in codes.iter_rows(min_row=2):
        for cellule in ligne:
            texte_xlsx(cellule)  # labels come from the database: never a formula
    codes.freeze_panes = "A2"
    for lettre, largeur in (("A", 22), ("B", 32), ("C", 70)):
        codes.column_dimensions[lettre].width = largeur
    classeur.save(fichier)


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
            territoire, phase, axes, donnees, erreurs = _convertir(ligne)
            if territoire is not None and phase is not None:
                # The service's own checks run too, so that the officer sees every error
                # of the row at once (its writes are undone with the whole import).
                try:
                    with transaction.atomic():
                        services.projet_creer(
                            user=user, territoire=territoire, phase=phase, axes=axes, **donnees
                        )
                except ValidationError as erreur:
                    erreurs += _messages(erreur)
                except PermissionDenied as refus:
                    erreurs.append(str(refus))
            if erreurs:
                rapport.erreurs += [(numero, texte) for texte in erreurs]
            else:
                rapport.crees += 1
        if simulation or rapport.erreurs or not rapport.lignes:
            transaction.set_rollback(True)
        else:
            rapport.enregistre = True
    return rapport
