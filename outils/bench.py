"""Benchmark of the three doors on the current database (see docs/performance.md).

Everything runs in-process through Django's test client (no network), except the
load test, which drives gunicorn with wrk on loopback.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager

import orjson
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from commun.cache_donnees import invalider
from financements.models import Aide
from projets.models import Projet
from territoires.models import Habilitation, Territoire

PAGE = 100
ENDPOINTS = ["projets", "aides", "territoires", "enveloppes"]

# The raw floor: one hand-written SQL query per list returning what the API page holds
# (the same fields, nested labels, sums and order, first page of 100), run through
# psycopg and encoded with orjson.
SQL_PLANCHER = {
    "projets": """
        SELECT p.reference, p.titre, p.description, p.statut, t.slug, ph.code,
               ARRAY(SELECT ph2.code || '-' || ax.code FROM projets_projet_axes pa
                     JOIN territoires_axe ax ON ax.id = pa.axe_id
                     JOIN territoires_phase ph2 ON ph2.id = ax.phase_id
                     WHERE pa.projet_id = p.id ORDER BY ph2.date_debut, ax.ordre),
               p.nature, p.porteur_raison_sociale, p.porteur_siret, p.porteur_taille,
               p.commune_id, c.epci_id, c.departement_id,
               COALESCE(d.region_id, t.region_pilote_id), p.montant_investissement,
               p.emplois_crees, p.emplois_maintenus, p.co2_evite, p.zone_qpv, p.zone_zrr,
               p.zone_frr, p.zone_afr, p.zone_acv, p.date_zonage, p.date_debut_prevue,
               p.date_fin_prevue, p.decide_le, p.modifie_le, s.engagee, s.versee,
               p.aide_demandee, s.totale,
               ROUND(p.montant_investissement / NULLIF(s.engagee, 0), 2), p.contact_nom,
               p.contact_email, p.contact_telephone, u.username, i.username, p.cree_le,
               p.depose_le
        FROM (SELECT * FROM projets_projet ORDER BY cree_le DESC LIMIT %s) p
        JOIN territoires_territoire t ON t.id = p.territoire_id
        JOIN territoires_phase ph ON ph.id = p.phase_id
        LEFT JOIN territoires_commune c ON c.code_insee = p.commune_id
        LEFT JOIN territoires_departement d ON d.code = c.departement_id
        JOIN auth_user u ON u.id = p.deposant_id
        LEFT JOIN auth_user i ON i.id = p.instructeur_id
        CROSS JOIN LATERAL (
            SELECT COALESCE(SUM(a.montant) FILTER (WHERE a.statut <> 'annulee'), 0) totale,
                   COALESCE(SUM(a.montant) FILTER (
                       WHERE a.statut IN ('engagee', 'conventionnee', 'soldee')), 0) engagee,
                   (SELECT COALESCE(SUM(v.montant), 0) FROM financements_versement v
                    JOIN financements_aide a2 ON a2.id = v.aide_id
                    WHERE a2.projet_id = p.id) versee
            FROM financements_aide a WHERE a.projet_id = p.id) s
        ORDER BY p.cree_le DESC""",
    "aides": """
        SELECT a.uuid, p.reference, di.code || '-' || e.region_id || '-' || e.annee,
               di.code, o.nom, e.region_id, a.montant, a.nature, a.statut,
               a.reference_decision, a.date_decision, a.date_convention,
               (SELECT COALESCE(SUM(v.montant), 0) FROM financements_versement v
                WHERE v.aide_id = a.id), a.modifie_le, a.motif_annulation, a.cree_le
        FROM (SELECT * FROM financements_aide ORDER BY cree_le DESC LIMIT %s) a
        JOIN projets_projet p ON p.id = a.projet_id
        JOIN financements_enveloppe e ON e.id = a.enveloppe_id
        JOIN financements_dispositif di ON di.id = e.dispositif_id
        JOIN financements_operateur o ON o.id = di.operateur_id
        ORDER BY a.cree_le DESC""",
    "territoires": """
        SELECT t.slug, t.id_anct, t.nom, t.region_pilote_id, t.laureat_rebond_industriel,
               t.date_signature_feuille_de_route,
               (SELECT json_agg(json_build_object('phase', ph.code, 'date', l.date)
                                ORDER BY ph.date_debut)
                FROM territoires_labellisation l
                JOIN territoires_phase ph ON ph.id = l.phase_id
                WHERE l.territoire_id = t.id),
               (SELECT json_agg(json_build_object('phase', ph.code, 'siren', ep.siren,
                                                  'nom', ep.nom,
                                                  'departement', ep.departement_id)
                                ORDER BY ph.date_debut, ep.nom)
                FROM territoires_compositionterritoire ct
                JOIN territoires_phase ph ON ph.id = ct.phase_id
                JOIN territoires_intercommunalite ep ON ep.siren = ct.epci_id
                WHERE ct.territoire_id = t.id),
               (SELECT row_to_json(b) FROM (
                   SELECT elu_nom, elu_mandat, industriel_nom, industriel_entreprise,
                          industriel_siret, date_debut FROM territoires_binome
                   WHERE territoire_id = t.id AND date_fin IS NULL
                   ORDER BY date_debut DESC LIMIT 1) b),
               t.modifie_le
        FROM territoires_territoire t ORDER BY t.nom LIMIT %s""",
    "enveloppes": """
        SELECT di.code || '-' || e.region_id || '-' || e.annee, di.code, o.nom,
               e.region_id, e.annee, e.montant, COALESCE(s.propose, 0),
               COALESCE(s.engage, 0), COALESCE(s.conventionne, 0), COALESCE(v.verse, 0),
               e.montant - COALESCE(s.engage, 0),
               ROUND(COALESCE(s.engage, 0) * 100 / NULLIF(e.montant, 0), 1), e.modifie_le
        FROM financements_enveloppe e
        JOIN financements_dispositif di ON di.id = e.dispositif_id
        JOIN financements_operateur o ON o.id = di.operateur_id
        JOIN territoires_region r ON r.code = e.region_id
        LEFT JOIN (
            SELECT enveloppe_id,
                   SUM(montant) FILTER (WHERE statut = 'proposee') propose,
                   SUM(montant) FILTER (
                       WHERE statut IN ('engagee', 'conventionnee', 'soldee')) engage,
                   SUM(montant) FILTER (WHERE statut IN ('conventionnee', 'soldee'))
                       conventionne
            FROM financements_aide GROUP BY enveloppe_id) s ON s.enveloppe_id = e.id
        LEFT JOIN (
            SELECT a.enveloppe_id, SUM(v.montant) verse FROM financements_versement v
            JOIN financements_aide a ON a.id = v.aide_id GROUP BY a.enveloppe_id
        ) v ON v.enveloppe_id = e.id
        ORDER BY e.annee DESC, r.nom, di.nom LIMIT %s""",
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


def _client_national(jeton=False):
    """A national officer's browser session, or (`jeton=True`) a client holding a full
    access API token of that officer: what a partner syncing the data uses."""
    from api.models import JetonPartenaire
    from api.services import jeton_emettre

    User = get_user_model()
    # In a transaction: granting a habilitation closes the user's pending requests under
    # a row lock (comptes), which PostgreSQL only takes inside one.
    with transaction.atomic():
        user, cree = User.objects.get_or_create(
            username="bench-national", defaults={"is_staff": True}
        )
        if cree:
            Habilitation.objects.create(user=user, role="agent", echelon="national", niveau=3)
    if jeton:
        secret = jeton_emettre(
            par=user, jeton=JetonPartenaire(user=user, nom="bench", niveau="complet")
        )
        return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client = Client()
    client.force_login(user)
    return client


# Deep pages: the floor picks the page's rows first (OFFSET on the table alone), then
# joins and sums for those rows only.
PAGE_PROFONDE = 50
PROFONDS = ["projets", "aides"]


def _sql_profond(endpoint):
    sql = SQL_PLANCHER[endpoint]
    debut = sql.index("ORDER BY cree_le DESC LIMIT %s)")
    return (
        sql[:debut]
        + "ORDER BY cree_le DESC, id LIMIT %s OFFSET %s)"
        + sql[debut + len("ORDER BY cree_le DESC LIMIT %s)") :]
    )


def _plancher(endpoint, repetitions, page=1):
    sql = SQL_PLANCHER[endpoint] if page == 1 else _sql_profond(endpoint)
    parametres = [PAGE] if page == 1 else [PAGE, (page - 1) * PAGE]

    def une_fois():
        with connection.cursor() as curseur:
            curseur.execute(sql, parametres)
            lignes = curseur.fetchall()
        return orjson.dumps(lignes, default=str)

    return _mesurer(une_fois, repetitions)


def _lignes_csv(reponse):
    return sum(morceau.count(b"\n") for morceau in reponse.streaming_content) - 1


def mesurer(repetitions=30, charge=False, duree_charge=20, sortie=print):
    client = _client_national(jeton=True)
    session = _client_national()
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
    for endpoint in PROFONDS:
        if Projet.objects.count() < PAGE * PAGE_PROFONDE and endpoint == "projets":
            continue
        if Aide.objects.count() < PAGE * PAGE_PROFONDE and endpoint == "aides":
            continue
        url = f"/api/v1/{endpoint}/?page_size={PAGE}&page={PAGE_PROFONDE}"
        client.get(url)
        with _requetes() as contexte:
            reponse = client.get(url)
        assert reponse.status_code == 200, (url, reponse.status_code)
        mediane, p95 = _mesurer(lambda url=url: client.get(url), repetitions)
        plancher, plancher_p95 = _plancher(endpoint, repetitions, page=PAGE_PROFONDE)
        lignes.append(
            (f"API {endpoint} (page {PAGE_PROFONDE})", mediane, p95, len(contexte.captured_queries))
        )
        lignes.append((f"  plancher page {PAGE_PROFONDE} {endpoint}", plancher, plancher_p95, 1))
        ratios[f"profonde/{endpoint}"] = mediane / plancher
    url = "/admin/projets/projet/?statut__exact=retenu"
    session.get(url)
    with _requetes() as contexte:
        session.get(url)
    mediane, p95 = _mesurer(lambda: session.get(url), max(5, repetitions // 3))
    lignes.append(
        ("admin : liste des dossiers filtrée", mediane, p95, len(contexte.captured_queries))
    )
    liste_admin = mediane
    session.get("/admin/")
    with _requetes() as contexte:
        session.get("/admin/")
    mediane, p95 = _mesurer(lambda: session.get("/admin/"), max(5, repetitions // 3))
    lignes.append(("admin : accueil (national)", mediane, p95, len(contexte.captured_queries)))
    ratios["accueil_admin/liste_admin"] = mediane / liste_admin
    # Cold right after a write: the data version every write bumps (commun.cache_donnees,
    # the signals' `invalider`), then one request; warm: the same request again.
    froids = {
        "statistiques": (client, "/api/v1/statistiques/"),
        "dispositifs": (client, "/api/v1/dispositifs/"),
        "enveloppes": (client, f"/api/v1/enveloppes/?page_size={PAGE}"),
        "accueil admin": (session, "/admin/"),
    }
    for nom, (qui, url) in froids.items():
        qui.get(url)

        def apres_ecriture(qui=qui, url=url):
            invalider()
            qui.get(url)

        froid, froid_p95 = _mesurer(apres_ecriture, max(5, repetitions // 3))
        chaud, chaud_p95 = _mesurer(lambda qui=qui, url=url: qui.get(url), repetitions)
        lignes.append((f"{nom} (à froid, après écriture)", froid, froid_p95, 0))
        lignes.append((f"{nom} (à chaud)", chaud, chaud_p95, 0))
        ratios[f"froid/{nom}"] = froid / chaud
    for texte, mediane, p95, requetes in lignes:
        sortie(f"{texte:<44}{mediane:>12.1f}{p95:>10.1f}{requetes:>10}")

    for ressource in ("aides", "projets"):
        url = f"/api/v1/{ressource}/?format=csv"
        debut = time.perf_counter()
        nombre = _lignes_csv(client.get(url))
        duree = time.perf_counter() - debut
        # Memory in a second pass: tracing every allocation slows Python several times.
        tracemalloc.start()
        _lignes_csv(client.get(url))
        _, pic = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        sortie(
            f"export CSV des {ressource} : {nombre} lignes en {duree:.2f} s, "
            f"{nombre / duree:,.0f} lignes/s, pic mémoire {pic / 1e6:.1f} Mo"
        )
    mesurer_scdl(client, sortie)
    for endpoint in ENDPOINTS:
        sortie(f"ratio API/floor {endpoint}: {ratios[endpoint]:.2f}")
    for endpoint in PROFONDS:
        if f"profonde/{endpoint}" in ratios:
            sortie(
                f"ratio API/floor {endpoint} page {PAGE_PROFONDE}: "
                f"{ratios[f'profonde/{endpoint}']:.2f}"
            )
    for endpoint in NAIFS:
        sortie(f"ratio naive/API {endpoint}: {ratios[f'naif/{endpoint}']:.2f}")
    sortie(f"ratio admin home/dossier changelist: {ratios['accueil_admin/liste_admin']:.2f}")
    for nom in froids:
        sortie(f"ratio cold-after-write/warm {nom}: {ratios[f'froid/{nom}']:.2f}")
    if charge:
        charger(duree_charge, sortie)


def _copie_brute(lignes) -> int:
    """A plain COPY of the rows (their raw columns, no formatting): the floor."""
    sql, parametres = lignes.query.sql_with_params()
    taille = 0
    commande = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
    with connection.cursor() as curseur, curseur.cursor.copy(commande, parametres) as copie:
        for bloc in copie:
            taille += len(bloc)
    return taille


def mesurer_scdl(client, sortie=print, repetitions=3):
    """The SCDL file's speed in rows/s, against a plain COPY of the same rows."""
    url = "/api/v1/opendata/subventions.csv"
    nombre = _lignes_csv(client.get(url))
    if not nombre:
        sortie("export SCDL subventions : aucune ligne publiable")
        return
    duree, _ = _mesurer(lambda: _lignes_csv(client.get(url)), repetitions)
    debit = nombre / (duree / 1000)
    sortie(f"export SCDL subventions : {nombre} lignes, {debit:,.0f} lignes/s")
    if connection.vendor != "postgresql":
        sortie("  (COPY de référence : PostgreSQL seulement)")
        return
    memes = Aide.objects.publiables_scdl().values_list(
        "uuid",
        "montant_attribue",
        "date_convention",
        "reference_decision",
        "nom_attribuant",
        "siret_attribuant",
        "projet__porteur_raison_sociale",
        "projet__porteur_siret",
        "projet__titre",
        "versement_debut",
        "versement_fin",
    )
    plancher, _ = _mesurer(lambda: _copie_brute(memes), repetitions)
    sortie(
        f"  COPY brut des mêmes lignes : {nombre / (plancher / 1000):,.0f} lignes/s ; "
        f"ratio SCDL/COPY {duree / plancher:.2f}"
    )


