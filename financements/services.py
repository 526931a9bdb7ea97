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
from django.db.models import F, Sum
from django.db.models import Q as models_Q

from commun.formats import euros
from projets.models import Projet, Statut
from territoires.models import Departement, Habilitation, Territoire
from territoires.perimetre import est_national, habilitation_de, peut_instruire, regions_visibles

from . import notifications, regles
from .models import (
    Aide,
    Dispositif,
    Enveloppe,
    ModaliteVersement,
    Operateur,
    RegimeAide,
    Versement,
    contribution_aide,
)
from .regles import STATUTS_PROJET_FINANCABLES  # noqa: F401 - re-exported

# Dossiers closed without being carried out: their aids take no payment.
STATUTS_PROJET_CLOS = frozenset({Statut.ABANDONNE, Statut.REFUSE, Statut.SANS_SUITE})
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


def _ajuster_totaux(enveloppe_id: int, deltas: dict) -> None:
    """Move the envelope's maintained totals by `deltas` with F() increments (the caller
    holds the envelope's row lock; increments commute anyway)."""
    deltas = {champ: delta for champ, delta in deltas.items() if delta}
    if deltas:
        Enveloppe.objects.filter(pk=enveloppe_id).update(
            **{champ: F(champ) + delta for champ, delta in deltas.items()}
        )


def _suivre_aide(aide: Aide, avant: dict) -> None:
    """After `aide` was saved: move its envelope's totals from what it added `avant`."""
    apres = contribution_aide(aide.statut, aide.montant)
    _ajuster_totaux(aide.enveloppe_id, {c: apres[c] - avant.get(c, 0) for c in apres})


def _verifier_agent_region(user, region_id) -> None:
    if not peut_instruire(user) or not regions_visibles(user).filter(pk=region_id).exists():
        raise PermissionDenied("Cette opération sort de votre périmètre.")


def _verifier_agent_enveloppe(user, enveloppe: Enveloppe) -> None:
    """An instructor of the envelope's région; for a territorial envelope, of one of its
    pilot départements (préfectures) or of a région or set of territories covering it."""
    if enveloppe.territoire_id is None or est_national(user):
        _verifier_agent_region(user, enveloppe.region_id)
        return
    hab = habilitation_de(user)
    if not peut_instruire(user) or hab is None:
        raise PermissionDenied("Cette opération sort de votre périmètre.")
    if hab.echelon == Habilitation.Echelon.DEPARTEMENT:
        permis = enveloppe.departements_pilotes.filter(pk__in=hab.departements.all()).exists()
    else:
        permis = Territoire.objects.visibles_par(user).filter(pk=enveloppe.territoire_id).exists()
    if not permis:
        raise PermissionDenied(
            "Cette enveloppe territoriale est instruite par les préfectures de ses "
            "départements pilotes."
        )


