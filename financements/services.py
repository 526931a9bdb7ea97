"""Money movements: every write on envelopes, aides and payments goes through here.

Each function runs in a transaction and locks, in a stable order (dispositif,
enveloppe, projet, aide), the rows whose totals it reads to decide, so that
concurrent requests cannot overcommit. `select_for_update` is a no-op on SQLite,
whose writers are serialised anyway.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum

from commun.formats import euros
from projets.models import Projet, Statut
from territoires.perimetre import est_national, peut_instruire, regions_visibles

from .models import Aide, Dispositif, Enveloppe, Versement

STATUTS_PROJET_FINANCABLES = frozenset({Statut.RETENU, Statut.EN_COURS, Statut.REALISE})
CENTIME = Decimal("0.01")


class OperationRefusee(ValidationError):
    """A money operation that would break an invariant; the message is French."""


def montant_euros(valeur) -> Decimal:
    """A positive amount in euros rounded to the cent (half up), or a French error."""
    try:
        montant = Decimal(str(valeur)).quantize(CENTIME, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise OperationRefusee(f"Montant invalide : « {valeur} ».", code="montant") from exc
    if not montant.is_finite() or montant <= 0:
        raise OperationRefusee("Le montant doit être strictement positif.", code="montant")
    return montant


_euros = euros  # one French format of amounts (commun.formats)


def _somme(queryset) -> Decimal:
    return queryset.aggregate(total=Sum("montant"))["total"] or Decimal("0.00")


def _verifier_agent_region(user, region_id) -> None:
    if not peut_instruire(user) or not regions_visibles(user).filter(pk=region_id).exists():
        raise PermissionDenied("Cette opération sort de votre périmètre.")


def enveloppe_allouer(*, user, dispositif: Dispositif, region, annee: int, montant) -> Enveloppe:
    """Allocate (or resize) a dispositif's envelope for a région and a year."""
    if not est_national(user):
        raise PermissionDenied("Seule l'équipe nationale alloue les enveloppes.")
    montant = montant_euros(montant)
    with transaction.atomic():
        dispositif = Dispositif.objects.select_for_update().get(pk=dispositif.pk)
        enveloppe = (
            Enveloppe.objects.select_for_update()
            .filter(dispositif=dispositif, region=region, annee=annee)
            .first()
        )
        autres = Enveloppe.objects.filter(dispositif=dispositif)
        if enveloppe is not None:
            autres = autres.exclude(pk=enveloppe.pk)
            engage = _somme(enveloppe.aides.engagees())
            if montant < engage:
                raise OperationRefusee(
                    f"L'enveloppe ne peut pas descendre sous le montant déjà engagé "
                    f"({_euros(engage)}).",
                    code="enveloppe_sous_engage",
                )
        total = _somme(autres) + montant
        if total > dispositif.montant_national:
            raise OperationRefusee(
                f"Les enveloppes du dispositif « {dispositif} » dépasseraient son montant "
                f"national ({_euros(total)} pour {_euros(dispositif.montant_national)}).",
                code="dispositif_depasse",
            )
        if enveloppe is None:
            enveloppe = Enveloppe(dispositif=dispositif, region=region, annee=annee)
        enveloppe.montant = montant
        enveloppe.full_clean()
        enveloppe._history_user = user
        enveloppe.save()
    return enveloppe


def aide_proposer(
    *,
    user,
    enveloppe: Enveloppe,
    projet: Projet,
    montant,
    nature: str,
    reference_decision: str = "",
    date_decision: date | None = None,
) -> Aide:
    """Propose an aide from `enveloppe` to `projet` (does not consume the envelope yet)."""
    montant = montant_euros(montant)
    with transaction.atomic():
        enveloppe = Enveloppe.objects.select_related("dispositif").get(pk=enveloppe.pk)
        projet = (
            Projet.objects.select_for_update(of=("self",))
            .select_related("commune__departement", "territoire")
            .get(pk=projet.pk)
        )
        _verifier_agent_region(user, enveloppe.region_id)
        if not Projet.objects.visibles_par(user).filter(pk=projet.pk).exists():
            raise PermissionDenied("Ce dossier sort de votre périmètre.")
        if projet.statut not in STATUTS_PROJET_FINANCABLES:
            raise OperationRefusee(
                "Une aide ne peut être accordée qu'à un dossier retenu "
                f"(ce dossier est « {projet.get_statut_display().lower()} »).",
                code="projet_non_retenu",
            )
        if projet.region.pk != enveloppe.region_id:
            raise OperationRefusee(
                f"L'enveloppe relève de la région {enveloppe.region} ; le dossier est situé "
                f"en {projet.region}.",
                code="region",
            )
        if nature not in enveloppe.dispositif.natures:
            raise OperationRefusee(
                f"Le dispositif « {enveloppe.dispositif} » n'autorise pas cette nature d'aide "
                f"(autorisées : {enveloppe.dispositif.get_natures_display()}).",
                code="nature",
            )
        total = _somme(projet.aides.actives()) + montant
        if projet.montant_investissement is None or total > projet.montant_investissement:
            raise OperationRefusee(
                f"Le total des aides du dossier ({_euros(total)}) dépasserait son "
                f"investissement ({_euros(projet.montant_investissement or Decimal(0))}).",
                code="projet_depasse",
            )
        aide = Aide(
            enveloppe=enveloppe,
            projet=projet,
            montant=montant,
            nature=nature,
            reference_decision=reference_decision,
            date_decision=date_decision,
        )
        aide.full_clean()
        aide._history_user = user
        aide.save()
    return aide


