"""Deterministic demo data: accounts, binômes, dossiers along their lifecycle, money.

Loaded by `manage.py demo`, never when DEBUG is off. Running it again changes nothing.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction

from territoires.models import Binome, Commune, Departement, Habilitation, Phase, Region, Territoire
from territoires.validators import siret_fictif

from .comptes import porteur_du_territoire

COMPTES = [
    # username, first, last, role, echelon, niveau, organisation, régions, départements
    ("national", "Nadia", "Nationale", "agent", "national", 3, "ANCT — équipe nationale", [], []),
    (
        "region-ara",
        "Rémi",
        "Auvergne",
        "agent",
        "region",
        2,
        "Région Auvergne-Rhône-Alpes",
        ["84"],
        [],
    ),
    ("region-occitanie", "Odile", "Occitan", "agent", "region", 2, "Région Occitanie", ["76"], []),
    (
        "prefecture-07",
        "Paul",
        "Préfet",
        "agent",
        "departement",
        1,
        "Préfecture de l'Ardèche",
        [],
        ["07"],
    ),
    (
        "porteur-adn",
        "Aline",
        "Porteuse",
        "porteur",
        "territoire",
        2,
        "Territoire d'industrie Ardèche-Drôme Nord",
        [],
        [],
    ),
    ("partenaire-bpi", "Bruno", "Partenaire", "partenaire", "national", 1, "Bpifrance", [], []),
]

TERRITOIRE_PORTEUR = "ardeche-drome-nord"

BINOMES = {
    "ardeche-drome-nord": (
        "Simon Plénet",
        "président d'Annonay Rhône Agglo",
        "Claire Vernay",
        "Vernay Textiles",
    ),
    "plastics-vallee-oyonnax": (
        "Michel Perraud",
        "président de Haut-Bugey Agglomération",
        "Sophie Rival",
        "Rival Plasturgie",
    ),
    "bassin-de-bourg-en-bresse": (
        "Jean-Yves Flochon",
        "président de Grand Bourg Agglomération",
        "Marc Duclos",
        "Bresse Mécanique",
    ),
    "bassin-dales": (
        "Christophe Rivenq",
        "président d'Alès Agglomération",
        "Nathalie Sabatier",
        "Cévennes Chimie",
    ),
    "beziers-sete": (
        "Robert Ménard",
        "président de la CA Béziers Méditerranée",
        "Pierre Azaïs",
        "Azaïs Industries",
    ),
    "gard-rhodanien": (
        "Jean-Christian Rey",
        "président de l'Agglomération du Gard rhodanien",
        "Élodie Martin",
        "Rhodanienne de Métallurgie",
    ),
    "narbonne": (
        "Didier Mouly",
        "président du Grand Narbonne",
        "Laurent Castan",
        "Narbonne Composites",
    ),
}

ENTREPRISES = [
    "Ateliers",
    "Forges",
    "Plasturgie",
    "Textiles",
    "Mécanique",
    "Composites",
    "Chimie fine",
    "Emballages",
    "Robotique",
    "Fonderie",
    "Usinage",
    "Bois et Structures",
]
LIEUX = [
    "du Vivarais",
    "de la Drôme",
    "du Rhône",
    "des Boutières",
    "de l'Ain",
    "du Bugey",
    "des Cévennes",
    "du Languedoc",
    "de l'Aude",
    "du Gard",
    "Occitanes",
    "Alpines",
]
OBJETS = [
    ("Extension de l'atelier de production", "extension"),
    ("Nouvelle ligne d'usinage à commande numérique", "equipement"),
    ("Modernisation de la chaîne d'assemblage", "modernisation"),
    ("Création d'un site de recyclage des plastiques", "creation"),
    ("Décarbonation du four de fusion", "decarbonation"),
    ("Centre de formation aux métiers de l'industrie", "formation"),
    ("Réhabilitation d'une friche industrielle", "foncier"),
    ("Robotisation de la logistique interne", "equipement"),
    ("Récupération de chaleur fatale", "decarbonation"),
    ("Relocalisation d'une production de composants", "creation"),
]

# Target status of each demo dossier, cycled; with the transitions that lead there.
CHEMINS = {
    "brouillon": [],
    "depose": ["deposer"],
    "en_instruction": ["deposer", "instruire"],
    "a_completer": ["deposer", "instruire", "demander_complements"],
    "retenu": ["deposer", "instruire", "retenir"],
    "refuse": ["deposer", "instruire", "refuser"],
    "sans_suite": ["deposer", "instruire", "classer_sans_suite"],
    "en_cours": ["deposer", "instruire", "retenir", "demarrer"],
    "realise": ["deposer", "instruire", "retenir", "demarrer", "achever"],
    "abandonne": ["deposer", "abandonner"],
}
CYCLE_STATUTS = [
    "retenu",
    "en_cours",
    "depose",
    "en_instruction",
    "retenu",
    "brouillon",
    "a_completer",
    "realise",
    "refuse",
    "en_cours",
    "sans_suite",
    "retenu",
    "abandonne",
    "en_instruction",
    "realise",
]
COMMENTAIRES = {
    "demander_complements": "Merci de joindre le plan de financement signé et le dernier Kbis.",
    "retenir": "Projet structurant retenu en revue régionale d'accélération.",
    "refuser": "Le projet ne répond pas aux critères d'éligibilité du dispositif.",
    "classer_sans_suite": "Le porteur n'a pas confirmé son projet.",
    "abandonner": "Le porteur a renoncé à l'investissement.",
}

PDF_MINIMAL = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def pdf_factice(titre: str) -> ContentFile:
    contenu = PDF_MINIMAL.replace(b"%%EOF", f"% {titre}\n%%EOF".encode("latin-1", "replace"))
    return ContentFile(contenu, name=f"{titre}.pdf")


def creer_comptes(stdout=None) -> dict:
    User = get_user_model()
    comptes = {}
    for username, prenom, nom, role, echelon, niveau, organisation, regions, deps in COMPTES:
        user, cree = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": prenom,
                "last_name": nom,
                "email": f"{username}@demo.territoires-industrie.example",
                "is_staff": role == "agent",
                "is_superuser": False,
            },
        )
        if cree:
            user.set_password(settings.DEMO_PASSWORD)
            user.save()
        hab, _ = Habilitation.objects.get_or_create(
            user=user,
            defaults={
                "role": role,
                "echelon": echelon,
                "niveau": niveau,
                "organisation": organisation,
            },
        )
        if cree:
            hab.regions.set(Region.objects.filter(code__in=regions))
            hab.departements.set(Departement.objects.filter(code__in=deps))
            if role == "porteur":
                hab.territoires.set(Territoire.objects.filter(slug=TERRITOIRE_PORTEUR))
            comptes[username] = user
    # Every other demo territory gets its own lead (no password: sign-in disabled).
    for territoire in Territoire.objects.filter(slug__in=BINOMES).exclude(slug=TERRITOIRE_PORTEUR):
        user = porteur_du_territoire(territoire)
        comptes[user.username] = user
    return comptes


def creer_binomes(rng: random.Random) -> None:
    for slug, (elu, mandat, industriel, entreprise) in BINOMES.items():
        territoire = Territoire.objects.filter(slug=slug).first()
        if territoire is None or territoire.binomes.exists():
            continue
        Binome.objects.create(
            territoire=territoire,
            elu_nom=elu,
            elu_mandat=mandat,
            industriel_nom=industriel,
            industriel_entreprise=entreprise,
            industriel_siret=siret_fictif(rng),
            date_debut=date(2024, 1, 17),
        )


def creer_dossiers(rng: random.Random, comptes: dict, nombre: int = 60) -> list:
    from projets import services as projets_services
    from projets.models import PieceJointe, Projet

    if Projet.objects.exists():
        return []
    phase = Phase.objects.get(code="2023-2027")
    axes = list(phase.axes.all())
    territoires = list(Territoire.objects.filter(slug__in=BINOMES).order_by("slug"))
    crees = []
    for i in range(nombre):
        territoire = territoires[i % len(territoires)]
        communes = list(
            Commune.objects.filter(
                epci__compositions__territoire=territoire, epci__compositions__phase=phase
            ).order_by("code_insee")
        )
        commune = rng.choice(communes)
        objet, nature = rng.choice(OBJETS)
        entreprise = f"{rng.choice(ENTREPRISES)} {rng.choice(LIEUX)}"
        investissement = Decimal(rng.randrange(300, 12000) * 1000)
        est_adn = territoire.slug == TERRITOIRE_PORTEUR
        auteur = comptes["porteur-adn" if est_adn else f"porteur-{territoire.slug}"[:150]]
        projet = projets_services.projet_creer(
            user=auteur,
            territoire=territoire,
            phase=phase,
            axes=rng.sample(axes, rng.randint(1, 2)),
            titre=f"{objet} — {entreprise}",
            description=(
                f"{entreprise} investit à {commune.nom} : {objet.lower()}. Le projet renforce "
                "l'outil de production et l'emploi industriel du territoire."
            ),
            nature=nature,
            porteur_raison_sociale=entreprise,
            porteur_siret=siret_fictif(rng),
            porteur_taille=rng.choice(["PME", "PME", "PME", "ETI", "GE"]),
            contact_nom=f"Contact {i + 1}",
            contact_email=f"contact{i + 1}@entreprise.example",
            commune=commune,
            montant_investissement=investissement,
            aide_demandee=(investissement * Decimal(rng.choice([10, 15, 20, 25])) / 100),
            emplois_crees=rng.randrange(0, 80),
            emplois_maintenus=rng.randrange(5, 300),
            co2_evite=Decimal(rng.randrange(0, 5000)),
            zone_qpv=rng.random() < 0.15,
            zone_frr=rng.random() < 0.3,  # declared today: FRR (ZRR until 30 June 2024)
            zone_afr=rng.random() < 0.4,
            zone_acv=rng.random() < 0.2,
            date_debut_prevue=date(2024, 1, 1) + timedelta(days=rng.randrange(0, 700)),
        )
        projets_services.piece_jointe_ajouter(
            projet=projet,
            user=auteur,
            fichier=pdf_factice(f"devis-{projet.reference}"),
            type=PieceJointe.Type.DEVIS,
        )
        cible = CYCLE_STATUTS[i % len(CYCLE_STATUTS)]
        instructeur = (
            comptes["region-ara"]
            if territoire.region_pilote_id == "84"
            else (comptes["region-occitanie"])
        )
        for transition in CHEMINS[cible]:
            if transition in ("deposer", "repondre"):
                # The lead's submission, certified on honour like on the portal.
                projets_services.projet_deposer(
                    projet=projet,
                    user=auteur,
                    attestation=True,
                    commentaire=COMMENTAIRES.get(transition, ""),
                )
                continue
            acteur = auteur if transition == "abandonner" else instructeur
            projets_services.projet_transitionner(
                projet=projet,
                transition=transition,
                user=acteur,
                commentaire=COMMENTAIRES.get(transition, ""),
            )
        crees.append(projet)
    return crees


PREREQUIS = (
    "Le référentiel n'est pas chargé. Lancez d'abord « make donnees » (ou, dans l'ordre : "
    "manage.py migrate, importer_referentiel, importer_territoires "
    "fixtures/referentiel/territoires-connus.csv, importer_territoires "
    "fixtures/referentiel/territoires-anct-extrait.csv, importer_dispositifs), puis "
    "manage.py demo."
)


def prerequis_manquants() -> list[str]:
    """What the demo needs and the database lacks (empty when everything is there)."""
    from financements.models import Dispositif

    manque = []
    if Region.objects.filter(code__in=["84", "76"]).count() != 2:
        manque.append("régions (importer_referentiel)")
    if not Commune.objects.exists():
        manque.append("communes (importer_referentiel)")
    if not Territoire.objects.filter(slug=TERRITOIRE_PORTEUR).exists():
        manque.append("territoires (importer_territoires)")
    if Dispositif.objects.filter(code__in=["rebond-industriel", "ingenierie-ti"]).count() != 2:
        manque.append("dispositifs (importer_dispositifs)")
    return manque


@transaction.atomic
def charger(seed: int = 2026, stdout=None) -> dict:
    if not settings.DEBUG:
        raise RuntimeError("Les données de démonstration ne sont jamais créées hors DEBUG.")
    rng = random.Random(seed)
    comptes = creer_comptes()
    creer_binomes(rng)
    projets = creer_dossiers(rng, comptes)
    from demo.financements import charger_financements

    charger_financements(rng, comptes, territoires_demo=list(BINOMES), pdf_factice=pdf_factice)
    return {"comptes": comptes, "projets": projets}
