"""Idempotent loaders of the territorial reference data (keyed on official codes)."""

import csv
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils.text import slugify
from tqdm import tqdm

from .models import (
    Axe,
    Commune,
    CommuneTerritoire,
    CompositionTerritoire,
    Departement,
    ImportTerritoires,
    Intercommunalite,
    Labellisation,
    Phase,
    Region,
    Territoire,
)
from .validators import valider_code_commune, valider_code_departement, valider_siren

DOSSIER_REFERENTIEL = Path(settings.BASE_DIR) / "fixtures" / "referentiel"
FICHIER_PROGRAMME = Path(settings.BASE_DIR) / "fixtures" / "programme.json"
TAILLE_LOT = 1000


@dataclass
class Rapport:
    nom: str
    lus: int = 0
    nouveaux: int = 0
    mis_a_jour: int = 0
    obsoletes: int = 0
    rejets: list[str] = field(default_factory=list)
    texte_difference: str = ""

    def __str__(self):
        texte = (
            f"{self.nom} : {self.lus} lus, {self.nouveaux} nouveaux, "
            f"{self.mis_a_jour} mis à jour, {self.obsoletes} marqués obsolètes, "
            f"{len(self.rejets)} lignes rejetées"
        )
        texte += "".join(f"\n  - {rejet}" for rejet in self.rejets[:20])
        if len(self.rejets) > 20:
            texte += f"\n  … et {len(self.rejets) - 20} autres lignes rejetées"
        if self.texte_difference:
            texte += "\n" + self.texte_difference
        return texte


def _lire_csv(chemin: Path, delimiter=","):
    with open(chemin, encoding="utf-8-sig", newline="") as fichier:
        yield from csv.DictReader(fichier, delimiter=delimiter)


def _upsert(modele, objets, champs_maj, rapport: Rapport, progression=False):
    """Insert new rows and update changed ones, in bulk; unchanged rows are not written."""
    cle = modele._meta.pk.name
    colonnes = [modele._meta.get_field(champ).attname for champ in champs_maj]
    existants = {
        ligne[0]: ligne[1:] for ligne in modele.objects.values_list(cle, *colonnes).iterator()
    }
    a_ecrire = []
    for objet in objets:
        avant = existants.get(getattr(objet, cle))
        if avant is None:
            rapport.nouveaux += 1
        elif tuple(avant) != tuple(getattr(objet, c) for c in colonnes):
            rapport.mis_a_jour += 1
        else:
            continue
        a_ecrire.append(objet)
    lots = range(0, len(a_ecrire), TAILLE_LOT)
    for debut in tqdm(lots, desc=rapport.nom, disable=not progression or not lots, unit="lot"):
        modele.objects.bulk_create(
            a_ecrire[debut : debut + TAILLE_LOT],
            update_conflicts=True,
            unique_fields=[cle],
            update_fields=champs_maj,
        )


def importer_regions_departements(dossier: Path = DOSSIER_REFERENTIEL) -> list[Rapport]:
    rapport_reg = Rapport("Régions")
    regions = []
    for ligne in _lire_csv(dossier / "regions.csv"):
        rapport_reg.lus += 1
        regions.append(Region(code=ligne["REG"], nom=ligne["LIBELLE"]))
    _upsert(Region, regions, ["nom"], rapport_reg)

    rapport_dep = Rapport("Départements")
    departements = []
    codes_regions = {r.code for r in regions}
    for numero, ligne in enumerate(_lire_csv(dossier / "departements.csv"), start=2):
        rapport_dep.lus += 1
        try:
            valider_code_departement(ligne["DEP"])
        except ValidationError:
            rapport_dep.rejets.append(f"ligne {numero} : code « {ligne['DEP']} » invalide")
            continue
        if ligne["REG"] not in codes_regions:
            rapport_dep.rejets.append(f"ligne {numero} : région « {ligne['REG']} » inconnue")
            continue
        departements.append(
            Departement(code=ligne["DEP"], nom=ligne["LIBELLE"], region_id=ligne["REG"])
        )
    _upsert(Departement, departements, ["nom", "region"], rapport_dep)
    return [rapport_reg, rapport_dep]


