"""Partner token issue and revocation: the only writers of `JetonPartenaire`."""

import base64
import json
import secrets
import uuid
from datetime import timedelta
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from comptes.audit import journaliser
from territoires.models import Habilitation
from territoires.perimetre import est_national, habilitation_de, peut_administrer

from .models import PREFIXE_LONGUEUR, JetonPartenaire, empreinte_secret

ROLES_TITULAIRES = (Habilitation.Role.PARTENAIRE, Habilitation.Role.AGENT)


def _verifier_equipe_nationale(user) -> None:
    if not (est_national(user) and peut_administrer(user)):
        raise PermissionDenied("Seuls les administrateurs nationaux gèrent les jetons d'API.")


def jeton_emettre(*, par, jeton: JetonPartenaire) -> str:
    """Save the unsaved `jeton` with a fresh secret; return the secret (shown once)."""
    _verifier_equipe_nationale(par)
    if jeton.pk is not None:
        raise ValidationError("Ce jeton est déjà émis.")
    habilitation = habilitation_de(jeton.user) if jeton.user_id else None
    if not (jeton.user_id and jeton.user.is_superuser) and (
        habilitation is None or habilitation.role not in ROLES_TITULAIRES
    ):
        raise ValidationError(
            {"user": "Le titulaire doit être un compte partenaire ou agent habilité."}
        )
    secret = secrets.token_urlsafe(32)
    jeton.prefixe = secret[:PREFIXE_LONGUEUR]
    jeton.empreinte = empreinte_secret(secret)
    jeton.cree_par = par
    with transaction.atomic():
        jeton.full_clean()
        jeton.save()
        journaliser(
            "jeton",
            user=par,
            objet=jeton,
            action="emission",
            titulaire=jeton.user.get_username() if jeton.user_id else "",
            niveau=jeton.niveau,
            prefixe=jeton.prefixe,
        )
    return secret


def jeton_revoquer(*, par, jeton: JetonPartenaire) -> JetonPartenaire:
    """Revoke for good (idempotent); the row stays for the record."""
    _verifier_equipe_nationale(par)
    with transaction.atomic():
        jeton = JetonPartenaire.objects.select_for_update().get(pk=jeton.pk)
        if jeton.revoque_le is None:
            jeton.revoque_le = timezone.now()
            jeton.revoque_par = par
            jeton.save(update_fields=["revoque_le", "revoque_par"])
            journaliser(
                "jeton",
                user=par,
                objet=jeton,
                action="revocation",
                titulaire=jeton.user.get_username() if jeton.user_id else "",
                prefixe=jeton.prefixe,
            )
    return jeton


# ---------------------------------------------------------------------------
# Webhooks (Standard Webhooks): subscriptions, distribution from the changes feed,
# signed deliveries with retries and backoff, deactivation after repeated failures.

MAX_TENTATIVES = 5
# Delay before attempt n + 1 after the n-th failure.
ATTENTES = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
)
# Consecutive failed attempts (any delivery) after which the subscription is disabled.
SEUIL_DESACTIVATION = 10


MAX_ABONNEMENTS_PAR_JETON = 10


def _verifier_gestionnaire(par, jeton: JetonPartenaire) -> None:
    """The national team, or the token's own holder (partner self-service)."""
    if jeton.user_id == getattr(par, "pk", None) and par.is_active:
        return
    if not (est_national(par) and peut_administrer(par)):
        raise PermissionDenied("Vous ne gérez que les abonnements de vos propres jetons.")


def _nouveau_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def abonnement_creer(
    *, par, jeton: JetonPartenaire, url: str, evenements: list, actif: bool = True
) -> tuple:
    """Register `url` for `evenements` of what `jeton` may read; returns (abonnement,
    secret) — the secret signs every delivery, it is shown once. By the national team
    or by the token's holder."""
    from .flux import SOURCES, coder_curseur
    from .models import AbonnementWebhook

    _verifier_gestionnaire(par, jeton)
    if jeton.est_revoque or jeton.est_expire:
        raise ValidationError({"jeton": "Ce jeton est révoqué ou expiré."})
    if jeton.abonnements.count() >= MAX_ABONNEMENTS_PAR_JETON:
        raise ValidationError(
            {
                "jeton": f"Un jeton porte au plus {MAX_ABONNEMENTS_PAR_JETON} abonnements : "
                "supprimez-en un avant d'en créer un autre."
            }
        )
    secret = _nouveau_secret()
    abonnement = AbonnementWebhook(
        jeton=jeton,
        url=url,
        evenements=evenements,
        secret=secret,
        actif=bool(actif),
        # Starts now: past changes are in the feed, not pushed again.
        curseur=coder_curseur(timezone.now(), len(SOURCES), 0),
    )
    with transaction.atomic():
        abonnement.full_clean()
        abonnement.save()
        journaliser("jeton", user=par, objet=abonnement, action="abonnement_webhook", url=url)
    return abonnement, secret


