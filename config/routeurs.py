"""Database routing: API reads go to the read replica, when users can trust it.

`DATABASE_REPLICA_URL` adds a `replica` database; `LectureReplicaMiddleware` lets the
reads of GET/HEAD requests under /api/ use it, except:
- read-your-writes: after a request that wrote (POST… of the portal or the back-office),
  the same browser (signed cookie) and the tokens of the same user (cache) read from the
  primary for `LECTURE_PRIMAIRE_SECONDES`, or until the replica has replayed the
  primary's log position of that write, whichever comes first;
- a replica found unreachable: reads go to the primary, and the replica is left alone for
  `REPLIQUE_PAUSE_SECONDES` (commun/routage.py), instead of a 503 for the whole API.
Everything else (writes, the admin, the portal, migrations) stays on the primary.
"""

from django.conf import settings
from django.core import signing
from django.core.cache import cache

from commun import routage
from commun.middleware import MOTS_CLES_JETON

COOKIE = "ti_ecriture"
SEL = "ti-lecture-primaire"


def _duree() -> int:
    return int(getattr(settings, "LECTURE_PRIMAIRE_SECONDES", 30))


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if routage.replique_configuree() and routage.lire_sur_replique():
            return routage.REPLIQUE
        return "default"

    def db_for_write(self, model, **hints):
        routage.noter_ecriture()
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


def _empreinte_jeton(request) -> str | None:
    mots = request.headers.get("Authorization", "").split()
    if len(mots) == 2 and mots[0].lower() in MOTS_CLES_JETON:
        from api.models import empreinte_secret

        return empreinte_secret(mots[1])
    return None


def _position_ecrite(request) -> tuple[bool, str | None]:
    """(pinned, log position) of this client's last write, if still recent."""
    valeur = request.COOKIES.get(COOKIE)
    if valeur:
        try:
            return True, signing.loads(valeur, salt=SEL, max_age=_duree()) or None
        except signing.BadSignature:
            pass
    empreinte = _empreinte_jeton(request)
    if empreinte:
        position = cache.get(f"ecriture:jeton:{empreinte}")
        if position is not None:
            return True, position or None
    return False, None


def _lire_sur_replique(request) -> bool:
    if not routage.replique_configuree():
        return False
    if request.method not in ("GET", "HEAD") or not request.path.startswith("/api/"):
        return False
    epingle, position = _position_ecrite(request)
    if epingle and (position is None or not routage.replique_a_rejoue(position)):
        return False  # read-your-writes: the replica does not show this write yet
    return routage.replique_joignable()


def _epingler(request, response) -> None:
    """After a write: this browser and the user's tokens read from the primary."""
    position = routage.position_primaire() or ""
    response.set_cookie(
        COOKIE,
        signing.dumps(position, salt=SEL),
        max_age=_duree(),
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from api.models import JetonPartenaire

        with routage.primaire():
            empreintes = JetonPartenaire.objects.filter(user=user).values_list(
                "empreinte", flat=True
            )
            cache.set_many({f"ecriture:jeton:{e}": position for e in empreintes}, _duree())


class LectureReplicaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with (
            routage.suivi_des_ecritures() as suivi,
            routage.lectures_sur_replique(_lire_sur_replique(request)),
        ):
            response = self.get_response(request)
        if (
            routage.replique_configuree()
            and suivi["a_ecrit"]
            and request.method not in ("GET", "HEAD", "OPTIONS")
        ):
            _epingler(request, response)
        return response
