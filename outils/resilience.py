"""Database outage under load, on a throw-away PostgreSQL cluster (docs/performance.md).

1. a temporary cluster (initdb, port 5499) gets the reference data and the demo;
2. gunicorn (production settings) serves it; 32 connections read API and portal pages
   while a lead creates draft dossiers through the portal's form;
3. PostgreSQL is stopped for a while, then started again; gunicorn is never restarted;
4. every answer is counted per phase, and the database is checked afterwards: each
   dossier whole (its history row, its reference counted), none created twice.

Needs PostgreSQL's server binaries (initdb, pg_ctl); run as root, the cluster runs as
the `postgres` user.
"""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager

import requests
from django.conf import settings

PORT_PG = 5499
PAGES = [
    "/api/v1/projets/?page_size=50",
    "/api/v1/aides/?page_size=50",
    "/api/v1/territoires/",
    "/api/v1/statistiques/",
    "/",
    "/territoires/",
]


def _binaire(nom):
    trouves = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{nom}")) or [shutil.which(nom)]
    if not trouves[-1]:
        raise RuntimeError(f"{nom} introuvable : installez le serveur PostgreSQL.")
    return trouves[-1]


def _en_postgres(commande):
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *commande]
    return commande


@contextmanager
def grappe_temporaire():
    """A PostgreSQL cluster of its own (so that it can be stopped), removed afterwards."""
    dossier = tempfile.mkdtemp(prefix="ti-resilience-")
    if os.geteuid() == 0:
        shutil.chown(dossier, "postgres", "postgres")
    donnees = os.path.join(dossier, "donnees")
    subprocess.run(
        _en_postgres(
            [_binaire("initdb"), "-D", donnees, "-A", "trust", "-U", "postgres", "--no-sync"]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {PORT_PG} -k {dossier} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [_binaire("pg_ctl"), "-D", donnees, "-o", options, "-l", f"{dossier}/journal"]

    def demarrer():
        subprocess.run(_en_postgres([*pg_ctl, "-w", "start"]), check=True, capture_output=True)

    def arreter():
        subprocess.run(
            _en_postgres([*pg_ctl, "-w", "-m", "fast", "stop"]), check=True, capture_output=True
        )

    demarrer()
    try:
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-p", str(PORT_PG), "-U", "postgres", "ti"],
            check=True,
        )
        yield f"postgres://postgres@127.0.0.1:{PORT_PG}/ti", demarrer, arreter
    finally:
        subprocess.run(_en_postgres([*pg_ctl, "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(dossier, ignore_errors=True)


def _manage(env, *arguments, debug="true"):
    # Preparation only: the demo data are never created with DEBUG off.
    resultat = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        env={**env, "DEBUG": debug},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    if resultat.returncode:
        raise RuntimeError(f"manage.py {' '.join(arguments)} : {resultat.stderr[-2000:]}")


@contextmanager
def serveur(env, port, travailleurs=3):
    processus = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "config.wsgi",
            "--workers",
            str(travailleurs),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=settings.BASE_DIR,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                requests.get(f"{base}/sante/", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.1)
        yield base
    finally:
        processus.send_signal(signal.SIGTERM)
        processus.wait(timeout=30)


class Journal:
    """Answers counted per phase ("avant", "panne", "reprise") and kind."""

    def __init__(self):
        self.phase = "avant"
        self.compteurs = Counter()
        self.exemples = {}
        self.verrou = threading.Lock()

    def noter(self, type_, statut, corps="", chemin=""):
        with self.verrou:
            self.compteurs[(self.phase, type_, statut)] += 1
            porte = "api" if chemin.startswith("/api/") else "page"
            self.exemples.setdefault((porte, statut), corps[:5000])


def _lecteur(base, journal, fin):
    session = requests.Session()
    i = 0
    while time.monotonic() < fin:
        chemin = PAGES[i % len(PAGES)]
        i += 1
        try:
            reponse = session.get(base + chemin, timeout=10)
            journal.noter("lecture", reponse.status_code, reponse.text, chemin)
        except requests.RequestException as erreur:
            journal.noter("lecture", type(erreur).__name__)
            time.sleep(0.05)


def _cookies(session):
    """Production cookies are Secure and this client talks plain HTTP on loopback: send
    them by hand."""
    return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in session.cookies)}


def _connecter(base, journal):
    session = requests.Session()
    session.get(f"{base}/connexion/", timeout=10)
    reponse = session.post(
        f"{base}/connexion/",
        data={
            "username": "porteur-adn",
            "password": settings.DEMO_PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/connexion/", **_cookies(session)},
        timeout=10,
        allow_redirects=False,
    )
    if reponse.status_code != 302:
        raise RuntimeError(f"connexion du porteur impossible ({reponse.status_code})")
    return session


def _redacteur(base, journal, fin, crees, territoire):
    """A lead creating drafts through the portal: (title, answer) of each attempt."""
    try:
        session = _connecter(base, journal)
    except (RuntimeError, requests.RequestException, KeyError) as erreur:
        journal.noter("écriture", f"connexion impossible : {erreur}")
        return
    n = 0
    while time.monotonic() < fin:
        n += 1
        titre = f"Résilience {n}"
        try:
            jeton = session.cookies.get("csrftoken", "")
            reponse = session.post(
                f"{base}/mes-dossiers/nouveau/",
                data={"territoire": territoire, "titre": titre, "csrfmiddlewaretoken": jeton},
                headers={"Referer": f"{base}/mes-dossiers/nouveau/", **_cookies(session)},
                timeout=10,
                allow_redirects=False,
            )
            statut = reponse.status_code
            journal.noter("écriture", statut, reponse.text)
        except requests.RequestException as erreur:
            statut = type(erreur).__name__
            journal.noter("écriture", statut)
        crees.append((titre, statut))
        time.sleep(0.1)


def _verifier(env):
    """The database after the outage: each dossier whole, none twice (a JSON report)."""
    script = """
import json
from django.db.models import Count
from projets.models import Projet
projets = Projet.objects.filter(titre__startswith="Résilience")
historises = set(Projet.history.filter(history_type="+").values_list("id", flat=True))
print(json.dumps({
    "titres": sorted(projets.values_list("titre", flat=True)),
    "sans_historique": projets.exclude(pk__in=historises).count(),
    "doublons": projets.values("titre").annotate(n=Count("pk")).filter(n__gt=1).count(),
}))
"""
    resultat = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        env=env,
        cwd=settings.BASE_DIR,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(resultat.stdout.strip().splitlines()[-1])


def scenario(avant=10, panne=15, reprise=20, connexions=32, port=8160, sortie=print):
    """Run the outage scenario; returns the summary dict (also printed)."""
    with grappe_temporaire() as (url, demarrer, arreter):
        env = dict(
            os.environ,
            DATABASE_URL=url,
            DEBUG="false",
            SECRET_KEY=os.environ.get("SECRET_KEY", "r" * 50),
            SECURE_SSL_REDIRECT="false",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            LOG_REQUETES="false",
            API_DEBIT_ANONYME="1000000/minute",
            CONNEXION_ECHECS_MAX="1000",
        )
        sortie("préparation de la base temporaire (référentiel et démonstration)…")
        _manage(env, "migrate", "--noinput")
        _manage(env, "importer_referentiel")
        _manage(env, "importer_territoires", "fixtures/referentiel/territoires-connus.csv")
        _manage(env, "importer_dispositifs")
        _manage(env, "demo")
        _manage(env, "collectstatic", "--noinput", debug="false")
        territoire = subprocess.run(
            [
                "psql",
                url,
                "-Atc",
                "select id from territoires_territoire where slug='ardeche-drome-nord'",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        journal = Journal()
        crees = []
        with serveur(env, port) as base:
            fin = time.monotonic() + avant + panne + reprise
            fils = [
                threading.Thread(target=_lecteur, args=(base, journal, fin), daemon=True)
                for _ in range(connexions)
            ]
            fils.append(
                threading.Thread(
                    target=_redacteur,
                    args=(base, journal, fin, crees, territoire),
                    daemon=True,
                )
            )
            for fil in fils:
                fil.start()
            time.sleep(avant)
            journal.phase = "panne"
            sortie(f"arrêt de PostgreSQL pendant {panne} s (gunicorn continue)…")
            arreter()
            time.sleep(panne)
            demarrer()
            journal.phase = "reprise"
            sortie("PostgreSQL redémarré ; gunicorn n'est pas redémarré.")
            for fil in fils:
                fil.join(timeout=avant + panne + reprise + 30)
        verification = _verifier(env)
    reussis = {titre for titre, statut in crees if statut == 302}
    presents = set(verification["titres"])
    resume = {
        "compteurs": {" ".join(map(str, cle)): n for cle, n in sorted(journal.compteurs.items())},
        "ecritures_tentees": len(crees),
        "ecritures_confirmees": len(reussis),
        "dossiers_en_base": len(presents),
        "confirmes_absents": sorted(reussis - presents),
        "sans_historique": verification["sans_historique"],
        "doublons": verification["doublons"],
        "exemple_503_api": journal.exemples.get(("api", 503), ""),
        "exemple_503_page": journal.exemples.get(("page", 503), ""),
    }
    for cle, n in resume["compteurs"].items():
        sortie(f"  {cle:<32} {n:>7}")
    sortie(
        f"écritures : {resume['ecritures_tentees']} tentées, "
        f"{resume['ecritures_confirmees']} confirmées (302), "
        f"{resume['dossiers_en_base']} dossiers en base ; confirmées absentes : "
        f"{len(resume['confirmes_absents'])} ; sans historique : {resume['sans_historique']} ; "
        f"en double : {resume['doublons']}"
    )
    for porte in ("api", "page"):
        exemple = re.sub(r"<[^>]+>|\s+", " ", resume[f"exemple_503_{porte}"])
        sortie(f"réponse 503 ({porte}) : {re.sub(r' +', ' ', exemple).strip()[:200]}")
    return resume
