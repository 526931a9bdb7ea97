"""Database routing: API reads go to the read replica when one is configured.

`DATABASE_REPLICA_URL` adds a `replica` database; `LectureReplicaMiddleware`
marks GET/HEAD requests under /api/ so that their reads use it. Everything else
(writes, the admin, the portal, migrations) stays on the primary.
"""

from contextvars import ContextVar

from django.conf import settings

_lecture_replica: ContextVar[bool] = ContextVar("lecture_replica", default=False)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _lecture_replica.get() and "replica" in settings.DATABASES:
            return "replica"
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


class LectureReplicaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and request.path.startswith("/api/"):
            jeton = _lecture_replica.set(True)
            try:
                return self.get_response(request)
            finally:
                _lecture_replica.reset(jeton)
        return self.get_response(request)
