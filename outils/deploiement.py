"""The production topology on this machine, on private ports, for the `deploiement`
tests (tests/test_deploiement_reel.py) and docs/deploiement.md's measurements:

- a PostgreSQL primary and a streaming replica (`initdb`, `pg_basebackup -R`);
- Redis (`redis-server --port`);
- gunicorn with the options of `make serve` (`make -s options-gunicorn`);
- task workers (`manage.py travailleur`), as many as asked.

Each part can be stopped and started again while the others run.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import requests
from django.conf import settings

from .resilience import _binaire, _en_postgres, _manage

PORT_PRIMAIRE = 55301
PORT_REPLIQUE = 55302
PORT_REDIS = 55303
PORT_WEB = 55304


def _attendre(condition, delai=30.0, pas=0.1, message="délai dépassé"):
    fin = time.monotonic() + delai
    while time.monotonic() < fin:
        if condition():
            return
        time.sleep(pas)
    raise TimeoutError(message)


class Grappe:
    """One PostgreSQL server (a data directory and a port)."""

    def __init__(self, dossier, nom, port):
        self.dossier = dossier
        self.donnees = os.path.join(dossier, nom)
        self.port = port
        self.journal = os.path.join(dossier, f"{nom}.log")

    def _pg_ctl(self, *arguments):
        options = f"-p {self.port} -k {self.dossier} -c listen_addresses=127.0.0.1"
        return _en_postgres(
            [_binaire("pg_ctl"), "-D", self.donnees, "-o", options, "-l", self.journal, *arguments]
        )

    def demarrer(self):
        subprocess.run(self._pg_ctl("-w", "start"), check=True, capture_output=True)

    def arreter(self, mode="fast"):
        subprocess.run(self._pg_ctl("-w", "-m", mode, "stop"), capture_output=True)

    def sql(self, requete, base="ti"):
        resultat = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", base]
            + ["-Atc", requete],
            check=True,
            capture_output=True,
            text=True,
        )
        return resultat.stdout.strip()

    def url(self, base="ti"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{base}"


@dataclass
class Topologie:
    dossier: str
    primaire: Grappe
    replique: Grappe
    env: dict
    processus: dict = field(default_factory=dict)
    travailleurs: list = field(default_factory=list)

    @property
    def base(self):
        return f"http://127.0.0.1:{PORT_WEB}"

    # Redis ------------------------------------------------------------------
    def demarrer_redis(self):
        self.processus["redis"] = subprocess.Popen(
            ["redis-server", "--port", str(PORT_REDIS), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", self.dossier],
            stdout=subprocess.DEVNULL,
        )
        _attendre(self._redis_repond, message="Redis ne démarre pas")

    def _redis_repond(self):
        import redis

        try:
            return redis.Redis(port=PORT_REDIS, socket_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def arreter_redis(self):
        self._arreter("redis")

    # gunicorn and workers ----------------------------------------------------------
    def demarrer_web(self):
        options = subprocess.run(
            ["make", "-s", "options-gunicorn"],
            cwd=settings.BASE_DIR,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        self.processus["web"] = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "config.wsgi", *options]
            + ["--bind", f"127.0.0.1:{PORT_WEB}", "--log-level", "warning"],
            env=self.env,
            cwd=settings.BASE_DIR,
        )

        def repond():
            try:
                return requests.get(f"{self.base}/sante/", timeout=2).status_code in (200, 503)
            except requests.RequestException:
                return False

        _attendre(repond, delai=60, message="gunicorn ne répond pas")

    def demarrer_travailleur(self):
        processus = subprocess.Popen(
            [sys.executable, "manage.py", "travailleur", "--interval", "0.2", "--no-startup-delay"],
            env=self.env,
            cwd=settings.BASE_DIR,
        )
        self.travailleurs.append(processus)
        return processus

    def arreter_travailleurs(self):
        for processus in self.travailleurs:
            processus.send_signal(signal.SIGTERM)
        for processus in self.travailleurs:
            try:
                processus.wait(timeout=20)
            except subprocess.TimeoutExpired:
                processus.kill()
        self.travailleurs.clear()

    def _arreter(self, nom):
        processus = self.processus.pop(nom, None)
        if processus is not None:
            processus.send_signal(signal.SIGTERM)
            try:
                processus.wait(timeout=30)
            except subprocess.TimeoutExpired:
                processus.kill()

    def manage(self, *arguments):
        _manage(self.env, *arguments)

    def replique_rattrapee(self):
        """Wait until the replica has replayed everything the primary wrote."""
        position = self.primaire.sql("SELECT pg_current_wal_lsn()")
        _attendre(
            lambda: self.replique.sql(f"SELECT pg_last_wal_replay_lsn() >= '{position}'") == "t",
            message="la réplique ne rattrape pas le primaire",
        )

    def fermer(self):
        self.arreter_travailleurs()
        self._arreter("web")
        self._arreter("redis")
        self.replique.arreter("immediate")
        self.primaire.arreter("immediate")
        shutil.rmtree(self.dossier, ignore_errors=True)


def demarrer(**env_en_plus) -> Topologie:
    """Primary + replica + Redis + gunicorn (workers on demand), data loaded."""
    dossier = tempfile.mkdtemp(prefix="ti-deploiement-")
    if os.geteuid() == 0:
        shutil.chown(dossier, "postgres", "postgres")
    primaire = Grappe(dossier, "primaire", PORT_PRIMAIRE)
    replique = Grappe(dossier, "replique", PORT_REPLIQUE)
    topologie = None
    try:
        subprocess.run(
            _en_postgres(
                [_binaire("initdb"), "-D", primaire.donnees, "-A", "trust", "-U", "postgres"]
                + ["--no-sync"]
            ),
            check=True,
            capture_output=True,
        )
        with open(os.path.join(primaire.donnees, "postgresql.auto.conf"), "a") as conf:
            conf.write("fsync = off\nwal_level = replica\nmax_wal_senders = 5\n")
        primaire.demarrer()
        primaire.sql("CREATE DATABASE ti", base="postgres")
        env = dict(
            os.environ,
            DATABASE_URL=primaire.url(),
            DATABASE_REPLICA_URL=replique.url(),
            REDIS_URL=f"redis://127.0.0.1:{PORT_REDIS}/0",
            TACHES_BACKEND="base",
            DEBUG="false",
            SECRET_KEY="d" * 50,
            SECURE_SSL_REDIRECT="false",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            LOG_REQUETES="false",
            API_DEBIT_ANONYME="1000000/minute",
            API_DEBIT_SESSION="1000000/minute",
            CONNEXION_ECHECS_MAX="1000",
            DOUBLE_AUTHENTIFICATION="false",
            TACHES_REPRISE_SECONDES="1",
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=os.path.join(dossier, "courriels"),
            **env_en_plus,
        )
        env.pop("DJANGO_SETTINGS_MODULE", None)
        topologie = Topologie(dossier, primaire, replique, env)
        preparation = dict(env)
        preparation.pop("DATABASE_REPLICA_URL")
        preparation.pop("REDIS_URL")
        preparation["TACHES_BACKEND"] = "immediat"  # the demo's notifications: sent now
        for commande in (
            ("migrate", "--noinput"),
            ("importer_referentiel",),
            ("importer_territoires", "fixtures/referentiel/territoires-connus.csv"),
            ("importer_dispositifs",),
            ("demo",),
        ):
            debut = time.monotonic()
            _manage(preparation, *commande)
            print(f"{commande[0]} : {time.monotonic() - debut:.1f} s", flush=True)
        if not (settings.STATIC_ROOT / "staticfiles.json").exists():
            # Hashed, compressed files as `make serve` collects them (kept between runs).
            _manage(preparation, "collectstatic", "--noinput", "-v0", debug="false")
        subprocess.run(
            _en_postgres(
                [_binaire("pg_basebackup"), "-h", "127.0.0.1", "-p", str(PORT_PRIMAIRE)]
                + ["-U", "postgres", "-D", replique.donnees, "-R", "-X", "stream", "--no-sync"]
                + ["--checkpoint", "fast"]
            ),
            check=True,
            capture_output=True,
        )
        replique.demarrer()
        topologie.replique_rattrapee()
        topologie.demarrer_redis()
        topologie.demarrer_web()
        return topologie
    except BaseException:
        if topologie is not None:
            topologie.fermer()
        else:
            primaire.arreter("immediate")
            shutil.rmtree(dossier, ignore_errors=True)
        raise