CHEMINS_CHARGE = [
    "/api/v1/projets/?page_size=100",
    "/api/v1/aides/?page_size=100",
    "/api/v1/territoires/",
    "/api/v1/communes/?page_size=100",
    "/api/v1/statistiques/",
    "/",
    "/territoires/",
    "/territoires/ardeche-drome-nord/",
]


def charger(duree, sortie=print, port=8150, connexions=32):
    """Throughput and errors of gunicorn (3 workers, production settings) under wrk on
    loopback: `connexions` connections cycling over API and portal pages."""
    from .resilience import serveur

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
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        env=env,
        cwd=settings.BASE_DIR,
        check=True,
    )
    liste = ", ".join(f'"{chemin}"' for chemin in CHEMINS_CHARGE)
    script = (
        f"local chemins = {{{liste}}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n"
        "  return wrk.format('GET', chemins[(i % #chemins) + 1])\nend\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as fichier, serveur(env, port) as base:
        fichier.write(script)
        fichier.flush()
        resultat = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connexions}",
                f"-d{duree}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                fichier.name,
                base,
            ],
            capture_output=True,
            text=True,
            timeout=duree + 60,
            check=False,
        )
    resume = [
        ligne.strip()
        for ligne in resultat.stdout.splitlines()
        if ligne.strip().startswith(
            ("Requests/sec", "50%", "90%", "99%", "Non-2xx", "Socket errors")
        )
        or "requests in" in ligne
    ]
    sortie(
        f"charge : {len(CHEMINS_CHARGE)} pages API et portail en rotation, {connexions} "
        f"connexions, {duree} s : " + " | ".join(resume)
    )
    erreurs = "Non-2xx" in resultat.stdout or "Socket errors" in resultat.stdout
    sortie(f"erreurs sous charge : {'oui' if erreurs else 'aucune'}")
