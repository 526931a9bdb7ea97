"""The portal as it runs in production, on this machine (issue 21): a PostgreSQL
primary and its streaming replica, Redis, gunicorn started as `make serve` starts it,
task workers — each part stopped while the others run (outils/deploiement.py).

Marked `deploiement` (run by `.ci/run` through `make test`); skipped without the
PostgreSQL server binaries or redis-server.
"""

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from outils import deploiement

pytestmark = [
    pytest.mark.deploiement,
    pytest.mark.skipif(
        not glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"),
        reason="binaires du serveur PostgreSQL (initdb, pg_basebackup) absents",
    ),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server absent"),
    pytest.mark.skipif(
        os.geteuid() == 0 and not shutil.which("runuser"),
        reason="runuser requis pour lancer PostgreSQL en tant que postgres",
    ),
]

MOT_DE_PASSE = "demo-territoires-2026"


@pytest.fixture(scope="module")
def topo():
    topologie = deploiement.demarrer(EXPORT_SEUIL_DIFFERE="1")
    try:
        yield topologie
    finally:
        topologie.fermer()


class Client:
    """A browser: production cookies are Secure and this talks plain HTTP on loopback,
    so cookies are sent by hand."""

    def __init__(self, base):
        self.base = base
        self.session = requests.Session()

    def _entetes(self, chemin):
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)
        return {"Cookie": cookies, "Referer": self.base + chemin}

    def get(self, chemin, **kwargs):
        return self.session.get(
            self.base + chemin,
            headers=self._entetes(chemin),
            timeout=30,
            allow_redirects=False,
            **kwargs,
        )

    def post(self, chemin, donnees, **kwargs):
        donnees = {"csrfmiddlewaretoken": self.session.cookies.get("csrftoken", ""), **donnees}
        return self.session.post(
            self.base + chemin,
            data=donnees,
            headers=self._entetes(chemin),
            timeout=30,
            allow_redirects=False,
            **kwargs,
        )

    def connecter(self, identifiant, chemin="/admin/login/"):
        self.get(chemin)
        reponse = self.post(chemin, {"username": identifiant, "password": MOT_DE_PASSE})
        assert reponse.status_code == 302, reponse.text[:500]
        return self


def _etat(topo):
    reponse = requests.get(f"{topo.base}/sante/", timeout=30)
    return reponse.status_code, reponse.json()


def _statuts(etat):
    return {nom: d["statut"] for nom, d in etat["dependances"].items()}


def _dossier(topo, statut):
    ligne = topo.primaire.sql(
        f"SELECT id, reference FROM projets_projet WHERE statut = '{statut}' ORDER BY id LIMIT 1"
    )
    pk, reference = ligne.split("|")
    return pk, reference


def test_sante_tout_va_bien(topo):
    code, etat = _etat(topo)
    assert code == 200, etat
    assert etat["statut"] == "ok", etat
    assert etat["dependances"]["replique"]["en_reprise"] is True  # a real standby


def test_lire_ses_ecritures_pendant_que_la_replique_est_en_retard(topo):
    """An agent moves a dossier on in the back-office and reads it through the API at
    once: the primary answers. Another agent, reading from the paused replica, still
    sees the old status (the replica is really behind)."""
    autre = Client(topo.base).connecter("region-ara")
    ecrivain = Client(topo.base).connecter("national")
    topo.replique_rattrapee()  # both sign-ins replayed: no pin left that matters
    pk, reference = _dossier(topo, "depose")
    topo.replique.sql("SELECT pg_wal_replay_pause()")
    try:
        ecrivain.get("/admin/projets/projet/")
        reponse = ecrivain.post(
            "/admin/projets/projet/",
            {
                "action": "transition_instruire",
                "_selected_action": pk,
                "appliquer": "1",
                "commentaire": "Instruction",
            },
        )
        assert reponse.status_code == 302, reponse.text[:500]
        assert topo.primaire.sql(f"SELECT statut FROM projets_projet WHERE id = {pk}") == (
            "en_instruction"
        )
        lu = ecrivain.get(f"/api/v1/projets/{reference}/")
        assert lu.status_code == 200 and lu.json()["statut"] == "en_instruction"
        if topo.primaire.sql("SELECT count(*) FROM projets_projet WHERE id = " + pk):
            vu_par_l_autre = autre.get(f"/api/v1/projets/{reference}/")
            if vu_par_l_autre.status_code == 200:  # within région-ara's perimeter
                assert vu_par_l_autre.json()["statut"] == "depose"
        # Figures cached after the write are never the replica's old ones.
        pk2, _ = _dossier(topo, "en_instruction")
        avant = requests.get(f"{topo.base}/api/v1/statistiques/", timeout=30).json()
        ecrivain.get("/admin/projets/projet/")
        reponse = ecrivain.post(
            "/admin/projets/projet/",
            {
                "action": "transition_retenir",
                "_selected_action": pk2,
                "appliquer": "1",
                "commentaire": "Retenu",
            },
        )
        assert reponse.status_code == 302
        apres = requests.get(f"{topo.base}/api/v1/statistiques/", timeout=30).json()
        assert apres["programme"] != avant["programme"]
    finally:
        topo.replique.sql("SELECT pg_wal_replay_resume()")
    topo.replique_rattrapee()
    # Once replayed, the replica serves the same figures (same cached version).
    assert requests.get(f"{topo.base}/api/v1/statistiques/", timeout=30).json() == apres