def importer_epci_communes(
    chemin: Path = DOSSIER_REFERENTIEL / "epcicom.csv", progression=False
) -> list[Rapport]:
    """Load EPCI and communes from BANATIC's « composition communale des EPCI »."""
    rapport_epci = Rapport("Intercommunalités")
    rapport_com = Rapport("Communes")
    departements = set(Departement.objects.values_list("code", flat=True))
    epcis: dict[str, Intercommunalite] = {}
    communes: dict[str, Commune] = {}
    for numero, ligne in enumerate(_lire_csv(chemin), start=2):
        rapport_com.lus += 1
        if not any((valeur or "").strip() for valeur in ligne.values()):
            rapport_com.rejets.append(f"ligne {numero} : ligne vide ignorée")
            continue
        siren, insee = ligne["siren"].strip(), ligne["insee"].strip()
        try:
            valider_siren(siren)
            valider_code_commune(insee)
        except ValidationError as exc:
            rapport_com.rejets.append(f"ligne {numero} : {exc.messages[0]}")
            continue
        if ligne["dept"] not in departements or ligne["dep_com"] not in departements:
            rapport_com.rejets.append(f"ligne {numero} : département inconnu")
            continue
        if ligne["nature_juridique"] not in Intercommunalite.Nature.values:
            rapport_com.rejets.append(
                f"ligne {numero} : nature « {ligne['nature_juridique']} » inconnue"
            )
            continue
        if siren not in epcis:
            epcis[siren] = Intercommunalite(
                siren=siren,
                nom=ligne["raison_sociale"].strip(),
                nature=ligne["nature_juridique"],
                departement_id=ligne["dept"],
                population=int(ligne["total_pop_mun"] or 0),
                obsolete=False,
            )
        communes[insee] = Commune(
            code_insee=insee,
            nom=ligne["nom_membre"].strip(),
            departement_id=ligne["dep_com"],
            epci_id=siren,
            population=int(ligne["pmun_2025"] or 0),
            obsolete=False,
        )
    rapport_epci.lus = len(epcis)
    with transaction.atomic():
        _upsert(
            Intercommunalite,
            list(epcis.values()),
            ["nom", "nature", "departement", "population", "obsolete"],
            rapport_epci,
            progression,
        )
        _upsert(
            Commune,
            list(communes.values()),
            ["nom", "departement", "epci", "population", "obsolete"],
            rapport_com,
            progression,
        )
        # Never delete: what the new file no longer lists becomes obsolete.
        rapport_epci.obsoletes = (
            Intercommunalite.objects.filter(obsolete=False).exclude(siren__in=epcis).count()
        )
        if rapport_epci.obsoletes:
            Intercommunalite.objects.filter(obsolete=False).exclude(siren__in=epcis).update(
                obsolete=True
            )
        anciennes = Commune.objects.filter(obsolete=False).exclude(code_insee__in=communes)
        rapport_com.obsoletes = anciennes.count()
        if rapport_com.obsoletes:
            anciennes.update(obsolete=True)
    return [rapport_epci, rapport_com]


def importer_phases_axes(chemin: Path = FICHIER_PROGRAMME) -> Rapport:
    rapport = Rapport("Phases et axes")
    programme = json.loads(chemin.read_text(encoding="utf-8"))
    with transaction.atomic():
        for donnees in programme["phases"]:
            rapport.lus += 1
            phase, cree = Phase.objects.update_or_create(
                code=donnees["code"],
                defaults={
                    "nom": donnees["nom"],
                    "date_debut": donnees["date_debut"],
                    "date_fin": donnees["date_fin"],
                },
            )
            rapport.nouveaux += cree
            for ordre, axe in enumerate(donnees["axes"], start=1):
                Axe.objects.update_or_create(
                    phase=phase, code=axe["code"], defaults={"nom": axe["nom"], "ordre": ordre}
                )
    return rapport


