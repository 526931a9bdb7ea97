"""Tasks that survive a crash (issue 21): a task whose worker died is run again a
bounded number of times, then failed with a reason the owner sees in « Mes exports »;
a notification is never sent twice. Before: a worker killed during a task left it
« RUNNING » forever and its export « en préparation »."""

from datetime import timedelta

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from commun import taches
from comptes.models import ExportDiffere

from . import factories as f

EXPORT = "/admin/projets/projet/exporter/"


@pytest.fixture
def file_en_base(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EXPORT_SEUIL_DIFFERE = 2
    settings.TACHES_BAIL_SECONDES = 60
    return settings


@pytest.fixture
def export_en_file(client, monde, personas, file_en_base, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    f.ProjetFactory.create_batch(
        3, territoire=monde["adn"], phase=monde["phase"], commune=monde["commune_07"]
    )
    client.force_login(personas["region-ara"])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(EXPORT + "?format=csv").status_code == 302
    return ExportDiffere.objects.get(), DBTaskResult.objects.get()


def _mourir_pendant(tache, export, worker_id):
    """What a worker killed (SIGKILL) while preparing the export leaves behind."""
    tache.refresh_from_db()
    tache.claim(worker_id)
    if connection.vendor != "postgresql":
        type(tache).objects.filter(pk=tache.pk).update(
            started_at=timezone.now() - timedelta(hours=2)
        )
    ExportDiffere.objects.filter(pk=export.pk).update(statut=ExportDiffere.Statut.EN_COURS)


def test_tache_d_un_travailleur_mort_relancee_puis_en_echec(
    export_en_file, mailoutbox, django_capture_on_commit_callbacks
):
    export, tache = export_en_file
    for tentative in (1, 2):
        _mourir_pendant(tache, export, f"mort-{tentative}")
        assert taches.reprendre_taches_abandonnees() == {"reprises": 1, "echecs": 0}
        tache.refresh_from_db()
        export.refresh_from_db()
        assert tache.status == "READY" and len(tache.worker_ids) == tentative
        assert export.statut == ExportDiffere.Statut.EN_ATTENTE  # taken again from scratch
    _mourir_pendant(tache, export, "mort-3")
    with django_capture_on_commit_callbacks(execute=True):
        assert taches.reprendre_taches_abandonnees() == {"reprises": 0, "echecs": 1}
    tache.refresh_from_db()
    export.refresh_from_db()
    assert tache.status == "FAILED"
    assert export.statut == ExportDiffere.Statut.ECHEC
    assert "interrompu" in export.erreur and "3 tentatives" in export.erreur
    assert len(mailoutbox) == 1 and "Échec" in mailoutbox[0].subject


@pytest.mark.django_db(transaction=True)  # the worker manages its own connections
def test_une_tache_relancee_est_executee_par_un_nouveau_travailleur(export_en_file):
    export, tache = export_en_file
    _mourir_pendant(tache, export, "mort")
    call_command("travailleur", batch=True, startup_delay=False, reload=False)
    export.refresh_from_db()
    tache.refresh_from_db()
    assert tache.status == "SUCCESSFUL"
    assert export.statut == ExportDiffere.Statut.PRET and export.lignes == 3


def test_courriel_jamais_envoye_deux_fois(file_en_base, projet_adn, personas, mailoutbox):
    """A notification task is not registered for retries: abandoned, it is failed."""
    from django_tasks_db.models import DBTaskResult

    from projets import services

    services.projet_transitionner(
        projet=projet_adn, transition="deposer", user=personas["porteur-adn"], commentaire=""
    )
    from django.db import transaction

    for rappel in list(transaction.get_connection().run_on_commit):
        rappel[1]()
    notifications = DBTaskResult.objects.exclude(task_path__endswith="preparer_export")
    assert notifications.exists()
    for tache in notifications:
        tache.claim("mort")
        DBTaskResult.objects.filter(pk=tache.pk).update(
            started_at=timezone.now() - timedelta(hours=2)
        )
    bilan = taches.reprendre_taches_abandonnees()
    assert bilan["reprises"] == 0 and bilan["echecs"] == notifications.count()
    assert set(notifications.values_list("status", flat=True)) == {"FAILED"}
    assert mailoutbox == []


@pytest.mark.postgresql
def test_tache_d_un_travailleur_vivant_intacte(export_en_file):
    """The lease is the worker's advisory lock: held, the task is left alone."""
    export, tache = export_en_file
    parametres = connection.get_connection_params()
    parametres.pop("cursor_factory", None)
    parametres.pop("context", None)
    with psycopg.connect(**parametres, autocommit=True) as bail:
        taches.prendre_bail(bail, "vivant")
        _mourir_pendant(tache, export, "vivant")
        assert taches.travailleur_vivant("vivant")
        assert taches.reprendre_taches_abandonnees() == {"reprises": 0, "echecs": 0}
    # The connection closed (the process died): the lock went with it.
    assert not taches.travailleur_vivant("vivant")
    assert taches.reprendre_taches_abandonnees() == {"reprises": 1, "echecs": 0}
