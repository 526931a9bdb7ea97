"""A realistic synthetic dataset at programme scale, written in bulk.

On top of the real reference data (EPCI, communes): 183 territories over real
EPCI, binômes, dossiers across statuses and axes with their transitions and
history, envelopes, aides and payments. Deterministic for a seed (except
timestamps). All invariants of the services hold in the generated data.
"""

import random
import time
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from financements.models import (
    PLAFOND_DE_MINIMIS,
    Aide,
    Dispositif,
    Enveloppe,
    Operateur,
    RegimeAide,
    Versement,
)
from projets.models import DEBUT_FRR, CompteurReference, Projet, Statut, TransitionProjet
from territoires.models import (
    Binome,
    Commune,
    CompositionTerritoire,
    Departement,
    Intercommunalite,
    Labellisation,
    Phase,
    Territoire,
)
from territoires.validators import siret_fictif

NB_TERRITOIRES = 183
LOT = 2000


def _lots(valeurs: list, taille: int = 20000):
    for debut in range(0, len(valeurs), taille):
        yield valeurs[debut : debut + taille]


# Share of dossiers per status (sums to 100).
REPARTITION = {
    Statut.BROUILLON: 8,
    Statut.DEPOSE: 7,
    Statut.EN_INSTRUCTION: 10,
    Statut.A_COMPLETER: 5,
    Statut.RETENU: 25,
    Statut.REFUSE: 7,
    Statut.SANS_SUITE: 3,
    Statut.EN_COURS: 20,
    Statut.REALISE: 12,
    Statut.ABANDONNE: 3,
}
CHEMINS = {
    Statut.BROUILLON: [],
    Statut.DEPOSE: [Statut.DEPOSE],
    Statut.EN_INSTRUCTION: [Statut.DEPOSE, Statut.EN_INSTRUCTION],
    Statut.A_COMPLETER: [Statut.DEPOSE, Statut.EN_INSTRUCTION, Statut.A_COMPLETER],
    Statut.RETENU: [Statut.DEPOSE, Statut.EN_INSTRUCTION, Statut.RETENU],
    Statut.REFUSE: [Statut.DEPOSE, Statut.EN_INSTRUCTION, Statut.REFUSE],
    Statut.SANS_SUITE: [Statut.DEPOSE, Statut.EN_INSTRUCTION, Statut.SANS_SUITE],
    Statut.EN_COURS: [Statut.DEPOSE, Statut.EN_INSTRUCTION, Statut.RETENU, Statut.EN_COURS],
    Statut.REALISE: [
        Statut.DEPOSE,
        Statut.EN_INSTRUCTION,
        Statut.RETENU,
        Statut.EN_COURS,
        Statut.REALISE,
    ],
    Statut.ABANDONNE: [Statut.DEPOSE, Statut.ABANDONNE],
}
FINANCABLES = {Statut.RETENU, Statut.EN_COURS, Statut.REALISE}
PLAFOND_REBOND = Decimal("2000000.00")  # per laureate territory (fixtures/programme.json)
NATURES = [c for c, _ in Projet.Nature.choices]
ACTIVITES = [
    "Ateliers",
    "Forges",
    "Plasturgie",
    "Textiles",
    "Mécanique",
    "Composites",
    "Chimie",
    "Emballages",
    "Robotique",
    "Fonderie",
    "Usinage",
    "Menuiserie",
]
OBJETS = [
    "Extension de site",
    "Nouvelle ligne de production",
    "Modernisation de l'outil",
    "Décarbonation des procédés",
    "Centre de formation",
    "Réhabilitation de friche",
    "Robotisation",
    "Récupération de chaleur",
    "Relocalisation de production",
]