def _dates_programme() -> dict:
    return json.loads(FICHIER_PROGRAMME.read_text(encoding="utf-8"))["labellisations"]


def _labelliser(territoire: Territoire, phase: Phase, dates: dict, **defaults) -> Labellisation:
    label, _ = Labellisation.objects.get_or_create(
        territoire=territoire, phase=phase, defaults={"date": dates[phase.code], **defaults}
    )
    return label


def _territoire_par_cle(nom: str, id_anct: str | None, region_code: str, rapport: Rapport):
    territoire = Territoire.objects.filter(id_anct=id_anct).first() if id_anct else None
    if territoire is None:
        territoire = Territoire.objects.filter(slug=slugify(nom)[:200]).first()
    if territoire is None:
        rapport.nouveaux += 1
        return Territoire.objects.create(
            nom=nom, id_anct=id_anct or None, region_pilote_id=region_code
        )
    changements = {}
    if id_anct and territoire.id_anct != id_anct:
        changements["id_anct"] = id_anct
    if changements:
        rapport.mis_a_jour += 1
        for champ, valeur in changements.items():
            setattr(territoire, champ, valeur)
        territoire.save()
    return territoire


# ---------------------------------------------------------------------------
# ANCT official list, versioned: compare with what is stored, print, then apply.

REGEX_ID_TI = re.compile(r"^ti-[0-9]{4}$")


@dataclass
class Difference:
    """What an ANCT list changes for a phase, by territory (`id_ti`)."""

    territoires_ajoutes: dict[str, str] = field(default_factory=dict)  # id → nom
    territoires_retires: dict[str, str] = field(default_factory=dict)
    territoires_renommes: dict[str, tuple[str, str]] = field(default_factory=dict)
    communes_ajoutees: dict[str, set[str]] = field(default_factory=dict)
    communes_retirees: dict[str, set[str]] = field(default_factory=dict)
    epci_ajoutes: dict[str, set[str]] = field(default_factory=dict)
    epci_retires: dict[str, set[str]] = field(default_factory=dict)
    epci_partiels: dict[str, dict[str, bool]] = field(default_factory=dict)  # siren → partiel

    @property
    def vide(self) -> bool:
        return not any(
            (
                self.territoires_ajoutes,
                self.territoires_retires,
                self.territoires_renommes,
                self.communes_ajoutees,
                self.communes_retirees,
                self.epci_ajoutes,
                self.epci_retires,
                self.epci_partiels,
            )
        )

    def texte(self, noms_epci: dict[str, str] | None = None) -> str:
        noms_epci = noms_epci or {}

        def epci(sirens):
            return ", ".join(f"{noms_epci.get(s, s)} ({s})" for s in sorted(sirens))

        if self.vide:
            return "Aucune différence avec les données enregistrées."
        lignes = [
            f"Territoires ajoutés : {len(self.territoires_ajoutes)} ; "
            f"retirés : {len(self.territoires_retires)} ; "
            f"renommés : {len(self.territoires_renommes)} ; "
            f"communes ajoutées : {sum(map(len, self.communes_ajoutees.values()))} ; "
            f"communes retirées : {sum(map(len, self.communes_retirees.values()))} ; "
            f"EPCI ajoutés : {sum(map(len, self.epci_ajoutes.values()))} ; "
            f"EPCI retirés : {sum(map(len, self.epci_retires.values()))}"
        ]
        for id_ti, nom in sorted(self.territoires_ajoutes.items()):
            lignes.append(f"+ territoire {id_ti} « {nom} »")
        for id_ti, nom in sorted(self.territoires_retires.items()):
            lignes.append(f"- territoire {id_ti} « {nom} » (sortie enregistrée, rien supprimé)")
        for id_ti, (avant, apres) in sorted(self.territoires_renommes.items()):
            lignes.append(f"~ territoire {id_ti} renommé : « {avant} » → « {apres} »")
        for id_ti in sorted(
            set(self.communes_ajoutees)
            | set(self.communes_retirees)
            | set(self.epci_ajoutes)
            | set(self.epci_retires)
            | set(self.epci_partiels)
        ):
            if self.communes_ajoutees.get(id_ti):
                codes = sorted(self.communes_ajoutees[id_ti])
                lignes.append(
                    f"  {id_ti} : + {len(codes)} commune(s) : {', '.join(codes[:10])}"
                    + (" …" if len(codes) > 10 else "")
                )
            if self.communes_retirees.get(id_ti):
                codes = sorted(self.communes_retirees[id_ti])
                lignes.append(
                    f"  {id_ti} : - {len(codes)} commune(s) : {', '.join(codes[:10])}"
                    + (" …" if len(codes) > 10 else "")
                )
            if self.epci_ajoutes.get(id_ti):
                lignes.append(f"  {id_ti} : + EPCI {epci(self.epci_ajoutes[id_ti])}")
            if self.epci_retires.get(id_ti):
                lignes.append(f"  {id_ti} : - EPCI {epci(self.epci_retires[id_ti])}")
            for siren, partiel in sorted(self.epci_partiels.get(id_ti, {}).items()):
                etat = "en partie seulement" if partiel else "en entier"
                lignes.append(f"  {id_ti} : EPCI {epci([siren])} désormais {etat}")
        return "\n".join(lignes)


