"""Demo money, within every programme rule (docs/regles-financieres.md):

- Rebond industriel: one territorial envelope per laureate territory (2 M€ over the
  dispositif's life), aids only to its dossiers, each under the de minimis ceiling;
- Soutien en ingénierie: regional envelopes for the other dossiers;
- Fonds d'accélération: 2018-2022 dossiers selected by a regional acceleration review
  (Région and préfecture de région), one of them co-financed by the Région;
- aids at every status, payments, one envelope nearly full, and one lead abandonment of
  a funded dossier settled by the officer (commitment released, recovery order).
"""

from datetime import date
from decimal import Decimal

from django.db.models import Sum

from financements import services
from financements.models import Dispositif, Enveloppe, Operateur, RegimeAide
from financements.regles import refus_aide
from projets import services as projets_services
from projets.models import PieceJointe, Projet, Statut
from territoires.models import Phase, Region
from territoires.validators import siret_fictif

from .comptes import porteur_du_territoire

PLAFOND_AIDE_REBOND = Decimal("250000.00")  # under the de minimis ceiling of 300,000 €
REGIONS = {"84": "Auvergne-Rhône-Alpes", "76": "Occitanie"}


def _agent(comptes, region_id):
    return comptes["region-ara"] if region_id == "84" else comptes["region-occitanie"]


def _porteur(comptes, projet):
    """The lead account of the dossier's territory (see demo.donnees.creer_comptes)."""
    slug = projet.territoire.slug
    return comptes.get(f"porteur-{slug}"[:150]) or comptes["porteur-adn"]


def _faire_vivre(rng, agent, aide, palier: int, annee: int) -> None:
    """Bring `aide` to a status: 0 proposed, 1 engaged, 2 under convention, 3 partly paid,
    4 settled (an envelope that cannot hold it leaves it proposed)."""
    if palier == 0:
        return
    try:
        services.aide_engager(user=agent, aide=aide, date_decision=date(annee, 6, 15))
    except services.OperationRefusee:
        return
    if palier >= 2:
        # The convention's schedule: staggered over a year for the larger aids.
        echelonne = aide.montant > Decimal("100000")
        services.aide_conventionner(
            user=agent,
            aide=aide,
            date_convention=date(annee, 9, 1),
            versement_modalite="echelonne" if echelonne else "unique",
            versement_debut=date(annee, 11, 10),
            versement_fin=date(annee + 1, 11, 10) if echelonne else None,
        )
    if palier == 3:
        services.versement_enregistrer(
            user=agent,
            aide=aide,
            montant=(aide.montant * Decimal("0.3")),
            date_versement=date(annee, 11, 10),
            reference=f"VIR-{aide.pk:05d}-1",
        )
    if palier == 4:
        services.versement_enregistrer(
            user=agent,
            aide=aide,
            montant=aide.montant,
            date_versement=date(annee, 12, 1),
            reference=f"VIR-{aide.pk:05d}-S",
        )


def _envelopes_rebond(national, rebond, territoires) -> dict:
    """Two yearly slices per laureate territory, together its 2 M€ ceiling."""
    par_territoire = {}
    for territoire in territoires:
        par_territoire[territoire.pk] = [
            services.enveloppe_allouer(
                user=national,
                dispositif=rebond,
                territoire=territoire,
                annee=annee,
                montant=montant,
            )
            for annee, montant in ((2024, Decimal("1200000.00")), (2025, Decimal("800000.00")))
        ]
    return par_territoire


