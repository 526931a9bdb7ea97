"""The audit trail: one entry point, `journaliser`, for every security-relevant event.

Who calls it:
- sign-ins, failures and logouts: the auth signals (comptes.signaux);
- lockouts: django-axes' `user_locked_out` signal (comptes.signaux);
- second factor: the enrolment and code pages (comptes.securite);
- exports: the back-office export view (gestion.site) and the API CSV exports;
- rights: Habilitation and user changes (comptes.signaux), access-request decisions
  and invitations (comptes.services), API tokens (api.services).

Events are append-only rows of `comptes.EvenementAudit`, also written as one JSON line
on the `audit` logger (for a central log store).
"""

import json
import logging
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from django.db import models

from commun.clients import adresse_client

logger = logging.getLogger("audit")

LONGUEUR_USER_AGENT = 255


# The client's address under the trusted-proxy rule shared by every door.
adresse_ip = adresse_client


def requete_courante():
    """The request being served, if any (kept by simple_history's middleware): services
    and signals record the address of whoever triggered them."""
    from simple_history.models import HistoricalRecords

    return getattr(HistoricalRecords.context, "request", None)


def _serialisable(valeur):
    if valeur is None or isinstance(valeur, (str, int, float, bool)):
        return valeur
    if isinstance(valeur, dict):
        return {str(k): _serialisable(v) for k, v in valeur.items()}
    if isinstance(valeur, (list, tuple, set, frozenset)):
        return [_serialisable(v) for v in valeur]
    if isinstance(valeur, (datetime, date)):
        return valeur.isoformat()
    if isinstance(valeur, (Decimal, UUID)):
        return str(valeur)
    if isinstance(valeur, models.Model):
        return f"{valeur._meta.label}:{valeur.pk} {valeur}"
    return str(valeur)


def journaliser(type, request=None, user=None, **details):
    """Record one audit event and return it (a `comptes.models.EvenementAudit`).

    `type`: one of `EvenementAudit.Type` — "connexion", "echec_connexion",
    "deconnexion", "verrouillage", "double_authentification", "export",
    "habilitation", "permissions", "jeton".
    `request`: the current request, for the address and user agent (defaults to the
    request being served, if any); `user`: who acted (defaults to the request's
    signed-in user).
    Keyword details are stored as JSON; two are columns of their own: `identifiant`
    (the username typed, default: the user's) and `objet` (what the event concerns: a
    model instance or a text).

    Example, for an API CSV export::

        journaliser("export", request=request, ressource="projets", format="csv")
    """
    from .models import EvenementAudit

    if type not in EvenementAudit.Type.values:
        raise ValueError(f"Unknown audit event type: {type!r}")
    if request is None:
        request = requete_courante()
    if user is None and request is not None:
        courant = getattr(request, "user", None)
        if courant is not None and courant.is_authenticated:
            user = courant
    identifiant = details.pop("identifiant", None)
    if identifiant is None:
        identifiant = user.get_username() if user is not None else ""
    objet = details.pop("objet", "")
    if isinstance(objet, models.Model):
        objet = f"{objet._meta.verbose_name} n° {objet.pk} : {objet}"
    user_agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
    evenement = EvenementAudit.objects.create(
        type=type,
        user=user if user is not None and user.pk is not None else None,
        identifiant=str(identifiant)[:150],
        adresse_ip=adresse_ip(request),
        user_agent=user_agent[:LONGUEUR_USER_AGENT],
        details=_serialisable(details),
        objet=str(objet)[:255],
    )
    logger.info(
        json.dumps(
            {
                "evenement": type,
                "identifiant": evenement.identifiant,
                "ip": evenement.adresse_ip,
                "objet": evenement.objet,
                "details": evenement.details,
            },
            ensure_ascii=False,
        )
    )
    return evenement


