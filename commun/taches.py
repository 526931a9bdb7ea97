"""Background tasks that survive a crash (django-tasks, database backend django-tasks-db).

The queue is a PostgreSQL table shared by every worker on every machine (a worker
claims a task with `SELECT … FOR UPDATE SKIP LOCKED`). What django-tasks-db does not do
is notice a worker that died while running a task: the task stayed « RUNNING » forever.
`manage.py travailleur` (commun/management/commands/travailleur.py) adds a lease:

- each worker holds, for its whole life, a PostgreSQL advisory lock named after its id,
  on a connection of its own: when the process dies (killed, out of memory, machine
  lost: TCP keepalives), PostgreSQL drops the connection and the lock with it;
- every `TACHES_REPRISE_SECONDES`, each worker looks at the running tasks: one whose
  worker no longer holds its lock was abandoned. It is run again if its rule allows
  another attempt, else marked failed with a reason, and the task's `abandon` handler
  tells the user (e.g. « Mes exports »).

A task is re-run only when registered with `reprise(tentatives=N)` and written to be
idempotent; any other task is run at most once (an e-mail is never sent twice: a
notification abandoned half-way is marked failed, not re-sent). On SQLite (development)
there are no advisory locks: a task running for more than `TACHES_BAIL_SECONDES` is
taken as abandoned.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

logger = logging.getLogger("taches")


@dataclass(frozen=True)
class Reprise:
    tentatives: int = 1
    abandon: Callable | None = None  # abandon(raison, *args, **kwargs): tell the user
    relance: Callable | None = None  # relance(*args, **kwargs): undo a half-done attempt


_regles: dict[str, Reprise] = {}


def reprise(*, tentatives: int = 1, abandon: Callable | None = None, relance=None):
    """Register the crash rule of a task (decorate the `@task()` object)."""

    def enregistrer(tache):
        chemin = f"{tache.func.__module__}.{tache.func.__qualname__}"
        _regles[chemin] = Reprise(tentatives=tentatives, abandon=abandon, relance=relance)
        return tache

    return enregistrer


def regle(chemin: str) -> Reprise:
    """The rule of the task at `chemin`, importing its module first (a worker that has
    not run it yet has not registered it)."""
    if chemin not in _regles:
        try:
            import_module(chemin.rsplit(".", 1)[0])
        except ImportError:
            logger.warning("module de la tâche %s introuvable", chemin)
    return _regles.get(chemin, Reprise())


def _cle_sql() -> str:
    return "hashtextextended(%s, 0)"


def prendre_bail(connexion, worker_id: str) -> None:
    """Hold the worker's advisory lock on `connexion` (a psycopg connection)."""
    with connexion.cursor() as curseur:
        curseur.execute(f"SELECT pg_advisory_lock({_cle_sql()})", [worker_id])


def travailleur_vivant(worker_id: str, alias: str = "default") -> bool:
    connexion = connections[alias]
    with connexion.cursor() as curseur:
        curseur.execute(f"SELECT pg_try_advisory_lock({_cle_sql()})", [worker_id])
        libre = curseur.fetchone()[0]
        if libre:  # nobody holds it: the worker is gone; give it back at once
            curseur.execute(f"SELECT pg_advisory_unlock({_cle_sql()})", [worker_id])
    return not libre


def _abandonnee(resultat) -> bool:
    if connections[resultat._state.db or "default"].vendor == "postgresql":
        dernier = resultat.worker_ids[-1] if resultat.worker_ids else None
        return dernier is None or not travailleur_vivant(dernier)
    bail = timedelta(seconds=getattr(settings, "TACHES_BAIL_SECONDES", 3600))
    return resultat.started_at is None or resultat.started_at < timezone.now() - bail


RAISON = (
    "Traitement interrompu : le serveur de tâches s'est arrêté pendant la préparation "
    "({tentatives} tentative{s})."
)


def reprendre_taches_abandonnees() -> dict:
    """Re-queue or fail the running tasks whose worker died; {"reprises", "echecs"}."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    bilan = {"reprises": 0, "echecs": 0}
    en_cours = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
    for vu in en_cours.only("id", "worker_ids", "started_at"):
        if not _abandonnee(vu):
            continue
        with transaction.atomic():
            resultat = (
                DBTaskResult.objects.select_for_update(skip_locked=True)
                .filter(pk=vu.pk, status=TaskResultStatus.RUNNING)
                .first()
            )
            if resultat is None or resultat.worker_ids != vu.worker_ids:
                continue  # another worker is on it, or took it again meanwhile
            tentatives = len(resultat.worker_ids)
            chemin = resultat.task_path
            r = regle(chemin)
            if tentatives < r.tentatives:
                if r.relance is not None:
                    arguments = resultat.args_kwargs
                    r.relance(*arguments["args"], **arguments["kwargs"])
                resultat.status = TaskResultStatus.READY
                resultat.save(update_fields=["status"])
                bilan["reprises"] += 1
                logger.warning("tâche %s (%s) abandonnée, relancée", resultat.pk, chemin)
                continue
            raison = RAISON.format(tentatives=tentatives, s="s" if tentatives > 1 else "")
            resultat.status = TaskResultStatus.FAILED
            resultat.finished_at = timezone.now()
            resultat.exception_class_path = "commun.taches.TacheAbandonnee"
            resultat.traceback = raison
            resultat.save(
                update_fields=["status", "finished_at", "exception_class_path", "traceback"]
            )
            bilan["echecs"] += 1
            logger.error("tâche %s (%s) abandonnée : %s", resultat.pk, chemin, raison)
            if r.abandon is not None:
                arguments = resultat.args_kwargs
                r.abandon(raison, *arguments["args"], **arguments["kwargs"])
    return bilan


class TacheAbandonnee(Exception):
    """Recorded as the failure of a task whose worker died (see the traceback field)."""
