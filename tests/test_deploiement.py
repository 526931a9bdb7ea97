"""Scale-out wiring: read replica routing, Redis cache, S3 storage configuration."""

import os
import socket
import subprocess
import sys

import pytest
from django.test import RequestFactory

from config.routeurs import LectureReplicaMiddleware, ReplicaRouter
from territoires.models import Region


def _reglage(code: str, **env) -> str:
    environnement = dict(os.environ, **env)
    resultat = subprocess.run(
        [sys.executable, "-c", f"import config.settings as s; print({code})"],
        env=environnement,
        capture_output=True,
        text=True,
        check=True,
    )
    return resultat.stdout.strip()


@pytest.fixture
def replique_simulee(monkeypatch):
    """A configured, reachable replica (routing decisions only: no second database)."""
    from commun import routage

    etat = {"joignable": True, "rejoue": True}
    monkeypatch.setattr(routage, "replique_configuree", lambda: True)
    monkeypatch.setattr(routage, "replique_joignable", lambda: etat["joignable"])
    monkeypatch.setattr(routage, "replique_a_rejoue", lambda position: etat["rejoue"])
    monkeypatch.setattr(routage, "position_primaire", lambda: "0/1234")
    return etat


def test_lectures_api_vers_la_replique(replique_simulee):
    routeur = ReplicaRouter()
    middleware = LectureReplicaMiddleware(lambda request: routeur.db_for_read(Region))
    assert middleware(RequestFactory().get("/api/v1/regions/")) == "replica"
    assert middleware(RequestFactory().post("/api/v1/regions/")) == "default"
    assert middleware(RequestFactory().get("/admin/")) == "default"
    assert routeur.db_for_read(Region) == "default"  # outside any request
    assert routeur.db_for_write(Region) == "default"
    assert routeur.allow_migrate("replica", "territoires") is False


def test_replique_injoignable_lectures_sur_le_primaire(replique_simulee):
    """Before: a stopped replica made the whole API answer 503."""
    routeur = ReplicaRouter()
    middleware = LectureReplicaMiddleware(lambda request: routeur.db_for_read(Region))
    replique_simulee["joignable"] = False
    assert middleware(RequestFactory().get("/api/v1/regions/")) == "default"
    replique_simulee["joignable"] = True
    assert middleware(RequestFactory().get("/api/v1/regions/")) == "replica"


def test_lire_ses_ecritures(replique_simulee, settings):
    """After a write, the same browser reads from the primary until the replica has
    replayed it, or for LECTURE_PRIMAIRE_SECONDES. Before: a payment recorded in the
    back-office was a 404 through the API for seconds."""
    from django.http import HttpResponse

    from config.routeurs import COOKIE

    routeur = ReplicaRouter()

    def ecrire(request):
        routeur.db_for_write(Region)
        return HttpResponse(status=302)

    reponse = LectureReplicaMiddleware(ecrire)(RequestFactory().post("/admin/x/"))
    cookie = reponse.cookies[COOKIE]
    assert cookie["max-age"] == settings.LECTURE_PRIMAIRE_SECONDES
    lire = LectureReplicaMiddleware(lambda request: routeur.db_for_read(Region))
    requete = RequestFactory().get("/api/v1/regions/")
    requete.COOKIES[COOKIE] = cookie.value
    replique_simulee["rejoue"] = False  # the replica lags behind the write
    assert lire(requete) == "default"
    replique_simulee["rejoue"] = True  # the replica has replayed it
    assert lire(requete) == "replica"
    # A forged or foreign cookie pins nothing; a request that wrote nothing sets none.
    requete.COOKIES[COOKIE] = "faux"
    assert lire(requete) == "replica"
    reponse = LectureReplicaMiddleware(lambda r: HttpResponse())(RequestFactory().post("/x/"))
    assert COOKIE not in reponse.cookies


def test_sans_replique_tout_va_au_primaire():
    routeur = ReplicaRouter()
    middleware = LectureReplicaMiddleware(lambda r: routeur.db_for_read(Region))
    assert middleware(RequestFactory().get("/api/v1/regions/")) == "default"


def test_replique_configuree_par_l_environnement():
    assert (
        _reglage(
            "sorted(s.DATABASES)",
            DATABASE_REPLICA_URL="postgres://lecteur@127.0.0.1:5432/replique",
        )
        == "['default', 'replica']"
    )


def test_redis_et_s3_configures_par_l_environnement():
    assert "CacheRedisTolerant" in _reglage(
        "s.CACHES['default']['BACKEND']", REDIS_URL="redis://127.0.0.1:6379/1"
    )
    assert _reglage("s.STORAGES['default']['BACKEND']", S3_BUCKET="pieces") == (
        "storages.backends.s3.S3Storage"
    )
    assert _reglage("s.STORAGES['default']['BACKEND']") == (
        "django.core.files.storage.FileSystemStorage"
    )


def _redis_disponible() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _redis_disponible(), reason="Redis absent sur 127.0.0.1:6379")
def test_cache_redis_aller_retour():
    from django.core.cache.backends.redis import RedisCache

    cache = RedisCache("redis://127.0.0.1:6379/15", {})
    cache.set("ti-test", {"ok": 1}, 10)
    assert cache.get("ti-test") == {"ok": 1}
    cache.delete("ti-test")


def test_collectstatic_de_production(tmp_path):
    """`make serve` collects hashed, compressed files: every reference must resolve
    (a vendored script pointing to a missing source map made it fail)."""
    env = dict(
        os.environ,
        DEBUG="false",
        SECRET_KEY="s" * 50,
        STATIC_ROOT=str(tmp_path),
        DATABASE_URL="sqlite:///:memory:",
    )
    resultat = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert resultat.returncode == 0, resultat.stderr[-1500:]
    assert (tmp_path / "staticfiles.json").exists()


def test_rapport_d_erreurs_optionnel():
    """SENTRY_DSN set: errors are reported (Sentry SDK with the Django integration)."""
    code = (
        "sentry_sdk.get_client().is_active() and 'django' in sentry_sdk.get_client().integrations"
    )
    assert _reglage("__import__('sentry_sdk').get_client().is_active()") == "False"
    assert (
        _reglage(
            f"(lambda sentry_sdk: {code})(__import__('sentry_sdk'))",
            SENTRY_DSN="https://cle@erreurs.example/1",
        )
        == "True"
    )