def _territoires(rng, phase):
    """Complete the existing territories up to 183 with synthetic ones over free EPCI."""
    existants = Territoire.objects.count()
    a_creer = max(0, NB_TERRITOIRES - existants)
    pris = set(CompositionTerritoire.objects.values_list("epci_id", flat=True))
    libres = defaultdict(list)
    for siren, dep in (
        Intercommunalite.objects.filter(obsolete=False)
        .exclude(siren__in=pris)
        .order_by("siren")
        .values_list("siren", "departement_id")
    ):
        libres[dep].append(siren)
    departements = {d.code: d for d in Departement.objects.all()}
    codes = sorted(c for c, epcis in libres.items() if len(epcis) >= 2)
    nouveaux, compositions = [], []
    for n in range(a_creer):
        dep = codes[n % len(codes)]
        epcis = libres[dep]
        k = min(len(epcis), rng.randint(2, 5))
        choisis, libres[dep] = epcis[:k], epcis[k:]
        if len(libres[dep]) < 2:
            codes = [c for c in codes if c != dep] or codes
        territoire = Territoire(
            nom=f"Territoire synthétique {n + 1:03d} — {departements[dep].nom}",
            slug=f"synthetique-{n + 1:03d}",
            region_pilote_id=departements[dep].region_id,
        )
        nouveaux.append((territoire, choisis))
    Territoire.objects.bulk_create([t for t, _ in nouveaux], batch_size=LOT)
    crees = {t.slug: t for t in Territoire.objects.filter(slug__startswith="synthetique-")}
    for territoire, choisis in nouveaux:
        t = crees[territoire.slug]
        compositions += [
            CompositionTerritoire(territoire=t, phase=phase, epci_id=s) for s in choisis
        ]
    CompositionTerritoire.objects.bulk_create(compositions, batch_size=LOT, ignore_conflicts=True)
    Labellisation.objects.bulk_create(
        [
            Labellisation(territoire=crees[t.slug], phase=phase, date=date(2023, 11, 9))
            for t, _ in nouveaux
        ],
        batch_size=LOT,
        ignore_conflicts=True,
    )
    sans_binome = Territoire.objects.exclude(binomes__date_fin__isnull=True)
    Binome.objects.bulk_create(
        [
            Binome(
                territoire=t,
                elu_nom=f"Élu·e {t.pk}",
                elu_mandat="président·e d'EPCI",
                industriel_nom=f"Industriel·le {t.pk}",
                industriel_entreprise=f"{rng.choice(ACTIVITES)} {t.nom[:40]}",
                industriel_siret=siret_fictif(rng),
                date_debut=date(2024, 1, 15),
            )
            for t in sans_binome.order_by("pk")
        ],
        batch_size=LOT,
    )
    return len(nouveaux)


def _references(projets_par_cle):
    """Take numbers from the reference counters in bulk (never reused)."""
    for (region, annee), projets in sorted(projets_par_cle.items()):
        compteur, _ = CompteurReference.objects.get_or_create(region_id=region, annee=annee)
        CompteurReference.objects.filter(pk=compteur.pk).update(dernier=F("dernier") + len(projets))
        compteur.refresh_from_db()
        premier = compteur.dernier - len(projets) + 1
        for i, projet in enumerate(projets):
            projet.reference = f"TI-{region}-{annee}-{premier + i:05d}"


