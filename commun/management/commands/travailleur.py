"""`manage.py travailleur`: django-tasks-db's `db_worker`, plus a lease that detects the
tasks of a dead worker (commun/taches.py). Same options as `db_worker`; run as many as
needed, on as many machines as needed: they share the queue in PostgreSQL."""

import logging
import threading

import psycopg
from django.conf import settings
from django.db import close_old_connections, connections
from django_tasks_db.management.commands import db_worker

from commun import taches

logger = logging.getLogger("taches")


class Travailleur(db_worker.Worker):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bail = None
        self.arret = threading.Event()

    def _prendre_bail(self) -> None:
        base = connections["default"]
        if base.vendor != "postgresql":
            return
        # A connection of its own, never closed by close_old_connections: the lock lives
        # exactly as long as this process. Keepalives: a lost machine drops it too.
        parametres = base.get_connection_params()
        parametres.pop("cursor_factory", None)
        parametres.pop("context", None)
        parametres.update(
            keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3
        )
        self.bail = psycopg.connect(**parametres, autocommit=True)
        taches.prendre_bail(self.bail, self.worker_id)

    def _surveiller(self) -> None:
        intervalle = getattr(settings, "TACHES_REPRISE_SECONDES", 15)
        while not self.arret.wait(intervalle):
            try:
                bilan = taches.reprendre_taches_abandonnees()
                if bilan["reprises"] or bilan["echecs"]:
                    logger.warning("tâches abandonnées : %s", bilan)
            except Exception:  # noqa: BLE001 - the database may be down: try again later
                logger.exception("surveillance des tâches abandonnées impossible")
            finally:
                close_old_connections()

    def run(self) -> None:
        self._prendre_bail()
        # Right away too: tasks left by a worker that died before this one started.
        taches.reprendre_taches_abandonnees()
        surveillant = threading.Thread(target=self._surveiller, daemon=True)
        surveillant.start()
        try:
            super().run()
        finally:
            self.arret.set()
            if self.bail is not None:
                self.bail.close()


class Command(db_worker.Command):
    help = "Exécute les tâches de fond et reprend celles d'un travailleur arrêté."

    def handle(self, *args, **options):
        ancien = db_worker.Worker
        db_worker.Worker = Travailleur
        try:
            return super().handle(*args, **options)
        finally:
            db_worker.Worker = ancien