@dataclass
class ListeAnct:
    """An ANCT file read and checked against the reference (communes, régions)."""

    noms: dict[str, str] = field(default_factory=dict)
    communes: dict[str, set[str]] = field(default_factory=dict)
    epci: dict[str, dict[str, bool]] = field(default_factory=dict)  # id → siren → partiel


def lire_liste_anct(chemin: Path, rapport: Rapport) -> ListeAnct:
    """Read `insee_com;lib_com;id_ti;lib_ti`; refused lines are reported with their number."""
    liste = ListeAnct()
    communes = {
        code: (epci, obsolete)
        for code, epci, obsolete in Commune.objects.values_list("code_insee", "epci_id", "obsolete")
    }
    regions = set(Region.objects.values_list("code", flat=True))
    for numero, ligne in enumerate(_lire_csv(chemin, delimiter=";"), start=2):
        rapport.lus += 1
        id_ti = (ligne.get("id_ti") or "").strip()
        insee = (ligne.get("insee_com") or "").strip()
        nom = (ligne.get("lib_ti") or "").strip()
        if not id_ti or not insee:
            rapport.rejets.append(f"ligne {numero} : identifiant ou commune manquant")
            continue
        if not REGEX_ID_TI.match(id_ti):
            rapport.rejets.append(
                f"ligne {numero} : identifiant « {id_ti} » invalide (attendu ti-RRNN)"
            )
            continue
        if id_ti[3:5] not in regions:
            rapport.rejets.append(f"ligne {numero} : région « {id_ti[3:5]} » inconnue")
            continue
        if insee not in communes:
            rapport.rejets.append(
                f"ligne {numero} : commune « {insee} » inconnue du référentiel (code inexistant)"
            )
            continue
        if communes[insee][1]:
            rapport.rejets.append(
                f"ligne {numero} : la commune « {insee} » n'existe plus (code obsolète "
                "dans le référentiel BANATIC)"
            )
            continue
        if nom and liste.noms.get(id_ti, nom) != nom:
            rapport.rejets.append(
                f"ligne {numero} : {id_ti} porte deux noms (« {liste.noms[id_ti]} » et « {nom} »)"
            )
            continue
        liste.noms.setdefault(id_ti, nom or id_ti)
        liste.communes.setdefault(id_ti, set()).add(insee)
    # EPCI composition derived from the communes; partial when some communes are missing.
    membres: dict[str, int] = {}
    for epci, _obsolete in communes.values():
        if epci and not _obsolete:
            membres[epci] = membres.get(epci, 0) + 1
    for id_ti, codes in liste.communes.items():
        par_epci: dict[str, int] = {}
        for code in codes:
            epci = communes[code][0]
            if epci:
                par_epci[epci] = par_epci.get(epci, 0) + 1
        liste.epci[id_ti] = {siren: n < membres[siren] for siren, n in par_epci.items()}
    return liste