def abonnement_modifier(
    *, par, abonnement, url: str | None = None, evenements: list | None = None, actif=None
):
    """Change the address, the events or the active flag (None: unchanged). Turning a
    subscription back on clears its failure count."""
    _verifier_gestionnaire(par, abonnement.jeton)
    with transaction.atomic():
        abonnement = _abonnement_verrouille(abonnement.pk)
        if url is not None:
            abonnement.url = url
        if evenements is not None:
            abonnement.evenements = evenements
        if actif is not None:
            if actif and not abonnement.actif:
                if abonnement.jeton.est_revoque or abonnement.jeton.est_expire:
                    raise ValidationError({"actif": "Ce jeton est révoqué ou expiré."})
                abonnement.echecs_consecutifs = 0
                abonnement.desactive_le = None
                abonnement.motif_desactivation = ""
            elif not actif and abonnement.actif:
                abonnement.desactive_le = timezone.now()
                abonnement.motif_desactivation = "Désactivé par son titulaire."
            abonnement.actif = bool(actif)
        abonnement.full_clean()
        abonnement.save()
        journaliser(
            "jeton",
            user=par,
            objet=abonnement,
            action="abonnement_webhook_modification",
            url=abonnement.url,
            actif=abonnement.actif,
        )
    return abonnement


def abonnement_renouveler_secret(*, par, abonnement) -> str:
    """A new signing secret (shown once); the old one stops signing at once."""
    _verifier_gestionnaire(par, abonnement.jeton)
    secret = _nouveau_secret()
    with transaction.atomic():
        abonnement = _abonnement_verrouille(abonnement.pk)
        abonnement.secret = secret
        abonnement.save(update_fields=["secret"])
        journaliser(
            "jeton",
            user=par,
            objet=abonnement,
            action="abonnement_webhook_secret",
            url=abonnement.url,
        )
    return secret


def abonnement_supprimer(*, par, abonnement) -> None:
    """Delete a subscription and its delivery log (no money here; the audit keeps it)."""
    _verifier_gestionnaire(par, abonnement.jeton)
    with transaction.atomic():
        abonnement = _abonnement_verrouille(abonnement.pk)
        journaliser(
            "jeton",
            user=par,
            objet=abonnement,
            action="abonnement_webhook_suppression",
            url=abonnement.url,
        )
        abonnement.delete()


def _acces_du_jeton(jeton: JetonPartenaire):
    from .acces import Acces

    return Acces(
        user=jeton.user, complet=jeton.niveau == JetonPartenaire.Niveau.COMPLET, jeton=jeton
    )