def _aide_verrouillee(aide: Aide, *, avec_enveloppe: bool) -> Aide:
    if avec_enveloppe:
        # Lock the envelope first (stable order), then the aide.
        enveloppe_id = Aide.objects.values_list("enveloppe_id", flat=True).get(pk=aide.pk)
        Enveloppe.objects.select_for_update().filter(pk=enveloppe_id).first()
    return Aide.objects.select_for_update(of=("self",)).select_related("enveloppe").get(pk=aide.pk)


def _changer_statut(aide: Aide, user, statut: str, **champs) -> Aide:
    aide.statut = statut
    for champ, valeur in champs.items():
        setattr(aide, champ, valeur)
    aide.full_clean()
    aide._history_user = user
    aide.save()
    return aide


def aide_engager(
    *, user, aide: Aide, reference_decision: str = "", date_decision: date | None = None
) -> Aide:
    """Commit a proposed aide: the envelope must hold the amount."""
    with transaction.atomic():
        aide = _aide_verrouillee(aide, avec_enveloppe=True)
        _verifier_agent_region(user, aide.enveloppe.region_id)
        if aide.statut != Aide.Statut.PROPOSEE:
            raise OperationRefusee(
                f"Seule une aide proposée peut être engagée (celle-ci est "
                f"« {aide.get_statut_display().lower()} »).",
                code="etat",
            )
        engage = _somme(aide.enveloppe.aides.engagees())
        disponible = aide.enveloppe.montant - engage
        if aide.montant > disponible:
            raise OperationRefusee(
                f"Enveloppe insuffisante : {_euros(aide.montant)} demandés, "
                f"{_euros(disponible)} disponibles sur « {aide.enveloppe} ».",
                code="enveloppe_depassee",
            )
        return _changer_statut(
            aide,
            user,
            Aide.Statut.ENGAGEE,
            reference_decision=reference_decision or aide.reference_decision,
            date_decision=date_decision or aide.date_decision or date.today(),
        )


def aide_conventionner(*, user, aide: Aide, date_convention: date) -> Aide:
    with transaction.atomic():
        aide = _aide_verrouillee(aide, avec_enveloppe=False)
        _verifier_agent_region(user, aide.enveloppe.region_id)
        if aide.statut != Aide.Statut.ENGAGEE:
            raise OperationRefusee("Seule une aide engagée peut être conventionnée.", code="etat")
        if date_convention is None:
            raise OperationRefusee("La date de la convention est obligatoire.", code="date")
        return _changer_statut(
            aide, user, Aide.Statut.CONVENTIONNEE, date_convention=date_convention
        )


def aide_annuler(*, user, aide: Aide, motif: str) -> Aide:
    """Cancel an aide; its amount returns to the envelope. Paid aides cannot be cancelled."""
    motif = (motif or "").strip()
    if not motif:
        raise OperationRefusee("Le motif d'annulation est obligatoire.", code="motif")
    with transaction.atomic():
        aide = _aide_verrouillee(aide, avec_enveloppe=True)
        _verifier_agent_region(user, aide.enveloppe.region_id)
        if aide.statut in (Aide.Statut.ANNULEE, Aide.Statut.SOLDEE):
            raise OperationRefusee(
                f"Une aide {aide.get_statut_display().lower()} ne peut pas être annulée.",
                code="etat",
            )
        if aide.versements.exists():
            raise OperationRefusee(
                "Cette aide a déjà donné lieu à des versements : elle ne peut pas être annulée.",
                code="versements",
            )
        return _changer_statut(aide, user, Aide.Statut.ANNULEE, motif_annulation=motif)


def versement_enregistrer(
    *, user, aide: Aide, montant, date_versement: date, reference: str = ""
) -> Versement:
    """Record a payment on a committed aide; the aide is settled once fully paid."""
    montant = montant_euros(montant)
    with transaction.atomic():
        aide = _aide_verrouillee(aide, avec_enveloppe=False)
        _verifier_agent_region(user, aide.enveloppe.region_id)
        if aide.statut not in (Aide.Statut.ENGAGEE, Aide.Statut.CONVENTIONNEE):
            raise OperationRefusee(
                "Un versement n'est possible que sur une aide engagée ou conventionnée "
                f"(celle-ci est « {aide.get_statut_display().lower()} »).",
                code="etat",
            )
        deja_verse = _somme(aide.versements.all())
        reste = aide.montant - deja_verse
        if montant > reste:
            raise OperationRefusee(
                f"Le versement ({_euros(montant)}) dépasse le reste à verser ({_euros(reste)}).",
                code="versement_depasse",
            )
        versement = Versement(aide=aide, montant=montant, date=date_versement, reference=reference)
        versement.full_clean()
        versement._history_user = user
        versement.save()
        if montant == reste:
            if aide.date_convention is None:
                aide.date_convention = date_versement
            _changer_statut(aide, user, Aide.Statut.SOLDEE)
    return versement