@transaction.atomic
def generer(*, projets: int, seed: int) -> dict:
    rng = random.Random(seed)
    debut = time.perf_counter()
    phase = Phase.objects.get(code="2023-2027")
    axes = list(phase.axes.values_list("pk", flat=True))
    User = get_user_model()
    auteur, _ = User.objects.get_or_create(
        username="generateur", defaults={"first_name": "Jeu de données", "is_active": False}
    )
    nb_territoires = _territoires(rng, phase)

    communes_par_territoire = defaultdict(list)
    for territoire_id, code, region in (
        Commune.objects.filter(epci__compositions__phase=phase)
        .values_list("epci__compositions__territoire_id", "code_insee", "departement__region_id")
        .order_by("code_insee")
    ):
        communes_par_territoire[territoire_id].append((code, region))
    territoires = sorted(communes_par_territoire)
    statuts = [s for s, part in REPARTITION.items() for _ in range(part)]

    objets, par_cle = [], defaultdict(list)
    maintenant = timezone.now()
    for i in range(projets):
        territoire = territoires[i % len(territoires)]
        commune, region = rng.choice(communes_par_territoire[territoire])
        investissement = Decimal(rng.randrange(100, 20000) * 1000)
        statut = rng.choice(statuts)
        annee = rng.randint(2023, 2026)
        projet = Projet(
            titre=f"{rng.choice(OBJETS)} — {rng.choice(ACTIVITES)} {i + 1}",
            description="Projet industriel synthétique (jeu de données de performance).",
            territoire_id=territoire,
            phase=phase,
            nature=rng.choice(NATURES),
            porteur_raison_sociale=f"{rng.choice(ACTIVITES)} {commune} {i + 1}",
            porteur_siret=siret_fictif(rng),
            porteur_taille=rng.choice(["PME", "PME", "ETI", "GE"]),
            contact_nom=f"Contact {i + 1}",
            contact_email=f"contact{i + 1}@entreprise.example",
            commune_id=commune,
            montant_investissement=investissement,
            aide_demandee=investissement * Decimal(rng.choice([10, 15, 20, 30])) / 100,
            emplois_crees=rng.randrange(0, 120),
            emplois_maintenus=rng.randrange(0, 400),
            co2_evite=Decimal(rng.randrange(0, 8000)),
            zone_qpv=rng.random() < 0.15,
            # Rural zone: ZRR until 30 June 2024, FRR afterwards (same draws as before).
            zone_zrr=(rural := rng.random() < 0.3) and date(annee, 1, 1) < DEBUT_FRR,
            zone_frr=rural and date(annee, 1, 1) >= DEBUT_FRR,
            date_zonage=date(annee, 1, 1),
            zone_afr=rng.random() < 0.4,
            zone_acv=rng.random() < 0.2,
            date_debut_prevue=date(annee, 1, 1) + timedelta(days=rng.randrange(0, 360)),
            statut=statut,
            deposant=auteur,
            # Submitted dossiers carry the lead's certification on honour.
            atteste_le=None if statut == Statut.BROUILLON else maintenant,
            atteste_par=None if statut == Statut.BROUILLON else auteur,
        )
        objets.append(projet)
        par_cle[(region, annee)].append(projet)
    _references(par_cle)
    crees = bulk_create_with_history(
        objets,
        Projet,
        batch_size=LOT,
        default_user=auteur,
        default_change_reason="Jeu de données synthétique",
    )
    # IN lists by lots: PostgreSQL takes at most 65,535 bound parameters per query.
    crees = [
        ligne
        for lot in _lots([p.reference for p in objets])
        for ligne in Projet.objects.filter(reference__in=lot).values_list(
            "pk",
            "statut",
            "montant_investissement",
            "aide_demandee",
            "commune__departement__region_id",
            "territoire_id",
            "porteur_siret",
        )
    ]

    liens = Projet.axes.through
    liens.objects.bulk_create(
        [
            liens(projet_id=pk, axe_id=a)
            for pk, *_ in crees
            for a in rng.sample(axes, rng.randint(1, 2))
        ],
        batch_size=LOT,
    )
    TransitionProjet.objects.bulk_create(
        [
            TransitionProjet(
                projet_id=pk, statut_avant=avant, statut_apres=apres, auteur=auteur, commentaire=""
            )
            for pk, statut, *_ in crees
            for avant, apres in zip(
                [Statut.BROUILLON, *CHEMINS[statut]], CHEMINS[statut], strict=False
            )
        ],
        batch_size=LOT,
    )

    # Money: synthetic dispositifs sized to their envelopes, aides that respect every rule
    # of docs/regles-financieres.md: the synthetic Rebond industriel goes only to laureate
    # territories, on territorial envelopes, within 2 M€ per territory and 300,000 € de
    # minimis per undertaking (SIREN); the others are regional, without state-aid cumul.
    operateur, _ = Operateur.objects.get_or_create(
        nom="Direction générale des entreprises", defaults={"sigle": "DGE", "type": "etat"}
    )
    dispositifs = []
    for nom, natures, regles in (
        (
            "Rebond industriel (synthétique)",
            ["subvention"],
            {
                "laureats_seulement": True,
                "plafond_par_territoire": PLAFOND_REBOND,
                "enveloppes_territoriales": True,
                "regime_aide": RegimeAide.DE_MINIMIS,
            },
        ),
        ("Fonds industriel (synthétique)", ["subvention", "avance_remboursable"], {}),
        ("Ingénierie (synthétique)", ["ingenierie"], {}),
    ):
        d, _ = Dispositif.objects.get_or_create(
            code=f"synthetique-{len(dispositifs) + 1}",
            defaults={
                "nom": nom,
                "operateur": operateur,
                "phase": phase,
                "natures": natures,
                "montant_national": Decimal("0.00"),
                "date_debut": date(2023, 11, 9),
                **regles,
            },
        )
        dispositifs.append(d)
    rebond, autres = dispositifs[0], dispositifs[1:]
    laureats = set(
        Territoire.objects.filter(laureat_rebond_industriel=True).values_list("pk", flat=True)
    )
    region_pilote = dict(Territoire.objects.values_list("pk", "region_pilote_id"))
    aides, engages = [], defaultdict(Decimal)
    rebond_par_territoire, de_minimis = defaultdict(Decimal), defaultdict(Decimal)
    for pk, statut, investissement, demandee, region, territoire, siret in crees:
        if statut not in FINANCABLES:
            continue
        reste = investissement
        for _ in range(rng.choice([2, 3, 4, 5])):
            dispositif = rng.choice(dispositifs)
            montant = min(reste, (demandee / 3).quantize(Decimal("0.01")))
            if dispositif is rebond:
                montant = min(
                    montant,
                    PLAFOND_REBOND - rebond_par_territoire[territoire],
                    PLAFOND_DE_MINIMIS - de_minimis[siret[:9]],
                )
                if territoire not in laureats or montant <= 0:
                    dispositif = rng.choice(autres)
                    montant = min(reste, (demandee / 3).quantize(Decimal("0.01")))
            if montant <= 0:
                break
            reste -= montant
            annee = rng.randint(2024, 2026)
            statut_aide = rng.choice(
                ["proposee", "engagee", "conventionnee", "conventionnee", "soldee", "annulee"]
            )
            aide = Aide(
                projet_id=pk,
                montant=montant,
                nature=dispositif.natures[0],
                statut=statut_aide,
                attribuant=operateur,
                reference_decision=f"DEC-{pk}-{len(aides)}",
            )
            if dispositif is rebond:
                aide._cle = (dispositif.pk, region_pilote[territoire], territoire, annee)
                if statut_aide != "annulee":
                    rebond_par_territoire[territoire] += montant
                    de_minimis[siret[:9]] += montant
            else:
                aide._cle = (dispositif.pk, region, None, annee)
            if statut_aide in ("conventionnee", "soldee"):
                aide.date_convention = date(annee, 6, 1)
                # The convention's schedule (SCDL): one payment, or staggered over a year.
                aide.versement_debut = date(annee, 9, 1)
                if montant > Decimal("100000"):
                    aide.versement_modalite = "echelonne"
                    aide.versement_fin = date(annee + 1, 9, 1)
                else:
                    aide.versement_modalite = "unique"
            if statut_aide in Aide.STATUTS_ENGAGES:
                engages[aide._cle] += montant
            aides.append(aide)
    cles = {a._cle for a in aides}
    # A territory's Rebond envelopes share what its aids leave of the 2 M€ ceiling.
    annees_par_territoire = defaultdict(int)
    for _, _, t, _ in cles:
        if t is not None:
            annees_par_territoire[t] += 1

    def montant_enveloppe(d, r, t, a):
        if t is None:
            return (engages[(d, r, t, a)] * Decimal("1.15")).quantize(Decimal("1.00")) + Decimal(
                "100000.00"
            )
        marge = (PLAFOND_REBOND - rebond_par_territoire[t]) / annees_par_territoire[t]
        return engages[(d, r, t, a)] + marge.quantize(Decimal("0.01"), rounding=ROUND_DOWN)

    enveloppes = Enveloppe.objects.bulk_create(
        [
            Enveloppe(
                dispositif_id=d,
                region_id=r,
                territoire_id=t,
                annee=a,
                montant=montant_enveloppe(d, r, t, a),
            )  # fmt: skip
            for d, r, t, a in sorted(cles, key=lambda c: (c[0], c[1], c[2] or 0, c[3]))
        ],
        batch_size=LOT,
        ignore_conflicts=True,
    )
    par_cle_env = {
        (e.dispositif_id, e.region_id, e.territoire_id, e.annee): e.pk
        for e in Enveloppe.objects.filter(dispositif__in=dispositifs)
    }
    # Territorial envelopes are instructed by the préfectures of their EPCI seats.
    sieges = defaultdict(set)
    for t, dep in CompositionTerritoire.objects.filter(
        territoire__in=list(rebond_par_territoire)
    ).values_list("territoire_id", "epci__departement_id"):
        sieges[t].add(dep)
    pilotes = Enveloppe.departements_pilotes.through
    pilotes.objects.bulk_create(
        [
            pilotes(enveloppe_id=pk, departement_id=dep)
            for (_, _, t, _), pk in par_cle_env.items()
            if t is not None
            for dep in sorted(sieges[t])
        ],
        batch_size=LOT,
        ignore_conflicts=True,
    )
    for aide in aides:
        aide.enveloppe_id = par_cle_env[aide._cle]
    for d in dispositifs:
        total = sum((e.montant for e in Enveloppe.objects.filter(dispositif=d)), Decimal(0))
        Dispositif.objects.filter(pk=d.pk).update(montant_national=total)
    bulk_create_with_history(
        aides,
        Aide,
        batch_size=LOT,
        default_user=auteur,
        default_change_reason="Jeu de données synthétique",
    )
    versements = []
    payees = (
        ligne
        for lot in _lots([c[0] for c in crees])
        for ligne in Aide.objects.filter(
            projet_id__in=lot, statut__in=["conventionnee", "soldee"]
        ).values_list("pk", "montant", "statut")
    )
    for pk, montant, statut in payees:
        if statut == "soldee":
            versements.append(
                Versement(aide_id=pk, montant=montant, date=date(2026, 3, 1), reference=f"VIR-{pk}")
            )
        else:
            acompte = (montant * Decimal("0.4")).quantize(Decimal("0.01"))
            versements.append(
                Versement(
                    aide_id=pk, montant=acompte, date=date(2025, 12, 1), reference=f"VIR-{pk}-1"
                )
            )
    Versement.objects.bulk_create(versements, batch_size=LOT)
    # Bulk rows bypass the service: compute the envelopes' maintained totals once.
    Enveloppe.objects.recalculer_totaux()
    if connection.vendor == "postgresql":
        # Fresh planner statistics after a bulk load, or the plans are blind.
        with connection.cursor() as curseur:
            curseur.execute("ANALYZE")
    return {
        "territoires_crees": nb_territoires,
        "projets": len(crees),
        "enveloppes": len(enveloppes),
        "aides": len(aides),
        "versements": len(versements),
        "secondes": time.perf_counter() - debut,
    }