def comparer_liste_anct(liste: ListeAnct, phase: Phase) -> Difference:
    """The difference between `liste` and what is stored (in force) for `phase`."""
    diff = Difference()
    labels = dict(
        Labellisation.objects.filter(
            phase=phase, date_sortie__isnull=True, territoire__id_anct__isnull=False
        ).values_list("territoire__id_anct", "territoire__nom")
    )
    communes: dict[str, set[str]] = {}
    for id_ti, code in CommuneTerritoire.objects.filter(
        phase=phase, date_sortie__isnull=True, territoire__id_anct__isnull=False
    ).values_list("territoire__id_anct", "commune_id"):
        communes.setdefault(id_ti, set()).add(code)
    epci: dict[str, dict[str, bool]] = {}
    for id_ti, siren, partielle in CompositionTerritoire.objects.filter(
        phase=phase, date_sortie__isnull=True, territoire__id_anct__isnull=False
    ).values_list("territoire__id_anct", "epci_id", "partielle"):
        epci.setdefault(id_ti, {})[siren] = partielle
    noms_actuels = dict(
        Territoire.objects.filter(id_anct__in=liste.noms).values_list("id_anct", "nom")
    )
    for id_ti, nom in liste.noms.items():
        if id_ti not in labels:
            diff.territoires_ajoutes[id_ti] = nom
        ancien = noms_actuels.get(id_ti)
        if ancien is not None and ancien != nom:
            diff.territoires_renommes[id_ti] = (ancien, nom)
    for id_ti, nom in labels.items():
        if id_ti not in liste.noms:
            diff.territoires_retires[id_ti] = nom
    for id_ti in set(liste.noms) | set(labels):
        avant, apres = communes.get(id_ti, set()), liste.communes.get(id_ti, set())
        if apres - avant:
            diff.communes_ajoutees[id_ti] = apres - avant
        if avant - apres:
            diff.communes_retirees[id_ti] = avant - apres
        epci_avant, epci_apres = epci.get(id_ti, {}), liste.epci.get(id_ti, {})
        if set(epci_apres) - set(epci_avant):
            diff.epci_ajoutes[id_ti] = set(epci_apres) - set(epci_avant)
        if set(epci_avant) - set(epci_apres):
            diff.epci_retires[id_ti] = set(epci_avant) - set(epci_apres)
        changes = {s: p for s, p in epci_apres.items() if s in epci_avant and epci_avant[s] != p}
        if changes:
            diff.epci_partiels[id_ti] = changes
    return diff


def _entrer(modele, journal, jour, **cle):
    """Open a membership row (create it, or reopen one closed by an earlier import)."""
    ligne = modele.objects.filter(**cle).first()
    if ligne is None:
        return modele.objects.create(**cle, date_entree=jour, import_entree=journal)
    ligne.date_sortie, ligne.import_sortie = None, None
    ligne.date_entree, ligne.import_entree = jour, journal
    ligne.save()
    return ligne