def webhooks_distribuer(*, maintenant=None) -> dict:
    """Turn the feed's new entries into deliveries for each active subscription (its
    token's scope), then enqueue every delivery that is due. Run by the task worker
    (`manage.py distribuer_webhooks`, every minute)."""
    from .flux import changements, coder_curseur, decoder_curseur
    from .models import AbonnementWebhook, LivraisonWebhook

    maintenant = maintenant or timezone.now()
    creees = 0
    for abonnement in AbonnementWebhook.objects.filter(actif=True).select_related("jeton__user"):
        if abonnement.jeton.est_revoque or abonnement.jeton.est_expire:
            continue
        acces = _acces_du_jeton(abonnement.jeton)
        position = decoder_curseur(abonnement.curseur) if abonnement.curseur else None
        while True:
            entrees, dernier, encore = changements(acces, position=position, taille=500)
            with transaction.atomic():
                for entree in entrees:
                    evenement = f"{entree['ressource']}.{entree['evenement']}"
                    if evenement not in abonnement.evenements:
                        continue
                    identifiant = f"msg_{uuid.uuid4().hex}"
                    LivraisonWebhook.objects.create(
                        abonnement=abonnement,
                        identifiant=identifiant,
                        evenement=evenement,
                        corps=json.dumps(
                            {"type": evenement, "timestamp": entree["date"], "data": entree},
                            ensure_ascii=False,
                        ),
                    )
                    creees += 1
                if dernier is not None:
                    abonnement.curseur = coder_curseur(*dernier)
                    abonnement.save(update_fields=["curseur"])
            position = dernier
            if not encore:
                break
    dues = list(
        LivraisonWebhook.objects.filter(
            statut=LivraisonWebhook.Statut.EN_ATTENTE, abonnement__actif=True
        )
        .filter(Q(prochaine_tentative__isnull=True) | Q(prochaine_tentative__lte=maintenant))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in dues:
        webhook_livrer.enqueue(livraison_id=pk)
    return {"creees": creees, "envoyees": len(dues)}


def livraison_tenter(*, livraison_id: int, maintenant=None):
    """One signed POST of a delivery; its outcome, retry date or abandonment recorded."""
    import requests
    from standardwebhooks.webhooks import Webhook

    from commun.reseau import AdresseRefusee, poster

    from .models import LivraisonWebhook

    maintenant = maintenant or timezone.now()
    livraison = (
        LivraisonWebhook.objects.select_related("abonnement__jeton__user")
        .filter(pk=livraison_id, statut=LivraisonWebhook.Statut.EN_ATTENTE)
        .first()
    )
    if livraison is None or not livraison.abonnement.actif:
        return None
    abonnement = livraison.abonnement
    signature = Webhook(abonnement.secret).sign(livraison.identifiant, maintenant, livraison.corps)
    entetes = {
        "content-type": "application/json",
        "user-agent": "territoires-industrie-webhooks/1",
        "webhook-id": livraison.identifiant,
        "webhook-timestamp": str(int(maintenant.timestamp())),
        "webhook-signature": signature,
    }
    code, erreur = None, ""
    try:
        code, extrait = poster(abonnement.url, corps=livraison.corps.encode(), entetes=entetes)
        if not 200 <= code < 300:
            erreur = f"Réponse HTTP {code}"
            texte = extrait[:300].decode("utf-8", errors="replace").strip()
            if texte:
                erreur += f" : {texte}"
    except AdresseRefusee as exc:
        erreur = str(exc)
    except requests.RequestException as exc:
        erreur = f"{type(exc).__name__} : {exc}"[:1000]
    with transaction.atomic():
        livraison = LivraisonWebhook.objects.select_for_update().get(pk=livraison.pk)
        abonnement = _abonnement_verrouille(abonnement.pk)
        livraison.tentatives += 1
        livraison.code_http = code
        livraison.derniere_erreur = erreur
        if not erreur:
            livraison.statut = LivraisonWebhook.Statut.LIVREE
            livraison.livree_le = maintenant
            livraison.prochaine_tentative = None
            abonnement.echecs_consecutifs = 0
        else:
            abonnement.echecs_consecutifs += 1
            if livraison.tentatives >= MAX_TENTATIVES:
                livraison.statut = LivraisonWebhook.Statut.ABANDONNEE
                livraison.prochaine_tentative = None
            else:
                livraison.prochaine_tentative = maintenant + ATTENTES[livraison.tentatives - 1]
            if abonnement.actif and abonnement.echecs_consecutifs >= SEUIL_DESACTIVATION:
                _desactiver(abonnement, maintenant, erreur)
        livraison.save()
        abonnement.save(
            update_fields=["echecs_consecutifs", "actif", "desactive_le", "motif_desactivation"]
        )
    return livraison


def _abonnement_verrouille(pk):
    from .models import AbonnementWebhook

    return AbonnementWebhook.objects.select_for_update().select_related("jeton__user").get(pk=pk)


def _desactiver(abonnement, maintenant, erreur: str) -> None:
    from django.conf import settings
    from django.core.mail import send_mail

    abonnement.actif = False
    abonnement.desactive_le = maintenant
    abonnement.motif_desactivation = (
        f"{abonnement.echecs_consecutifs} échecs consécutifs ; dernier : {erreur}"
    )[:300]
    destinataire = abonnement.jeton.user.email
    if destinataire:
        transaction.on_commit(
            partial(
                send_mail,
                "Territoires d'industrie : votre abonnement webhook est désactivé",
                f"Bonjour,\n\nLes envois vers {abonnement.url} ont échoué "
                f"{abonnement.echecs_consecutifs} fois de suite (dernière erreur : {erreur}). "
                "L'abonnement est désactivé : les changements restent disponibles dans le "
                f"flux {settings.SITE_URL}/api/v1/changements/. Une fois votre point de "
                f"réception rétabli, réactivez-le dans votre espace partenaire "
                f"({settings.SITE_URL}/espace-partenaire/) ou par l'API "
                "(/api/v1/webhooks/).\n",
                None,
                [destinataire],
            )
        )


@task()
def webhook_livrer(livraison_id: int) -> None:
    """Background task (ids only): one delivery attempt."""
    livraison_tenter(livraison_id=livraison_id)