def charger_financements(rng, comptes, *, territoires_demo=(), pdf_factice=None) -> None:
    """`territoires_demo` (slugs) and `pdf_factice` come from demo.donnees, which calls
    this loader (no import back: no cycle)."""
    if Enveloppe.objects.exists():
        return
    national = comptes["national"]
    rebond = Dispositif.objects.get(code="rebond-industriel")
    ingenierie = Dispositif.objects.get(code="ingenierie-ti")
    for code in REGIONS:
        services.enveloppe_allouer(
            user=national,
            dispositif=ingenierie,
            region=Region.objects.get(code=code),
            annee=2025,
            montant=Decimal("400000.00"),
        )
    projets = list(
        Projet.objects.filter(statut__in=[Statut.RETENU, Statut.EN_COURS, Statut.REALISE])
        .select_related("commune__departement", "territoire__region_pilote", "phase")
        .order_by("reference")
    )
    laureats = sorted(
        {p.territoire for p in projets if p.territoire.laureat_rebond_industriel},
        key=lambda t: t.slug,
    )
    rebond_par_territoire = _envelopes_rebond(national, rebond, laureats)
    payees = []
    for index, projet in enumerate(projets):
        region_id = projet.commune.departement.region_id
        agent = _agent(comptes, region_id)
        annee = 2024 if index % 2 else 2025
        nature = rng.choice(["subvention", "subvention", "avance_remboursable"])
        if projet.territoire.pk in rebond_par_territoire:
            enveloppes = rebond_par_territoire[projet.territoire.pk]
            enveloppe = enveloppes[0] if annee == 2024 else enveloppes[1]
            montant = min(projet.aide_demandee, PLAFOND_AIDE_REBOND)
        else:
            enveloppe = Enveloppe.objects.get(
                dispositif=ingenierie, region_id=region_id, annee=2025
            )
            annee = 2025
            nature = "subvention"
            montant = min(projet.aide_demandee, Decimal("60000.00"))
        if refus_aide(enveloppe=enveloppe, projet=projet, montant=montant, nature=nature):
            continue  # e.g. the territory's Rebond ceiling is reached: no aid
        aide = services.aide_proposer(
            user=agent,
            enveloppe=enveloppe,
            projet=projet,
            montant=montant,
            nature=nature,
            reference_decision=f"DEC-{projet.reference}",
        )
        palier = index % 5
        _faire_vivre(rng, agent, aide, palier, annee)
        if palier == 3:
            payees.append(aide)
    # One envelope close to full, as officers see it near the end of a year.
    enveloppe = Enveloppe.objects.get(dispositif=ingenierie, region_id="84", annee=2025)
    engage = enveloppe.aides.engagees().aggregate(t=Sum("montant"))["t"] or Decimal(0)
    cible = (engage / Decimal("0.96")).quantize(Decimal("0.01"))
    if engage and cible < enveloppe.montant:
        services.enveloppe_allouer(
            user=national, dispositif=ingenierie, region=enveloppe.region, annee=2025, montant=cible
        )
    charger_fonds_acceleration(rng, comptes, territoires_demo, pdf_factice)
    if payees:
        _abandon_regle(comptes, payees[0])


def _abandon_regle(comptes, aide) -> None:
    """The lead of a funded dossier abandons it; the officer settles the aid."""
    projet = aide.projet
    projets_services.projet_transitionner(
        projet=projet,
        transition="abandonner",
        user=_porteur(comptes, projet),
        commentaire="L'entreprise renonce au projet après la perte d'un client majeur.",
    )
    services.projet_abandon_regler(
        user=_agent(comptes, projet.commune.departement.region_id),
        projet=projet,
        date_ordre_reversement=date(2026, 2, 2),
        commentaire="Ordre de reversement émis pour les sommes versées.",
    )


def charger_fonds_acceleration(rng, comptes, territoires_demo, pdf_factice) -> None:
    """Fonds d'accélération (2018-2022): dossiers examined by a regional acceleration
    review in each demo région, aids on those with a favourable opinion, one co-financed
    by the Région (a demo dispositif of the Région's own money)."""
    fonds = Dispositif.objects.filter(code="fonds-acceleration").first()
    phase = Phase.objects.filter(code="2018-2022").first()
    if fonds is None or phase is None:
        return
    national = comptes["national"]
    for code, nom_region in REGIONS.items():
        region = Region.objects.get(code=code)
        agent = _agent(comptes, code)
        dossiers = _dossiers_2018_2022(rng, comptes, region, phase, territoires_demo, pdf_factice)
        if not dossiers:
            continue
        revue = projets_services.revue_creer(
            user=agent,
            region=region,
            date=date(2021, 3, 16),
            intitule=f"Revue régionale d'accélération {nom_region} — mars 2021",
            conseil_regional=f"Région {nom_region}",
            prefecture_region=f"Préfecture de la région {nom_region} (SGAR)",
            membres_presents="Vice-président chargé du développement économique (Région)\n"
            "Secrétaire général pour les affaires régionales (préfecture de région)\n"
            "Directrice régionale de Bpifrance",
        )
        favorables = dossiers[:-1]
        for projet in dossiers:
            projets_services.revue_avis_enregistrer(
                user=agent,
                revue=revue,
                projet=projet,
                avis="favorable" if projet in favorables else "ajourne",
                commentaire="Projet structurant pour le territoire."
                if projet in favorables
                else "Plan de financement à consolider.",
            )
        enveloppe = services.enveloppe_allouer(
            user=national, dispositif=fonds, region=region, annee=2021, montant="3000000"
        )
        for rang, projet in enumerate(favorables):
            projets_services.projet_transitionner(
                projet=projet,
                transition="retenir",
                user=agent,
                commentaire="Retenu après avis favorable de la revue régionale d'accélération.",
            )
            projet.refresh_from_db()
            aide = services.aide_proposer(
                user=agent,
                enveloppe=enveloppe,
                projet=projet,
                montant=min(projet.aide_demandee, Decimal("800000.00")),
                nature="subvention",
                reference_decision=f"FA-{code}-2021-{rang + 1:03d}",
                date_decision=date(2021, 4, 2),
            )
            _faire_vivre(rng, agent, aide, 4 if rang == 0 else 2, 2021)
            if rang == 0:
                _cofinancement_region(comptes, region, nom_region, projet)


