"""Signal receivers feeding the audit trail (connected in ComptesConfig.ready).

Sign-ins and lockouts come from Django's and django-axes' signals; rights changes are
caught at the model level so that every door (back-office forms, services, shell) is
recorded: Habilitation rows and their perimeter, users' is_staff / is_superuser /
is_active, groups and individual permissions.
"""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from territoires.models import Habilitation

from .audit import journaliser
from .securite import noter_activite

User = get_user_model()
CHAMPS_DROITS = ("is_active", "is_staff", "is_superuser")


@receiver(user_logged_in, dispatch_uid="audit_connexion")
def _connexion(sender, request, user, **kwargs):
    journaliser("connexion", request=request, user=user, backend=getattr(user, "backend", ""))


@receiver(user_logged_in, dispatch_uid="activite_connexion")
def _activite_a_la_connexion(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        noter_activite(request.session)


@receiver(user_login_failed, dispatch_uid="audit_echec_connexion")
def _echec_connexion(sender, credentials, request=None, **kwargs):
    details = {}
    if request is not None and getattr(request, "axes_locked_out", False):
        details["verrouille"] = True
    journaliser(
        "echec_connexion",
        request=request,
        identifiant=credentials.get("username", "") or "",
        **details,
    )


@receiver(user_logged_out, dispatch_uid="audit_deconnexion")
def _deconnexion(sender, request, user, **kwargs):
    motif = getattr(request, "motif_deconnexion", None)
    journaliser("deconnexion", request=request, user=user, **({"motif": motif} if motif else {}))


@receiver(user_locked_out, dispatch_uid="audit_verrouillage")
def _verrouillage(sender, request, username=None, ip_address=None, **kwargs):
    journaliser("verrouillage", request=request, identifiant=username or "")


# ---------------------------------------------------------------------------
# Habilitations


def _description(hab: Habilitation) -> dict:
    return {
        "role": hab.role,
        "echelon": hab.echelon,
        "niveau": hab.niveau,
        "organisation": hab.organisation,
    }


@receiver(post_save, sender=Habilitation, dispatch_uid="audit_habilitation")
def _habilitation_enregistree(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    journaliser(
        "habilitation",
        objet=f"habilitation de {instance.user}",
        action="creation" if created else "modification",
        compte=instance.user.get_username(),
        **_description(instance),
    )


@receiver(post_save, sender=Habilitation, dispatch_uid="demandes_closes_habilitation")
def _demandes_closes(sender, instance, created, raw=False, **kwargs):
    """A habilitation created outside comptes.services (the back-office's « Habilitations »
    or a user's inline) closes the user's pending access requests: a stale request must
    never be accepted over it."""
    if raw or not created or getattr(instance, "_demandes_closes_par_le_service", False):
        return
    from .audit import requete_courante
    from .services import demandes_clore

    requete = requete_courante()
    par = getattr(requete, "user", None)
    demandes_clore(
        user=instance.user, par=par if par is not None and par.is_authenticated else None
    )


@receiver(post_delete, sender=Habilitation, dispatch_uid="audit_habilitation_suppression")
def _habilitation_supprimee(sender, instance, **kwargs):
    journaliser(
        "habilitation",
        objet=f"habilitation de {instance.user}",
        action="suppression",
        compte=instance.user.get_username(),
        **_description(instance),
    )


def _perimetre_change(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear") or reverse:
        return
    if action != "post_clear" and not pk_set:
        return
    champ = next(
        f.name for f in Habilitation._meta.many_to_many if f.remote_field.through is sender
    )
    journaliser(
        "habilitation",
        objet=f"habilitation de {instance.user}",
        action={"post_add": "ajout", "post_remove": "retrait", "post_clear": "vidage"}[action],
        compte=instance.user.get_username(),
        champ=champ,
        elements=sorted(str(o) for o in model.objects.filter(pk__in=pk_set or [])),
    )


for _champ in Habilitation._meta.many_to_many:
    m2m_changed.connect(
        _perimetre_change, sender=_champ.remote_field.through, dispatch_uid=f"audit_{_champ.name}"
    )


# ---------------------------------------------------------------------------
# Users' rights


@receiver(pre_save, sender=User, dispatch_uid="audit_droits_avant")
def _droits_avant(sender, instance, raw=False, update_fields=None, **kwargs):
    instance._droits_avant = None
    if raw or instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(CHAMPS_DROITS):
        return  # e.g. last_login on every sign-in
    instance._droits_avant = User.objects.filter(pk=instance.pk).values(*CHAMPS_DROITS).first()


@receiver(post_save, sender=User, dispatch_uid="audit_droits")
def _droits_apres(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    if created:
        avant = {"is_active": True, "is_staff": False, "is_superuser": False}
    else:
        avant = getattr(instance, "_droits_avant", None)
        if avant is None:
            return
    changes = {
        champ: [avant[champ], getattr(instance, champ)]
        for champ in CHAMPS_DROITS
        if avant[champ] != getattr(instance, champ)
    }
    if changes:
        journaliser(
            "permissions",
            objet=f"compte {instance.get_username()}",
            action="creation" if created else "modification",
            compte=instance.get_username(),
            changements=changes,
        )


def _groupes_ou_permissions(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if action != "post_clear" and not pk_set:
        return
    libelle = {"post_add": "ajout", "post_remove": "retrait", "post_clear": "vidage"}[action]
    if reverse:
        # group.user_set.add(...) or permission.user_set.add(...): one event per user.
        comptes = User.objects.filter(pk__in=pk_set or [])
        elements = [str(instance)]
    else:
        comptes = [instance]
        elements = sorted(str(o) for o in model.objects.filter(pk__in=pk_set or []))
    champ = "groups" if sender is User.groups.through else "user_permissions"
    for compte in comptes:
        journaliser(
            "permissions",
            objet=f"compte {compte.get_username()}",
            action=libelle,
            compte=compte.get_username(),
            champ=champ,
            elements=elements,
        )


m2m_changed.connect(
    _groupes_ou_permissions, sender=User.groups.through, dispatch_uid="audit_groupes"
)
m2m_changed.connect(
    _groupes_ou_permissions,
    sender=User.user_permissions.through,
    dispatch_uid="audit_permissions",
)