# Reading the trail: each detail as « Libellé : valeur » in French, never a Python path,
# a code or a boolean.
LIBELLES_DETAILS = {
    "backend": "Moyen de connexion",
    "moyen": "Moyen",
    "action": "Action",
    "resultat": "Résultat",
    "motif": "Motif",
    "verrouille": "Compte verrouillé",
    "ressource": "Données exportées",
    "format": "Format",
    "filtres": "Filtres",
    "lignes": "Lignes",
    "differe": "Préparé en arrière-plan",
    "compte": "Compte",
    "email": "Adresse électronique",
    "perimetre": "Périmètre",
    "invitee_par": "Invitation envoyée par",
    "par": "Par",
    "role": "Rôle",
    "echelon": "Échelon",
    "niveau": "Niveau",
    "organisation": "Organisation",
    "champ": "Champ",
    "elements": "Éléments",
    "changements": "Changements",
    "codes": "Codes",
    "prefixe": "Préfixe du jeton",
    "titulaire": "Titulaire",
}
VALEURS_DETAILS = {
    "comptes.backends.MotDePasseBackend": "mot de passe",
    "comptes.proconnect.ProConnectBackend": "ProConnect",
    "mot_de_passe": "mot de passe",
    "proconnect": "ProConnect",
    "application": "application d'authentification",
    "code_secours": "code de secours",
    "succes": "réussite",
    "echec": "échec",
    "attente": "trop d'essais, attente demandée",
    "enrolement": "enrôlement",
    "verification": "vérification d'un code",
    "reinitialisation": "réinitialisation",
    "invitation_envoyee": "invitation envoyée",
    "invitation_acceptee": "invitation acceptée",
    "demande_acceptee": "demande acceptée",
    "demande_refusee": "demande refusée",
    "creation": "création",
    "modification": "modification",
    "suppression": "suppression",
    "ajout": "ajout",
    "retrait": "retrait",
    "vidage": "retrait de tous les éléments",
    "emission": "émission",
    "revocation": "révocation",
    "csv": "CSV",
    "xlsx": "XLSX",
    "is_staff": "accès au back-office",
    "is_superuser": "superutilisateur",
    "is_active": "compte actif",
    "regions": "régions",
    "departements": "départements",
    "territoires": "territoires",
    "groups": "groupes",
    "user_permissions": "permissions",
}


def _avant_apres(valeur) -> str:
    from commun.formats import lisible

    if isinstance(valeur, list) and len(valeur) == 2:
        return f"{lisible(valeur[0])} → {lisible(valeur[1])}"
    if isinstance(valeur, list):
        return ", ".join(lisible(v) for v in valeur)
    return lisible(valeur)


def _valeur_lisible(cle: str, valeur) -> str:
    from commun.formats import lisible, milliers

    if cle in ("role", "echelon", "niveau"):
        from territoires.models import Habilitation

        choix = {"role": Habilitation.Role, "echelon": Habilitation.Echelon}.get(
            cle, Habilitation.Niveau
        )
        return str(dict(choix.choices).get(valeur, valeur))
    if cle == "ressource" and isinstance(valeur, str) and "." in valeur:
        from django.apps import apps

        try:
            return str(apps.get_model(valeur)._meta.verbose_name_plural)
        except (LookupError, ValueError):
            return valeur
    if cle == "lignes" and isinstance(valeur, int):
        return milliers(valeur)
    if isinstance(valeur, dict):
        parties = [
            f"{VALEURS_DETAILS.get(k, k)} : "
            f"{_avant_apres(v) if cle == 'changements' else _valeur_lisible(k, v)}"
            for k, v in valeur.items()
            if v not in ("", [], None)
        ]
        return " ; ".join(parties) or "aucun"
    if isinstance(valeur, list):
        return ", ".join(_valeur_lisible(cle, v) for v in valeur) or "aucun"
    if isinstance(valeur, str):
        return VALEURS_DETAILS.get(valeur, valeur) or "—"
    return lisible(valeur)


def details_lisibles(details: dict) -> list[str]:
    """The details of an audit event as French sentences: « Moyen de connexion : mot de
    passe », « Résultat : échec »."""
    return [
        f"{LIBELLES_DETAILS.get(cle, cle.replace('_', ' ').capitalize())} : "
        f"{_valeur_lisible(cle, valeur)}"
        for cle, valeur in (details or {}).items()
    ]
