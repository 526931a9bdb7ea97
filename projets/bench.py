"""Benchmark of the three doors on the current database (see docs/performance.md).

Everything runs in-process through Django's test client (no network), except the
load test, which drives gunicorn with wrk on loopback.
"""

import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import tracemalloc
from contextlib import contextmanager

import orjson
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from financements.models import Aide
from projets.models import Projet
from territoires.models import Habilitation, Territoire

PAGE = 100
ENDPOINTS = ["projets", "aides", "territoires", "enveloppes"]

# One SQL query each, for the raw floor: the page's rows with their nested labels.
SQL_PLANCHER = {
    "projets": """
        SELECT p.reference, p.titre, p.statut, p.nature, p.montant_investissement,
               p.aide_demandee, p.emplois_crees, p.emplois_maintenus, p.depose_le,
               t.slug, t.nom, c.code_insee, c.nom, d.code, r.code, r.nom
        FROM projets_projet p
        JOIN territoires_territoire t ON t.id = p.territoire_id
        LEFT JOIN territoires_commune c ON c.code_insee = p.commune_id
        LEFT JOIN territoires_departement d ON d.code = c.departement_id
        LEFT JOIN territoires_region r ON r.code = d.region_id
        ORDER BY p.reference LIMIT %s""",
    "aides": """
        SELECT a.uuid, a.montant, a.nature, a.statut, a.date_decision, a.date_convention,
               p.reference, e.annee, e.region_id, di.code, di.nom
        FROM financements_aide a
        JOIN projets_projet p ON p.id = a.projet_id
        JOIN financements_enveloppe e ON e.id = a.enveloppe_id
        JOIN financements_dispositif di ON di.id = e.dispositif_id
        ORDER BY a.id LIMIT %s""",
    "territoires": """
        SELECT t.slug, t.nom, t.id_anct, t.laureat_rebond_industriel, r.code, r.nom
        FROM territoires_territoire t JOIN territoires_region r ON r.code = t.region_pilote_id
        ORDER BY t.nom LIMIT %s""",
    "enveloppes": """
        SELECT e.annee, e.montant, e.region_id, di.code, di.nom,
               (SELECT COALESCE(SUM(a.montant), 0) FROM financements_aide a
                 WHERE a.enveloppe_id = e.id AND a.statut IN ('engagee','conventionnee','soldee'))
        FROM financements_enveloppe e JOIN financements_dispositif di ON di.id = e.dispositif_id
        ORDER BY e.id LIMIT %s""",
}


class _RegionNaif(serializers.ModelSerializer):
    class Meta:
        from territoires.models import Region

        model = Region
        fields = ["code", "nom"]


class _TerritoireNaif(serializers.ModelSerializer):
    region_pilote = _RegionNaif()

    class Meta:
        model = Territoire
        fields = ["slug", "nom", "id_anct", "region_pilote"]


class _ProjetNaif(serializers.ModelSerializer):
    """The 'plain DRF' reference: nested ModelSerializers, no select_related."""

    territoire = _TerritoireNaif()

    class Meta:
        model = Projet
        fields = [
            "reference",
            "titre",
            "statut",
            "nature",
            "montant_investissement",
            "aide_demandee",
            "emplois_crees",
            "emplois_maintenus",
            "depose_le",
            "territoire",
            "commune",
        ]


class _AideNaif(serializers.ModelSerializer):
    class Meta:
        model = Aide
        fields = [
            "uuid",
            "montant",
            "nature",
            "statut",
            "date_decision",
            "date_convention",
            "projet",
            "enveloppe",
        ]
        depth = 2


NAIFS = {
    "projets": lambda n: _ProjetNaif(Projet.objects.order_by("reference")[:n], many=True).data,
    "aides": lambda n: _AideNaif(Aide.objects.order_by("pk")[:n], many=True).data,
}


def _mesurer(fonction, repetitions):
    durees = []
    for _ in range(repetitions):
        debut = time.perf_counter()
        fonction()
        durees.append((time.perf_counter() - debut) * 1000)
    durees.sort()
    return statistics.median(durees), durees[max(0, int(len(durees) * 0.95) - 1)]


class _Compteur:
    def __init__(self):
        self.captured_queries = []

    def __call__(self, execute, sql, params, many, context):
        self.captured_queries.append(sql)
        return execute(sql, params, many, context)


@contextmanager
def _requetes():
    compteur = _Compteur()
    with connection.execute_wrapper(compteur):
        yield compteur


def _client_national():
    User = get_user_model()
    user, cree = User.objects.get_or_create(username="bench-national", defaults={"is_staff": True})
    if cree:
        Habilitation.objects.create(user=user, role="agent", echelon="national", niveau=3)
    client = Client()
    client.force_login(user)
    return client


def _plancher(endpoint, repetitions):
    sql = SQL_PLANCHER[endpoint]

    def une_fois():
        with connection.cursor() as curseur:
            curseur.execute(sql, [PAGE])
            lignes = curseur.fetchall()
        return orjson.dumps(lignes, default=str)

    return _mesurer(une_fois, repetitions)