def test_replique_arretee_l_api_repond_depuis_le_primaire(topo):
    topo.replique.arreter()
    try:
        for chemin in ("/api/v1/territoires/", "/api/v1/projets/", "/api/v1/statistiques/"):
            reponse = requests.get(topo.base + chemin, timeout=30)
            assert reponse.status_code == 200, (chemin, reponse.text[:300])
        code, etat = _etat(topo)
        assert code == 200  # the instance still serves: keep it in the pool
        assert etat["statut"] == "dégradé"
        assert _statuts(etat)["replique"] == "indisponible"
        assert _statuts(etat)["primaire"] == "ok"
    finally:
        topo.replique.demarrer()
    topo.replique_rattrapee()
    time.sleep(float(topo.env.get("REPLIQUE_PAUSE_SECONDES", 5)) + 0.5)
    code, etat = _etat(topo)
    assert code == 200 and _statuts(etat)["replique"] == "ok", etat


def test_redis_arrete_pages_servies_sans_cache(topo):
    topo.arreter_redis()
    try:
        for chemin in ("/", "/territoires/", "/api/v1/statistiques/", "/api/v1/projets/"):
            reponse = requests.get(topo.base + chemin, timeout=30)
            assert reponse.status_code == 200, (chemin, reponse.text[:300])
        Client(topo.base).connecter("porteur-adn", chemin="/connexion/")
        code, etat = _etat(topo)
        assert code == 200 and etat["statut"] == "dégradé"
        assert _statuts(etat)["cache"] == "indisponible"
    finally:
        topo.demarrer_redis()


def test_primaire_arrete_503_en_francais(topo):
    topo.primaire.arreter()
    try:
        code, etat = _etat(topo)
        assert code == 503 and etat["statut"] == "indisponible"
        reponse = requests.get(f"{topo.base}/territoires/", timeout=30)
        assert reponse.status_code == 503
        assert "momentanément indisponible" in reponse.text
    finally:
        topo.primaire.demarrer()
    deploiement._attendre(lambda: _etat(topo)[0] == 200, message="pas de reprise")


def _courriels(topo, sujet="Votre export est prêt"):
    """The e-mail files holding a message whose subject contains `sujet` (the workers
    also send the notifications other tasks queued, e.g. while the data was loaded)."""
    dossier = topo.env["EMAIL_FILE_PATH"]
    if not os.path.isdir(dossier):
        return []
    fichiers = sorted(glob.glob(os.path.join(dossier, "*")))
    trouves = []
    for fichier in fichiers:
        with open(fichier, encoding="utf-8", errors="replace") as contenu:
            texte = contenu.read()
        # Subjects are MIME-encoded when not ASCII: compare the decoded headers.
        from email import message_from_string
        from email.header import decode_header, make_header

        for bloc in texte.split("\n" + "-" * 79 + "\n"):
            message = message_from_string(bloc.strip())
            objet = str(make_header(decode_header(message.get("Subject", ""))))
            if sujet in objet:
                trouves.append(fichier)
    return trouves


MOURIR = """
import os, signal, sys
import django
django.setup()
import psycopg
from django.db import connection
from django_tasks_db.models import DBTaskResult
from commun import taches
worker_id = sys.argv[1]
parametres = connection.get_connection_params()
parametres.pop("cursor_factory", None); parametres.pop("context", None)
bail = psycopg.connect(**parametres, autocommit=True)
taches.prendre_bail(bail, worker_id)
tache = DBTaskResult.objects.get(pk=sys.argv[2])
tache.claim(worker_id)
from comptes.models import ExportDiffere
ExportDiffere.objects.filter(pk=sys.argv[3]).update(statut="en_cours")
os.kill(os.getpid(), signal.SIGKILL)  # killed in the middle of the task
"""