def importer_territoires_anct(
    chemin: Path,
    phase_code: str = "2023-2027",
    *,
    simulation: bool = False,
    date_fichier: date | None = None,
    extrait: bool = False,
) -> Rapport:
    """ANCT's official list: `insee_com;lib_com;id_ti;lib_ti`, one row per commune.

    Compares the file with what is stored for the phase and (unless `simulation`)
    applies the difference: entries and exits are dated and linked to the import's
    journal (file name and date); nothing is deleted. Communes are kept per territory;
    the EPCI composition is derived from them (an EPCI only partly included is marked
    so). With `extrait`, the file is known to be incomplete: compositions stay
    « partielle ».
    """
    rapport = Rapport("Territoires (liste ANCT)")
    phase = Phase.objects.get(code=phase_code)
    chemin = Path(chemin)
    if date_fichier is None:
        date_fichier = date.fromtimestamp(chemin.stat().st_mtime)
    liste = lire_liste_anct(chemin, rapport)
    diff = comparer_liste_anct(liste, phase)
    noms_epci = dict(
        Intercommunalite.objects.filter(
            siren__in={
                s
                for d in (diff.epci_ajoutes, diff.epci_retires, diff.epci_partiels)
                for v in d.values()
                for s in v
            }
        ).values_list("siren", "nom")
    )
    rapport.difference = diff
    rapport.texte_difference = diff.texte(noms_epci)
    etat = (
        Labellisation.EtatComposition.PARTIELLE
        if extrait
        else Labellisation.EtatComposition.COMPLETE
    )
    if simulation:
        return rapport
    dates = _dates_programme()
    premiere = not ImportTerritoires.objects.filter(phase=phase).exists()
    # The phase's first list dates its members from the programme's labelling date.
    jour = date.fromisoformat(dates[phase.code]) if premiere else date_fichier
    with transaction.atomic():
        journal = None
        if not diff.vide:
            journal = ImportTerritoires.objects.create(
                fichier=chemin.name,
                date_fichier=date_fichier,
                phase=phase,
                resume=rapport.texte_difference,
            )
        territoires = {}
        for id_ti, nom in liste.noms.items():
            territoire = _territoire_par_cle(nom, id_ti, id_ti[3:5], rapport)
            if territoire.nom != nom:
                territoire.nom = nom  # the slug stays: URLs are stable
                territoire.save()
                rapport.mis_a_jour += 1
            territoires[id_ti] = territoire
            label = _labelliser(
                territoire, phase, {phase.code: jour}, composition=etat, source=chemin.name
            )
            if label.date_sortie is not None or label.composition != etat:
                label.date_sortie, label.import_sortie, label.composition = None, None, etat
                label.save()
        for id_ti in diff.territoires_retires:
            territoires[id_ti] = Territoire.objects.get(id_anct=id_ti)
            Labellisation.objects.filter(territoire=territoires[id_ti], phase=phase).update(
                date_sortie=Greatest(F("date"), Value(date_fichier)), import_sortie=journal
            )
        # An exit is never dated before the entry (file older than the stored rows).
        sortie = {
            "date_sortie": Greatest(
                Coalesce(F("date_entree"), Value(date_fichier)), Value(date_fichier)
            ),
            "import_sortie": journal,
        }
        for id_ti, codes in diff.communes_ajoutees.items():
            for code in codes:
                _entrer(
                    CommuneTerritoire,
                    journal,
                    jour,
                    territoire=territoires[id_ti],
                    phase=phase,
                    commune_id=code,
                )
        for id_ti, codes in diff.communes_retirees.items():
            CommuneTerritoire.objects.filter(
                territoire=territoires[id_ti], phase=phase, commune_id__in=codes
            ).update(**sortie)
        for id_ti, sirens in diff.epci_ajoutes.items():
            for siren in sirens:
                ligne = _entrer(
                    CompositionTerritoire,
                    journal,
                    jour,
                    territoire=territoires[id_ti],
                    phase=phase,
                    epci_id=siren,
                )
                if ligne.partielle != liste.epci[id_ti][siren]:
                    ligne.partielle = liste.epci[id_ti][siren]
                    ligne.save(update_fields=["partielle"])
        for id_ti, sirens in diff.epci_retires.items():
            CompositionTerritoire.objects.filter(
                territoire=territoires[id_ti], phase=phase, epci_id__in=sirens
            ).update(**sortie)
        for id_ti, changes in diff.epci_partiels.items():
            for siren, partiel in changes.items():
                CompositionTerritoire.objects.filter(
                    territoire=territoires[id_ti], phase=phase, epci_id=siren
                ).update(partielle=partiel)
    rapport.journal = journal
    return rapport