def mesurer(repetitions=30, charge=False, duree_charge=20, sortie=print):
    client = _client_national()
    lignes = []
    sortie(
        f"Base : {connection.vendor}, {Projet.objects.count()} dossiers, "
        f"{Aide.objects.count()} aides, {Territoire.objects.count()} territoires"
    )
    sortie(f"{'mesure':<44}{'médiane ms':>12}{'p95 ms':>10}{'requêtes':>10}")
    ratios = {}
    for endpoint in ENDPOINTS:
        url = f"/api/v1/{endpoint}/?page_size={PAGE}"
        client.get(url)  # warm-up
        with _requetes() as contexte:
            reponse = client.get(url)
        assert reponse.status_code == 200, (url, reponse.status_code)
        mediane, p95 = _mesurer(lambda url=url: client.get(url), repetitions)
        plancher, plancher_p95 = _plancher(endpoint, repetitions)
        lignes.append(
            (f"API {endpoint} (page de {PAGE})", mediane, p95, len(contexte.captured_queries))
        )
        lignes.append((f"  plancher SQL + orjson {endpoint}", plancher, plancher_p95, 1))
        ratios[endpoint] = mediane / plancher
        if endpoint in NAIFS:
            rendu = lambda e=endpoint: JSONRenderer().render(NAIFS[e](PAGE))  # noqa: E731
            with _requetes() as naif_requetes:
                rendu()
            naif, naif_p95 = _mesurer(rendu, max(5, repetitions // 3))
            lignes.append(
                (
                    f"  référence naïve DRF {endpoint}",
                    naif,
                    naif_p95,
                    len(naif_requetes.captured_queries),
                )
            )
            ratios[f"naif/{endpoint}"] = naif / mediane
    url = "/admin/projets/projet/?statut__exact=retenu"
    client.get(url)
    with _requetes() as contexte:
        client.get(url)
    mediane, p95 = _mesurer(lambda: client.get(url), max(5, repetitions // 3))
    lignes.append(
        ("admin : liste des dossiers filtrée", mediane, p95, len(contexte.captured_queries))
    )
    cache.clear()
    debut = time.perf_counter()
    client.get("/api/v1/statistiques/")
    froid = (time.perf_counter() - debut) * 1000
    chaud, chaud_p95 = _mesurer(lambda: client.get("/api/v1/statistiques/"), repetitions)
    lignes.append(("statistiques (à froid)", froid, froid, 0))
    lignes.append(("statistiques (à chaud)", chaud, chaud_p95, 0))
    for texte, mediane, p95, requetes in lignes:
        sortie(f"{texte:<44}{mediane:>12.1f}{p95:>10.1f}{requetes:>10}")

    tracemalloc.start()
    debut = time.perf_counter()
    reponse = client.get("/api/v1/aides/?format=csv")
    nombre = sum(chunk.count(b"\n") for chunk in reponse.streaming_content) - 1
    duree = time.perf_counter() - debut
    _, pic = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    sortie(
        f"export CSV des aides : {nombre} lignes en {duree:.2f} s, "
        f"{nombre / duree:,.0f} lignes/s, pic mémoire {pic / 1e6:.1f} Mo"
    )
    for endpoint in ENDPOINTS:
        sortie(f"ratio API/floor {endpoint}: {ratios[endpoint]:.2f}")
    for endpoint in NAIFS:
        sortie(f"ratio naive/API {endpoint}: {ratios[f'naif/{endpoint}']:.2f}")
    if charge:
        charger(duree_charge, sortie)


def charger(duree, sortie=print, port=8150):
    """Throughput under gunicorn (3 workers) driven by wrk on loopback."""
    if not shutil.which("wrk"):
        sortie("charge : wrk absent (apt-get install wrk) — mesure ignorée")
        return
    env = dict(
        os.environ,
        DEBUG="false",
        SECRET_KEY=os.environ.get("SECRET_KEY", "x" * 50),
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_REQUETES="false",
        API_DEBIT_ANONYME="1000000/minute",
    )
    serveur = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "config.wsgi",
            "--workers",
            "3",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=settings.BASE_DIR,
    )
    try:
        time.sleep(4)
        for chemin in ("/api/v1/projets/?page_size=100", "/api/v1/territoires/", "/sante/"):
            resultat = subprocess.run(
                [
                    "wrk",
                    "-t2",
                    "-c32",
                    f"-d{duree}s",
                    "--latency",
                    f"http://127.0.0.1:{port}{chemin}",
                ],
                capture_output=True,
                text=True,
                timeout=duree + 30,
                check=False,
            )
            resume = [
                ligne.strip()
                for ligne in resultat.stdout.splitlines()
                if ligne.strip().startswith(
                    ("Requests/sec", "50%", "99%", "Non-2xx", "Socket errors", "requests in")
                )
            ]
            sortie(f"charge {chemin} (32 connexions, {duree} s) : " + " | ".join(resume))
    finally:
        serveur.send_signal(signal.SIGTERM)
        serveur.wait(timeout=30)