def _mourir_pendant_la_tache(topo, tache, export, n):
    resultat = subprocess.run(
        [sys.executable, "-c", MOURIR, f"tue-{n}-{time.time_ns()}", tache, export],
        env={**topo.env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=os.path.dirname(os.path.dirname(__file__)),
        capture_output=True,
        text=True,
    )
    assert resultat.returncode == -signal.SIGKILL, resultat.stderr[-2000:]


def _demander_export(topo, agent):
    avant = topo.primaire.sql("SELECT coalesce(max(id), 0) FROM comptes_exportdiffere")
    assert agent.get("/admin/projets/projet/exporter/?format=csv").status_code == 302
    export = topo.primaire.sql(f"SELECT id FROM comptes_exportdiffere WHERE id > {avant}")
    tache = topo.primaire.sql(
        "SELECT id FROM django_tasks_database_dbtaskresult "
        f"WHERE args_kwargs::text LIKE '%\"export_id\": {export}%'"
    )
    return export, tache


def _statut_export(topo, export):
    return topo.primaire.sql(f"SELECT statut FROM comptes_exportdiffere WHERE id = {export}")


def test_tache_d_un_travailleur_tue_reprise_par_un_autre(topo):
    agent = Client(topo.base).connecter("national")
    courriels = len(_courriels(topo))
    export, tache = _demander_export(topo, agent)
    _mourir_pendant_la_tache(topo, tache, export, 1)
    assert _statut_export(topo, export) == "en_cours"
    # Two workers share the queue; one of them sees the dead lease and runs it again.
    topo.demarrer_travailleur()
    topo.demarrer_travailleur()
    try:
        deploiement._attendre(
            lambda: _statut_export(topo, export) == "pret", delai=60, message="export non repris"
        )
        time.sleep(2)  # a second worker running it too would have sent a second e-mail
    finally:
        topo.arreter_travailleurs()
    assert len(_courriels(topo)) == courriels + 1  # « Votre export est prêt », once
    tentatives = topo.primaire.sql(
        "SELECT jsonb_array_length(worker_ids) FROM django_tasks_database_dbtaskresult "
        f"WHERE id = '{tache}'"
    )
    assert tentatives == "2"


def test_tache_tuee_trois_fois_echec_visible_dans_mes_exports(topo):
    agent = Client(topo.base).connecter("national")
    export, tache = _demander_export(topo, agent)
    for n in range(3):
        _mourir_pendant_la_tache(topo, tache, export, n)
        if n < 2:  # a worker re-queues it, then is stopped before running it
            topo.primaire.sql(
                "UPDATE django_tasks_database_dbtaskresult SET status = 'READY' "
                f"WHERE id = '{tache}'"
            )
    topo.demarrer_travailleur()
    try:
        deploiement._attendre(
            lambda: _statut_export(topo, export) == "echec", delai=60, message="pas d'échec"
        )
    finally:
        topo.arreter_travailleurs()
    page = agent.get("/admin/comptes/exportdiffere/")
    assert page.status_code == 200
    assert "interrompu" in page.text and "3 tentatives" in page.text


def test_clients_lents_ne_bloquent_pas_le_site(topo):
    """Ten connections that never finish their headers (three were enough to make the
    site unreachable with sync workers)."""
    lents = []
    try:
        for _ in range(10):
            s = socket.create_connection(("127.0.0.1", deploiement.PORT_WEB), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Lent: ")
            lents.append(s)
        time.sleep(0.5)
        for _ in range(5):
            reponse = requests.get(f"{topo.base}/sante/", timeout=10)
            assert reponse.status_code == 200
    finally:
        for s in lents:
            s.close()


# Every check but the two that judge how strictly parameters are parsed against the
# schema (an unknown phase code is refused with a 400 the schema does not announce;
# `page_size=null` falls back to the default size): contract questions for the API,
# listed in docs/deploiement.md, not failures of the running service.
CONTROLES_ECARTES = "positive_data_acceptance,negative_data_rejection"


def test_schemathesis_contre_le_serveur(topo):
    """At least 2,000 generated requests against the running gunicorn: no 5xx, every
    answer conforms to the schema (status, content type, body, headers)."""
    resultat = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "st"),
            "run",
            f"{topo.base}/api/schema/",
            "--url",
            topo.base,
            "--checks",
            "all",
            "--exclude-checks",
            CONTROLES_ECARTES,
            "--max-examples",
            "60",
            "--workers",
            "2",
            "--seed",
            "21",
            "--no-color",
            "--suppress-health-check",
            "all",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    sortie = resultat.stdout + resultat.stderr
    print(sortie[-4000:])
    assert resultat.returncode == 0, sortie[-6000:]
    cas = re.search(r"(\d+) generated", sortie)
    assert cas and int(cas.group(1)) >= 2000, sortie[-3000:]