def enveloppe_allouer(
    *,
    user,
    dispositif: Dispositif,
    region=None,
    annee: int,
    montant,
    territoire: Territoire | None = None,
) -> Enveloppe:
    """Allocate (or resize) a dispositif's envelope for a région and a year, or, for a
    dispositif with territorial envelopes, for a territory (its pilot région and the
    départements of its EPCI seats, whose préfectures instruct it)."""
    if not est_national(user):
        raise PermissionDenied("Seule l'équipe nationale alloue les enveloppes.")
    montant = montant_euros(montant)
    with transaction.atomic():
        dispositif = Dispositif.objects.select_for_update().get(pk=dispositif.pk)
        refus = []
        if dispositif.enveloppes_territoriales and territoire is None:
            refus.append(
                f"Règle du dispositif « {dispositif} » : ses enveloppes sont allouées par "
                "territoire ; choisissez le territoire."
            )
        if territoire is not None:
            if not dispositif.enveloppes_territoriales:
                refus.append(f"Le dispositif « {dispositif} » n'a pas d'enveloppes territoriales.")
            if dispositif.laureats_seulement and not territoire.laureat_rebond_industriel:
                refus.append(
                    f"Règle du dispositif « {dispositif} » : réservé aux territoires "
                    f"lauréats ; « {territoire} » n'est pas lauréat."
                )
            region = territoire.region_pilote
        if region is None:
            refus.append("La région de l'enveloppe est obligatoire.")
        if refus:
            raise OperationRefusee(refus, code="regles_enveloppe")
        enveloppe = (
            Enveloppe.objects.select_for_update()
            .filter(dispositif=dispositif, annee=annee)
            .filter(
                **({"territoire": territoire} if territoire else {"region": region}),
                territoire__isnull=territoire is None,
            )
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
        if territoire is not None and dispositif.plafond_par_territoire is not None:
            du_territoire = _somme(autres.filter(territoire=territoire)) + montant
            if du_territoire > dispositif.plafond_par_territoire:
                raise OperationRefusee(
                    f"Règle du dispositif « {dispositif} » : plafond de "
                    f"{_euros(dispositif.plafond_par_territoire)} par territoire ; les "
                    f"enveloppes de « {territoire} » atteindraient {_euros(du_territoire)}.",
                    code="plafond_territoire",
                )
        total = _somme(autres) + montant
        if total > dispositif.montant_national:
            raise OperationRefusee(
                f"Les enveloppes du dispositif « {dispositif} » dépasseraient son montant "
                f"national ({_euros(total)} pour {_euros(dispositif.montant_national)}).",
                code="dispositif_depasse",
            )
        if enveloppe is None:
            enveloppe = Enveloppe(
                dispositif=dispositif, region=region, annee=annee, territoire=territoire
            )
        enveloppe.montant = montant
        enveloppe.full_clean()
        enveloppe._history_user = user
        enveloppe.save()
        if territoire is not None:
            enveloppe.departements_pilotes.set(
                Departement.objects.filter(
                    intercommunalites__compositions__territoire=territoire
                ).distinct()
            )
    return enveloppe


def _refuser_si(refus: list[regles.Refus]) -> None:
    if refus:
        raise OperationRefusee([r.message for r in refus], code=refus[0].regle)


def _verrouiller_projets(enveloppe: Enveloppe, projet_pk: int) -> Projet:
    """Lock, after the envelope and before the aide, what the rules read to decide: the
    territory (ceiling per territory), then every dossier of the same undertaking (de
    minimis cumul by SIREN) in primary-key order; return the dossier, locked."""
    dispositif = enveloppe.dispositif
    if dispositif.plafond_par_territoire is not None:
        territoire_id = Projet.objects.values_list("territoire_id", flat=True).get(pk=projet_pk)
        Territoire.objects.select_for_update().filter(pk=territoire_id).first()
    siret = Projet.objects.values_list("porteur_siret", flat=True).get(pk=projet_pk)
    if dispositif.regime_aide == RegimeAide.DE_MINIMIS and siret:
        list(
            Projet.objects.select_for_update(of=("self",))
            .filter(porteur_siret__startswith=siret[:9])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    return (
        Projet.objects.select_for_update(of=("self",))
        .select_related("commune__departement__region", "territoire__region_pilote", "phase")
        .get(pk=projet_pk)
    )


def aide_proposer(
    *,
    user,
    enveloppe: Enveloppe,
    projet: Projet,
    montant,
    nature: str,
    reference_decision: str = "",
    date_decision: date | None = None,
    attribuant: Operateur | None = None,
) -> Aide:
    """Propose an aide from `enveloppe` to `projet` (does not consume the envelope yet);
    refused with every rule it breaks (`regles.refus_aide`)."""
    montant = montant_euros(montant)
    with transaction.atomic():
        enveloppe = Enveloppe.objects.select_related(
            "dispositif__operateur", "dispositif__phase", "region", "territoire"
        ).get(pk=enveloppe.pk)
        _verifier_agent_enveloppe(user, enveloppe)
        if not Projet.objects.visibles_par(user).filter(pk=projet.pk).exists():
            raise PermissionDenied("Ce dossier sort de votre périmètre.")
        projet = _verrouiller_projets(enveloppe, projet.pk)
        _refuser_si(
            regles.refus_aide(
                enveloppe=enveloppe,
                projet=projet,
                montant=montant,
                nature=nature,
                jour=date_decision or date.today(),
            )
        )
        aide = Aide(
            enveloppe=enveloppe,
            projet=projet,
            montant=montant,
            nature=nature,
            reference_decision=reference_decision,
            date_decision=date_decision,
            attribuant=attribuant or enveloppe.dispositif.operateur,
        )
        aide.full_clean()
        aide._history_user = user
        aide.save()
        _suivre_aide(aide, {})
    return aide


def aide_corriger_montant(*, user, aide: Aide, montant, motif: str) -> Aide:
    """Correct the amount of a proposed aide (a typo): the rules are checked again and
    the correction, with its reason, is in the aide's history."""
    montant = montant_euros(montant)
    motif = (motif or "").strip()
    if not motif:
        raise OperationRefusee("Le motif de la correction est obligatoire.", code="motif")
    with transaction.atomic():
        aide = _aide_verrouillee(aide, avec_enveloppe=True)
        _verifier_agent_enveloppe(user, aide.enveloppe)
        if aide.statut != Aide.Statut.PROPOSEE:
            raise OperationRefusee(
                "Seul le montant d'une aide proposée peut être corrigé (celle-ci est "
                f"« {aide.get_statut_display().lower()} ») ; sinon, annulez-la.",
                code="etat",
            )
        projet = _verrouiller_projets(aide.enveloppe, aide.projet_id)
        _refuser_si(
            regles.refus_aide(
                enveloppe=aide.enveloppe,
                projet=projet,
                montant=montant,
                nature=aide.nature,
                aide=aide,
                jour=regles.date_octroi(aide),
            )
        )
        avant = contribution_aide(aide.statut, aide.montant)
        aide.montant = montant
        aide.full_clean()
        aide._history_user = user
        aide._change_reason = f"Correction du montant : {motif}"
        aide.save()
        _suivre_aide(aide, avant)
    return aide


def _reverifier(aide: Aide, *, jour: date) -> None:
    """Commitment and signature check the rules again (the dossier, the territory's other
    aids or the undertaking's de minimis cumul may have changed since the proposal)."""
    projet = _verrouiller_projets(aide.enveloppe, aide.projet_id)
    _refuser_si(
        regles.refus_aide(
            enveloppe=aide.enveloppe,
            projet=projet,
            montant=aide.montant,
            nature=aide.nature,
            aide=aide,
            jour=jour,
        )
    )


def _aide_verrouillee(aide: Aide, *, avec_enveloppe: bool) -> Aide:
    if avec_enveloppe:
        # Lock the envelope first (stable order), then the aide.
        enveloppe_id = Aide.objects.values_list("enveloppe_id", flat=True).get(pk=aide.pk)
        Enveloppe.objects.select_for_update().filter(pk=enveloppe_id).first()
    return (
        Aide.objects.select_for_update(of=("self",))
        .select_related(
            "enveloppe__dispositif__phase", "enveloppe__region", "enveloppe__territoire"
        )
        .get(pk=aide.pk)
    )


def _changer_statut(aide: Aide, user, statut: str, **champs) -> Aide:
    """Change a locked aide's status (and fields) and its envelope's totals; the caller
    holds the envelope's lock, taken before the aide's."""
    avant = contribution_aide(aide.statut, aide.montant)
    aide.statut = statut
    for champ, valeur in champs.items():
        setattr(aide, champ, valeur)
    aide.full_clean()
    aide._history_user = user
    aide.save()
    _suivre_aide(aide, avant)
    return aide


def aide_engager(
    *, user, aide: Aide, reference_decision: str = "", date_decision: date | None = None
) -> Aide:
    """Commit a proposed aide: the envelope must hold the amount."""
    with transaction.atomic():
        aide = _aide_verrouillee(aide, avec_enveloppe=True)
        _verifier_agent_enveloppe(user, aide.enveloppe)
        if aide.statut != Aide.Statut.PROPOSEE:
            raise OperationRefusee(
                f"Seule une aide proposée peut être engagée (celle-ci est "
                f"« {aide.get_statut_display().lower()} »).",
                code="etat",
            )
        date_decision = date_decision or aide.date_decision or date.today()
        _reverifier(aide, jour=date_decision)
        engage = _somme(aide.enveloppe.aides.engagees())
        disponible = aide.enveloppe.montant - engage
        if aide.montant > disponible:
            raise OperationRefusee(
                f"Enveloppe insuffisante : {_euros(aide.montant)} demandés, "
                f"{_euros(disponible)} disponibles sur « {aide.enveloppe} ».",
                code="enveloppe_depassee",
            )
        notifications.planifier_aide(aide=aide, evenement=Aide.Statut.ENGAGEE)
        return _changer_statut(
            aide,
            user,
            Aide.Statut.ENGAGEE,
            reference_decision=reference_decision or aide.reference_decision,
            date_decision=date_decision,
        )


def aide_conventionner(
    *,
    user,
    aide: Aide,
    date_convention: date,
    versement_modalite: str = "",
    versement_debut: date | None = None,
    versement_fin: date | None = None,
) -> Aide:
    """Sign the convention, with its payment schedule (published in the SCDL file):
    one planned date for a single payment, a first and a last date when staggered."""
    with transaction.atomic():
        # The envelope's lock first: its totals move.
        aide = _aide_verrouillee(aide, avec_enveloppe=True)
        _verifier_agent_enveloppe(user, aide.enveloppe)
        if aide.statut != Aide.Statut.ENGAGEE:
            raise OperationRefusee("Seule une aide engagée peut être conventionnée.", code="etat")
        if date_convention is None:
            raise OperationRefusee("La date de la convention est obligatoire.", code="date")
        if versement_modalite not in ModaliteVersement.values or versement_debut is None:
            raise OperationRefusee(
                "L'échéancier de versement de la convention est obligatoire : versement "
                "unique ou échelonné, et sa date (ou sa première date).",
                code="echeancier",
            )
        if versement_modalite == ModaliteVersement.ECHELONNE and (
            versement_fin is None or versement_fin <= versement_debut
        ):
            raise OperationRefusee(
                "Versements échelonnés : indiquez la date du dernier versement prévu, "
                "après la première.",
                code="echeancier",
            )
        if versement_modalite == ModaliteVersement.UNIQUE:
            versement_fin = None
        _reverifier(aide, jour=regles.date_octroi(aide))
        notifications.planifier_aide(aide=aide, evenement=Aide.Statut.CONVENTIONNEE)
        return _changer_statut(
            aide,
            user,
            Aide.Statut.CONVENTIONNEE,
            date_convention=date_convention,
            versement_modalite=versement_modalite,
            versement_debut=versement_debut,
            versement_fin=versement_fin,
        )


def aide_annuler(*, user, aide: Aide, motif: str) -> Aide:
    """Cancel an aide; its amount returns to the envelope. Paid aides cannot be cancelled."""
    motif = (motif or "").strip()
    if not motif:
        raise OperationRefusee("Le motif d'annulation est obligatoire.", code="motif")
    with transaction.atomic():
        aide = _aide_verrouillee(aide, avec_enveloppe=True)
        _verifier_agent_enveloppe(user, aide.enveloppe)
        if aide.statut not in Aide.STATUTS_VIVANTS:
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
        # The envelope's lock first: its paid total moves.
        aide = _aide_verrouillee(aide, avec_enveloppe=True)
        _verifier_agent_enveloppe(user, aide.enveloppe)
        if aide.statut not in (Aide.Statut.ENGAGEE, Aide.Statut.CONVENTIONNEE):
            raise OperationRefusee(
                "Un versement n'est possible que sur une aide engagée ou conventionnée "
                f"(celle-ci est « {aide.get_statut_display().lower()} »).",
                code="etat",
            )
        statut_projet = Projet.objects.values_list("statut", flat=True).get(pk=aide.projet_id)
        if statut_projet in STATUTS_PROJET_CLOS or aide.projet_id in _abandons_demandes(
            [aide.projet_id]
        ):
            raise OperationRefusee(
                "Aucun versement sur une aide dont le dossier est abandonné, refusé ou clos "
                "(ou dont l'abandon est demandé).",
                code="projet_clos",
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
        _ajuster_totaux(aide.enveloppe_id, {"total_verse": montant})
        notifications.planifier_versement(versement=versement)
        if montant == reste:
            if aide.date_convention is None:
                aide.date_convention = date_versement
            _changer_statut(aide, user, Aide.Statut.SOLDEE)
    return versement


def _abandons_demandes(projet_pks) -> set:
    return set(
        Projet.objects.filter(pk__in=projet_pks, abandon_demande_le__isnull=False).values_list(
            "pk", flat=True
        )
    )


def aides_vivantes_du_projet(projet: Projet) -> list[str]:
    """French descriptions of the aids still live on `projet` (registered with
    `projets.services.ARGENT_VIVANT`: a dossier carrying one cannot close)."""
    return [
        f"aide {aide.get_statut_display().lower()} de {_euros(aide.montant)} "
        f"({aide.enveloppe.dispositif})"
        for aide in Aide.objects.filter(projet=projet, statut__in=Aide.STATUTS_VIVANTS)
        .select_related("enveloppe__dispositif")
        .order_by("pk")
    ]


def conditions_pour_retenir(projet: Projet) -> list[str]:
    """Registered with `projets.services.CONDITIONS_RETENIR`: when every dispositif that may
    fund the dossier's phase requires a favourable regional review (Fonds d'accélération
    for 2018-2022), `retenir` needs one."""
    dispositifs = Dispositif.objects.filter(
        models_Q(phase=projet.phase_id) | models_Q(phase__isnull=True)
    )
    exigences = set(dispositifs.values_list("revue_favorable_requise", flat=True))
    if exigences != {True} or regles.avis_favorable(projet):
        return []
    noms = ", ".join(f"« {d} »" for d in dispositifs.order_by("nom"))
    return [
        f"Règle du dispositif {noms} : un dossier n'est retenu qu'après un avis favorable "
        "d'une revue régionale d'accélération de sa région."
    ]


def projet_abandon_regler(
    *,
    user,
    projet: Projet,
    date_ordre_reversement: date,
    commentaire: str = "",
) -> Projet:
    """Settle a lead's abandonment request on a funded dossier, then record it.

    Each live aid: without payment, it is cancelled (its amount returns to the envelope);
    with payments, it is « résiliée »: its amount becomes what was paid, the rest of the
    commitment is released to the envelope, no further payment is accepted and the paid
    amount is recorded as « à reverser » (recovery order, amount and date). Every euro
    stays accounted: initial amount = paid (to recover) + released."""
    from projets import services as projets_services

    if date_ordre_reversement is None:
        raise OperationRefusee("La date de l'ordre de reversement est obligatoire.", code="date")
    with transaction.atomic():
        etat = Projet.objects.values_list("abandon_demande_le", "statut").get(pk=projet.pk)
        if etat[0] is None or etat[1] in STATUTS_PROJET_CLOS:
            raise OperationRefusee(
                "Aucune demande d'abandon en attente sur ce dossier.", code="pas_de_demande"
            )
        aides = list(
            Aide.objects.filter(projet_id=projet.pk, statut__in=Aide.STATUTS_VIVANTS)
            .order_by("enveloppe_id", "pk")
            .values_list("pk", "enveloppe_id")
        )
        # Stable order: envelopes, then aides, then the dossier (as commitments do).
        for enveloppe_id in sorted({e for _, e in aides}):
            Enveloppe.objects.select_for_update().filter(pk=enveloppe_id).first()
        motif = f"Abandon du dossier demandé par le porteur. {commentaire}".strip()
        for pk, _ in aides:
            aide = _aide_verrouillee(Aide(pk=pk), avec_enveloppe=False)
            _verifier_agent_enveloppe(user, aide.enveloppe)
            verse = _somme(aide.versements.all())
            if not verse:
                _changer_statut(aide, user, Aide.Statut.ANNULEE, motif_annulation=motif)
                continue
            _changer_statut(
                aide,
                user,
                Aide.Statut.RESILIEE,
                motif_annulation=motif,
                montant_libere=aide.montant - verse,
                montant=verse,
                montant_a_reverser=verse,
                date_ordre_reversement=date_ordre_reversement,
            )
        try:
            projets_services.projet_abandon_constater(
                projet=projet, user=user, commentaire=commentaire
            )
        except ValidationError as refus:
            raise OperationRefusee(refus.messages, code="abandon") from refus
    projet.refresh_from_db()
    return projet
