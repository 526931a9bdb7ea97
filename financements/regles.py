"""The programme's money rules as one checker: every refusal, each with its reason.

Each dispositif declares its rules as data (phase financée, lauréats seulement, plafond par
territoire, revue favorable requise, natures, régime d'aide d'État, enveloppes
territoriales). `refus_aide` evaluates them, with the rules every aid obeys (dossier
retenu, région or territoire of the envelope, investment), and returns the list of
refusals; `financements.services` calls it under its locks before it writes, at
proposal, commitment and signature. It reads, never writes.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from commun.formats import euros
from projets.models import AvisRevue, Projet, Statut

from .models import PLAFOND_DE_MINIMIS, Aide, Enveloppe, RegimeAide

STATUTS_PROJET_FINANCABLES = frozenset({Statut.RETENU, Statut.EN_COURS, Statut.REALISE})


@dataclass(frozen=True)
class Refus:
    regle: str  # stable code of the rule (tests, documentation)
    message: str  # French, names the rule


def _total(queryset) -> Decimal:
    return queryset.aggregate(total=Sum("montant"))["total"] or Decimal("0.00")


def moins_trois_ans(jour: date) -> date:
    """The same day three years earlier (28 February for a 29 February)."""
    try:
        return jour.replace(year=jour.year - 3)
    except ValueError:
        return jour.replace(year=jour.year - 3, day=28)


def plus_trois_ans(jour: date) -> date:
    try:
        return jour.replace(year=jour.year + 3)
    except ValueError:
        return jour.replace(year=jour.year + 3, day=28)


def date_octroi(aide: Aide) -> date:
    """The date an aid counts from under de minimis: its decision, else its proposal."""
    return aide.date_decision or aide.cree_le.date()


def siren_du_porteur(projet: Projet) -> str:
    return (projet.porteur_siret or "")[:9]


def aides_de_minimis(siren: str, *, exclure=None):
    """Every live or granted de minimis aid of the programme to undertaking `siren`
    (all its establishments), across dossiers, territories, régions and dispositifs."""
    qs = (
        Aide.objects.exclude(statut=Aide.Statut.ANNULEE)
        .filter(
            enveloppe__dispositif__regime_aide=RegimeAide.DE_MINIMIS,
            projet__porteur_siret__startswith=siren,
        )
        .select_related("projet", "enveloppe__dispositif")
        .order_by("date_decision", "cree_le", "pk")
    )
    if exclure is not None:
        qs = qs.exclude(pk=exclure.pk)
    return qs


def cumul_de_minimis(siren: str, jour: date, *, exclure=None) -> tuple[Decimal, list[Aide]]:
    """Amount and aids counted in the three years ending on `jour` (rolling window)."""
    if not siren:
        return Decimal("0.00"), []
    debut = moins_trois_ans(jour)
    aides = [a for a in aides_de_minimis(siren, exclure=exclure) if debut < date_octroi(a) <= jour]
    return sum((a.montant for a in aides), Decimal("0.00")), aides


def _pire_fenetre(siren: str, jour: date, montant: Decimal, *, exclure=None):
    """The rolling three-year window containing `jour` where the undertaking's de minimis
    total, with the new `montant`, is highest: (total, aids counted)."""
    autres = [
        a
        for a in aides_de_minimis(siren, exclure=exclure)
        if moins_trois_ans(jour) < date_octroi(a) < plus_trois_ans(jour)
    ]
    # Each window (fin - 3 ans, fin] ends on `jour` or on a later aid's date.
    fins = sorted({jour} | {date_octroi(a) for a in autres if date_octroi(a) > jour})
    pire = (Decimal("-1"), [])
    for fin in fins:
        dedans = [a for a in autres if moins_trois_ans(fin) < date_octroi(a) <= fin]
        total = montant + sum((a.montant for a in dedans), Decimal("0.00"))
        if total > pire[0]:
            pire = (total, dedans)
    return pire


def _libelle_aide(aide: Aide) -> str:
    return (
        f"{aide.projet.reference} ({aide.enveloppe.dispositif}, {euros(aide.montant)}, "
        f"{date_octroi(aide):%d/%m/%Y})"
    )


def refus_aide(
    *,
    enveloppe: Enveloppe,
    projet: Projet,
    montant: Decimal,
    nature: str,
    aide: Aide | None = None,
    jour: date | None = None,
) -> list[Refus]:
    """Every rule an aid of `montant` from `enveloppe` to `projet` would break.

    `aide` is the aid being checked again (commitment, signature): it is left out of the
    totals it would otherwise count twice. `jour` is the grant date for de minimis."""
    dispositif = enveloppe.dispositif
    refus = []

    if projet.statut not in STATUTS_PROJET_FINANCABLES:
        refus.append(
            Refus(
                "projet_non_retenu",
                "Une aide ne peut être accordée qu'à un dossier retenu "
                f"(ce dossier est « {projet.get_statut_display().lower()} »).",
            )
        )
    if enveloppe.territoire_id is not None:
        if enveloppe.territoire_id != projet.territoire_id:
            refus.append(
                Refus(
                    "territoire",
                    f"L'enveloppe est réservée au territoire « {enveloppe.territoire} » ; "
                    f"le dossier relève de « {projet.territoire} ».",
                )
            )
    elif projet.region.pk != enveloppe.region_id:
        refus.append(
            Refus(
                "region",
                f"L'enveloppe relève de la région {enveloppe.region} ; le dossier est situé "
                f"en {projet.region}.",
            )
        )
    if dispositif.enveloppes_territoriales and enveloppe.territoire_id is None:
        refus.append(
            Refus(
                "enveloppe_territoriale",
                f"Règle du dispositif « {dispositif} » : ses aides sont prises sur "
                "l'enveloppe du territoire, pas sur une enveloppe régionale.",
            )
        )
    if nature not in dispositif.natures:
        refus.append(
            Refus(
                "nature",
                f"Règle du dispositif « {dispositif} » : il n'autorise pas cette nature "
                f"d'aide (autorisées : {dispositif.get_natures_display()}).",
            )
        )
    if dispositif.phase_id and projet.phase_id != dispositif.phase_id:
        refus.append(
            Refus(
                "phase",
                f"Règle du dispositif « {dispositif} » : il finance les dossiers de la phase "
                f"{dispositif.phase} ; ce dossier relève de la phase {projet.phase}.",
            )
        )
    if dispositif.laureats_seulement and not projet.territoire.laureat_rebond_industriel:
        refus.append(
            Refus(
                "laureat",
                f"Règle du dispositif « {dispositif} » : réservé aux territoires lauréats ; "
                f"« {projet.territoire} » n'est pas lauréat.",
            )
        )
    if dispositif.plafond_par_territoire is not None:
        deja = Aide.objects.actives().filter(
            enveloppe__dispositif=dispositif, projet__territoire_id=projet.territoire_id
        )
        if aide is not None:
            deja = deja.exclude(pk=aide.pk)
        total = _total(deja) + montant
        if total > dispositif.plafond_par_territoire:
            refus.append(
                Refus(
                    "plafond_territoire",
                    f"Règle du dispositif « {dispositif} » : plafond de "
                    f"{euros(dispositif.plafond_par_territoire)} par territoire ; les aides "
                    f"de « {projet.territoire} » atteindraient {euros(total)}.",
                )
            )
    if dispositif.revue_favorable_requise and not avis_favorable(projet):
        refus.append(
            Refus(
                "revue",
                f"Règle du dispositif « {dispositif} » : le dossier doit avoir reçu un avis "
                "favorable d'une revue régionale d'accélération de sa région.",
            )
        )
    aides_projet = projet.aides.actives()
    if aide is not None:
        aides_projet = aides_projet.exclude(pk=aide.pk)
    total = _total(aides_projet) + montant
    if projet.montant_investissement is None or total > projet.montant_investissement:
        refus.append(
            Refus(
                "projet_depasse",
                f"Le total des aides du dossier ({euros(total)}) dépasserait son "
                f"investissement ({euros(projet.montant_investissement or Decimal(0))}).",
            )
        )
    if dispositif.regime_aide == RegimeAide.DE_MINIMIS:
        refus.extend(_refus_de_minimis(projet, montant, aide, jour or date.today()))
    return refus


def _refus_de_minimis(projet, montant, aide, jour) -> list[Refus]:
    siren = siren_du_porteur(projet)
    if not siren:
        return [
            Refus(
                "de_minimis",
                "Aide de minimis : le SIRET du porteur est nécessaire pour calculer le cumul "
                "des aides de l'entreprise.",
            )
        ]
    total, comptees = _pire_fenetre(siren, jour, montant, exclure=aide)
    if total <= PLAFOND_DE_MINIMIS:
        return []
    liste = "; ".join(_libelle_aide(a) for a in comptees) or "aucune"
    return [
        Refus(
            "de_minimis",
            f"Règlement (UE) 2023/2831 (de minimis) : les aides à l'entreprise SIREN {siren} "
            f"atteindraient {euros(total)} sur trois ans glissants, au-delà du plafond de "
            f"{euros(PLAFOND_DE_MINIMIS)}. Aides déjà comptées : {liste}.",
        )
    ]


def avis_favorable(projet: Projet) -> bool:
    """A favourable opinion on `projet` from a review held in its région."""
    return AvisRevue.objects.filter(
        projet=projet, avis=AvisRevue.Avis.FAVORABLE, revue__region_id=projet.region.pk
    ).exists()