def _dossiers_2018_2022(rng, comptes, region, phase, territoires_demo, pdf_factice) -> list:
    """Three dossiers of a territory labelled for 2018-2022 and piloted by `region`
    (a demo territory first), located in communes of its extent for that phase."""
    candidats = region.territoires_pilotes.filter(labellisations__phase=phase).distinct()
    territoire = (
        candidats.filter(slug__in=territoires_demo).order_by("slug").first()
        or candidats.order_by("slug").first()
    )
    if territoire is None:
        return []
    communes = list(territoire.communes_possibles(phase).order_by("code_insee")[:20])
    if not communes:
        return []
    porteur = porteur_du_territoire(territoire)
    comptes[porteur.username] = porteur
    agent = _agent(comptes, region.code)
    dossiers = []
    for n, (titre, nature) in enumerate(
        [
            ("Extension d'une fonderie d'aluminium", "extension"),
            ("Nouvelle unité de traitement de surface", "equipement"),
            ("Modernisation d'une ligne de tissage", "modernisation"),
        ]
    ):
        investissement = Decimal(rng.randrange(2000, 6000) * 1000)
        projet = projets_services.projet_creer(
            user=porteur,
            territoire=territoire,
            phase=phase,
            axes=list(phase.axes.all()[:1]),
            titre=titre,
            description=f"{titre} (France Relance, Fonds d'accélération).",
            nature=nature,
            porteur_raison_sociale=f"Industries {territoire.nom} {n + 1}",
            porteur_siret=siret_fictif(rng),
            porteur_taille="PME",
            commune=communes[n % len(communes)],
            montant_investissement=investissement,
            aide_demandee=investissement * Decimal("0.2"),
            emplois_crees=rng.randrange(5, 60),
            emplois_maintenus=rng.randrange(20, 200),
            date_debut_prevue=date(2021, 1, 4),
        )
        projets_services.piece_jointe_ajouter(
            projet=projet,
            user=porteur,
            fichier=pdf_factice(f"devis-{projet.reference}"),
            type=PieceJointe.Type.DEVIS,
        )
        for transition, acteur in (("deposer", porteur), ("instruire", agent)):
            projets_services.projet_transitionner(projet=projet, transition=transition, user=acteur)
        dossiers.append(projet)
    return dossiers


def _cofinancement_region(comptes, region, nom_region, projet) -> None:
    """The Région adds its own money to a Fonds d'accélération project (as some Régions
    did, shared/seeds/003): a demo dispositif of the Région, granted by the Région."""
    operateur = Operateur.objects.filter(type="region", nom=f"Région {nom_region}").first()
    if operateur is None:
        return
    dispositif, _ = Dispositif.objects.get_or_create(
        code=f"abondement-region-{region.code}",
        defaults={
            "nom": f"Abondement régional du Fonds d'accélération ({nom_region}, démonstration)",
            "operateur": operateur,
            "phase": projet.phase,
            "natures": ["subvention"],
            "montant_national": Decimal("5000000.00"),
            "date_debut": date(2020, 9, 3),
            "date_fin": date(2022, 12, 31),
            "regime_aide": RegimeAide.RGEC,
            "description": "Dispositif de démonstration : la Région complète l'aide de l'État.",
        },
    )
    enveloppe = services.enveloppe_allouer(
        user=comptes["national"],
        dispositif=dispositif,
        region=region,
        annee=2021,
        montant="1000000",
    )
    agent = _agent(comptes, region.code)
    aide = services.aide_proposer(
        user=agent,
        enveloppe=enveloppe,
        projet=projet,
        montant=min(projet.aide_demandee / 4, Decimal("200000.00")),
        nature="subvention",
        attribuant=operateur,
        reference_decision=f"CP-{region.code}-2021-042",
        date_decision=date(2021, 5, 20),
    )
    services.aide_engager(user=agent, aide=aide, date_decision=date(2021, 5, 20))
    services.aide_conventionner(
        user=agent,
        aide=aide,
        date_convention=date(2021, 7, 1),
        versement_modalite="unique",
        versement_debut=date(2021, 9, 1),
    )
