"""Idempotent loaders of the territorial reference data (keyed on official codes)."""

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from tqdm import tqdm

from .models import (
    Axe,
    Commune,
    CompositionTerritoire,
    Departement,
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

    def __str__(self):
        texte = (
            f"{self.nom} : {self.lus} lus, {self.nouveaux} nouveaux, "
            f"{self.mis_a_jour} mis à jour, {self.obsoletes} marqués obsolètes, "
            f"{len(self.rejets)} lignes rejetées"
        )
        return texte + "".join(f"\n  - {rejet}" for rejet in self.rejets[:20])


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


def _labelliser(territoire: Territoire, phase: Phase, dates: dict) -> None:
    Labellisation.objects.get_or_create(
        territoire=territoire, phase=phase, defaults={"date": dates[phase.code]}
    )


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


def importer_territoires_anct(chemin: Path, phase_code: str = "2023-2027") -> Rapport:
    """ANCT's official list: `insee_com;lib_com;id_ti;lib_ti`, one row per commune.

    Each territory's EPCI composition for the phase is derived from its communes.
    """
    rapport = Rapport("Territoires (liste ANCT)")
    phase = Phase.objects.get(code=phase_code)
    dates = json.loads(FICHIER_PROGRAMME.read_text(encoding="utf-8"))["labellisations"]
    territoires: dict[str, dict] = {}
    codes = []
    lignes = list(_lire_csv(chemin, delimiter=";"))
    for numero, ligne in enumerate(lignes, start=2):
        rapport.lus += 1
        id_ti = (ligne.get("id_ti") or "").strip()
        insee = (ligne.get("insee_com") or "").strip()
        if not id_ti or not insee:
            rapport.rejets.append(f"ligne {numero} : identifiant ou commune manquant")
            continue
        territoires.setdefault(id_ti, {"nom": ligne["lib_ti"].strip(), "communes": []})
        territoires[id_ti]["communes"].append((numero, insee))
        codes.append(insee)
    epci_par_commune = dict(
        Commune.objects.filter(code_insee__in=codes).values_list("code_insee", "epci_id")
    )
    regions = set(Region.objects.values_list("code", flat=True))
    with transaction.atomic():
        for id_ti, donnees in territoires.items():
            region = id_ti[3:5]
            if region not in regions:
                rapport.rejets.append(f"{id_ti} : région « {region} » inconnue")
                continue
            territoire = _territoire_par_cle(donnees["nom"], id_ti, region, rapport)
            _labelliser(territoire, phase, dates)
            for numero, insee in donnees["communes"]:
                epci = epci_par_commune.get(insee)
                if epci is None:
                    rapport.rejets.append(f"ligne {numero} : commune « {insee} » inconnue")
                    continue
                CompositionTerritoire.objects.get_or_create(
                    territoire=territoire, phase=phase, epci_id=epci
                )
    return rapport


def importer_territoires_connus(chemin: Path) -> Rapport:
    """The project's list of known territories (`territoires-connus.csv`)."""
    rapport = Rapport("Territoires connus")
    phases = {p.code: p for p in Phase.objects.all()}
    dates = json.loads(FICHIER_PROGRAMME.read_text(encoding="utf-8"))["labellisations"]
    epcis = set(Intercommunalite.objects.values_list("siren", flat=True))
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
            territoire = _territoire_par_cle(
                nom, (ligne.get("id_anct") or "").strip() or None, ligne["region_pilote"], rapport
            )
            if ligne.get("rebond_industriel") == "oui" and not territoire.laureat_rebond_industriel:
                territoire.laureat_rebond_industriel = True
                territoire.save()
            sirens = [s.strip() for s in (ligne.get("epci_siren") or "").split(",") if s.strip()]
            for code in codes_phases:
                _labelliser(territoire, phases[code], dates)
                for siren in sirens:
                    if siren not in epcis:
                        rapport.rejets.append(f"ligne {numero} : EPCI « {siren} » inconnu")
                        continue
                    CompositionTerritoire.objects.get_or_create(
                        territoire=territoire, phase=phases[code], epci_id=siren
                    )
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