def importer_territoires_connus(chemin: Path) -> Rapport:
    """The project's list of known territories (`territoires-connus.csv`).

    Each labelled phase gets the départements declared by the programme (the extent
    used when the composition is unknown or partial), the state of the known
    composition and, with the `successeur` column, the link to the territory that
    follows it in the next phase.
    """
    rapport = Rapport("Territoires connus")
    phases = {p.code: p for p in Phase.objects.all()}
    dates = _dates_programme()
    epcis = set(Intercommunalite.objects.values_list("siren", flat=True))
    departements = set(Departement.objects.values_list("code", flat=True))
    successeurs = []
    with transaction.atomic():
        for numero, ligne in enumerate(_lire_csv(chemin, delimiter=";"), start=2):
            rapport.lus += 1
            nom = (ligne.get("nom") or "").strip()
            if not nom:
                rapport.rejets.append(f"ligne {numero} : nom manquant")
                continue
            codes_phases = [c.strip() for c in ligne["phases"].split(",") if c.strip()]
            inconnues = [c for c in codes_phases if c not in phases]
            if inconnues:
                rapport.rejets.append(f"ligne {numero} : phase inconnue {inconnues}")
                continue
            declares = [
                c.strip() for c in (ligne.get("departements") or "").split(",") if c.strip()
            ]
            hors = [c for c in declares if c not in departements]
            if hors:
                rapport.rejets.append(f"ligne {numero} : département inconnu {hors}")
                continue
            etat = (ligne.get("composition") or "").strip() or "inconnue"
            if etat not in Labellisation.EtatComposition.values:
                rapport.rejets.append(f"ligne {numero} : composition « {etat} » inconnue")
                continue
            territoire = _territoire_par_cle(
                nom, (ligne.get("id_anct") or "").strip() or None, ligne["region_pilote"], rapport
            )
            if ligne.get("rebond_industriel") == "oui" and not territoire.laureat_rebond_industriel:
                territoire.laureat_rebond_industriel = True
                territoire.save()
            sirens = [s.strip() for s in (ligne.get("epci_siren") or "").split(",") if s.strip()]
            for code in codes_phases:
                label = _labelliser(
                    territoire,
                    phases[code],
                    dates,
                    composition=etat,
                    source=(ligne.get("source") or "").strip()[:255],
                )
                label.departements.add(*declares)
                # A commune-level official list (ANCT import) knows better.
                if (
                    label.composition != etat
                    and not territoire.communes_membres.filter(phase=phases[code]).exists()
                ):
                    label.composition = etat
                    label.save(update_fields=["composition"])
                for siren in sirens:
                    if siren not in epcis:
                        rapport.rejets.append(f"ligne {numero} : EPCI « {siren} » inconnu")
                        continue
                    # An EPCI closed by a later official list stays closed.
                    CompositionTerritoire.objects.get_or_create(
                        territoire=territoire, phase=phases[code], epci_id=siren
                    )
            successeur = (ligne.get("successeur") or "").strip()
            if successeur:
                successeurs.append((numero, territoire, codes_phases, successeur))
        for numero, territoire, codes_phases, nom_successeur in successeurs:
            suivant = Territoire.objects.filter(slug=slugify(nom_successeur)[:200]).first()
            label = territoire.labellisations.filter(phase__code__in=codes_phases).last()
            suite = (
                suivant.labellisations.filter(phase__date_debut__gt=label.phase.date_debut).first()
                if suivant
                else None
            )
            if suite is None:
                rapport.rejets.append(
                    f"ligne {numero} : successeur « {nom_successeur} » inconnu ou sans "
                    "labellisation à une phase ultérieure"
                )
                continue
            if label.successeur_id != suite.pk:
                label.successeur = suite
                label.save(update_fields=["successeur"])
    return rapport


def detecter_format(chemin: Path) -> str:
    with open(chemin, encoding="utf-8-sig") as fichier:
        entete = fichier.readline().strip().lower()
    if entete.startswith("insee_com;"):
        return "anct"
    if entete.startswith("nom;id_anct;"):
        return "connus"
    raise ValueError(
        "Format non reconnu : en-tête attendu « insee_com;lib_com;id_ti;lib_ti » (liste ANCT) "
        "ou « nom;id_anct;phases;… » (territoires connus)."
    )
