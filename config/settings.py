"""Settings of the Territoires d'industrie portal.

One module, driven by environment variables (see README). With no variable
set, the portal runs in development mode on an SQLite file in the project
folder.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean variable; anything but true/false is a configuration error."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("true", "1", "yes", "on"):
        return True
    if value.lower() in ("false", "0", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_mandataires(name: str) -> int | list[str]:
    """Trusted reverse proxies (commun/clients.py): a count N (the client is the N-th
    address from the right of X-Forwarded-For; 0, the default: no proxy, REMOTE_ADDR) or
    a comma-separated list of networks (CIDR) whose addresses are trusted proxies."""
    value = os.environ.get(name, "").strip()
    if value == "":
        return 0
    if value.isdigit():
        return int(value)
    reseaux = [item.strip() for item in value.split(",") if item.strip()]
    for reseau in reseaux:
        try:
            ipaddress.ip_network(reseau, strict=False)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name} must be a number of proxies or a list of networks, not {value!r}"
            ) from exc
    return reseaux


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "gestion.apps.GestionAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "import_export",
    "widget_tweaks",
    "dsfr",
    "commun",
    "territoires",
    "projets",
    "financements",
    "comptes",
    "gestion",
    "portail",
    "api",
    "demo",
    "outils",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    # First: forgets X-Forwarded-* headers not set by a trusted proxy, refuses oversized
    # bodies before anything reads them (commun/clients.py).
    "commun.clients.MandatairesMiddleware",
    "commun.middleware.JournalRequetesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # MIDDLEWARE_NAVIGATEUR below, skipped by token API requests.
    "commun.middleware.NavigateurMiddleware",
    "config.routeurs.LectureReplicaMiddleware",
    "commun.middleware.BaseIndisponibleMiddleware",
    # Malformed input met in a view (filter, lookup, NUL byte) is a French 400 (issue 21).
    "commun.middleware.EntreeMalformeeMiddleware",
    # Last, as django-axes requires: turns a lockout into the 429 page.
    "axes.middleware.AxesMiddleware",
]

# What only browsers need, in this order; token API requests skip it (see
# commun.middleware.NavigateurMiddleware).
MIDDLEWARE_NAVIGATEUR = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Second factor on every route serving staff data (comptes/securite.py); the API
    # namespace is exempt (an unverified session reads open data only).
    "comptes.securite.DoubleAuthentificationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "comptes.securite.InactiviteMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

# The admin looks for these three in MIDDLEWARE only; they are in MIDDLEWARE_NAVIGATEUR,
# which commun.checks verifies instead (commun.E001).
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]

ROOT_URLCONF = "config.urls"
# French 403 page for a CSRF failure (Django's own is in English).
CSRF_FAILURE_VIEW = "commun.views.echec_csrf"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dsfr.context_processors.site_config",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Persistent connections bring nothing to SQLite and keep files locked.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
# PostgreSQL: parameters bound by the server, so that psycopg prepares a statement run
# PG_PREPARATION times on a connection and PostgreSQL reuses its plan. Planning the list
# queries (many joins and sums) took 5 to 30 ms, more than running them
# (docs/performance.md). Turn off behind a PgBouncer older than 1.21 in transaction mode.
# JIT compilation is off: it added ~30 ms to exports and roll-ups and never paid back.
PG_OPTIONS = {
    "server_side_binding": env_bool("PG_LIAISON_SERVEUR", True),
    "prepare_threshold": env_int("PG_PREPARATION", 2),
    "options": "-c jit=off",
}

if env_str("DATABASE_REPLICA_URL"):
    # A read replica for API reads (see config/routeurs.py and docs/deploiement.md).
    DATABASES["replica"] = dj_database_url.parse(
        env_str("DATABASE_REPLICA_URL"),
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        # An unreachable replica must not hold a request long (reads go to the primary).
        DATABASES["replica"].setdefault("OPTIONS", {})["connect_timeout"] = env_int(
            "REPLIQUE_DELAI_CONNEXION", 2
        )
for _base in DATABASES.values():
    if _base["ENGINE"] == "django.db.backends.postgresql":
        _base.setdefault("OPTIONS", {}).update(PG_OPTIONS)
DATABASE_ROUTERS = ["config.routeurs.ReplicaRouter"]

# Cache, sessions and API throttling counters: Redis when REDIS_URL is set (shared by
# every app server), else memory local to each process (fine for one server).
if env_str("REDIS_URL"):
    CACHES = {
        "default": {
            # Redis errors degrade to "no cache", never a 500 (commun/cache.py).
            "BACKEND": "commun.cache.CacheRedisTolerant",
            "LOCATION": env_str("REDIS_URL"),
            "OPTIONS": {
                "socket_connect_timeout": env_int("REDIS_DELAI_MS", 250) / 1000,
                "socket_timeout": env_int("REDIS_DELAI_MS", 250) / 1000,
            },
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr-fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
# Dates « 15/01/2026 » and narrow no-break spaces in every Django display (commun.formats).
FORMAT_MODULE_PATH = ["commun.formats_django"]

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files in production (after collectstatic).
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# Attachments are never served as static files: see projets.views.
MEDIA_URL = "/media-non-publie/"

if env_str("S3_BUCKET"):
    # Attachments on S3-compatible object storage (private, signed URLs never exposed:
    # downloads still go through the perimeter-checking views).
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("S3_BUCKET"),
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "region_name": env_str("S3_REGION") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID"),
            "secret_key": env_str("S3_SECRET_ACCESS_KEY"),
            "default_acl": "private",
            "file_overwrite": False,
        },
    }

LOGIN_URL = "connexion"
LOGIN_REDIRECT_URL = "mes_dossiers"
LOGOUT_REDIRECT_URL = "accueil"

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str(
    "DEFAULT_FROM_EMAIL", "Territoires d'industrie <ne-pas-repondre@territoires-industrie.example>"
)

# Background work (e-mails): in-process by default; TACHES_BACKEND=base stores tasks in
# the database for `manage.py db_worker` to run.
_TACHES_BACKENDS = {
    "immediat": "django_tasks.backends.immediate.ImmediateBackend",
    "base": "django_tasks_db.DatabaseBackend",
}
_taches_backend = env_str("TACHES_BACKEND", "immediat")
if _taches_backend not in _TACHES_BACKENDS:
    raise ImproperlyConfigured(
        f"TACHES_BACKEND must be {' or '.join(_TACHES_BACKENDS)}, not {_taches_backend!r}"
    )
TASKS = {"default": {"BACKEND": _TACHES_BACKENDS[_taches_backend]}}

# Partner webhooks (api/services.py, commun/reseau.py): receivers must be public HTTPS
# addresses. WEBHOOKS_HTTP_LOCAL lets a receiver listen on http://127.0.0.1 (tests and
# local development only: refused without DEBUG).
WEBHOOKS_HTTP_LOCAL = env_bool("WEBHOOKS_HTTP_LOCAL", False)
if WEBHOOKS_HTTP_LOCAL and not DEBUG:
    raise ImproperlyConfigured("WEBHOOKS_HTTP_LOCAL is for development only (DEBUG off).")
WEBHOOKS_DELAI = 5  # seconds: connection and each read
WEBHOOKS_DELAI_TOTAL = 15  # seconds: a whole delivery, reading of the answer included
WEBHOOKS_REPONSE_MAX = 64 * 1024  # bytes of the receiver's answer read at most

# Request bodies. A body announced above REQUETE_TAILLE_MAX (Content-Length) is refused
# with a 413 before anything reads it (commun.clients.MandatairesMiddleware): an
# attachment (PIECE_JOINTE_TAILLE_MAX) plus the form around it. Form fields other than
# files are held in memory up to DATA_UPLOAD_MAX_MEMORY_SIZE; an uploaded file above
# FILE_UPLOAD_MAX_MEMORY_SIZE is spooled to a temporary file. The reverse proxy should
# apply the same limit (docs/deploiement.md).
PIECE_JOINTE_TAILLE_MAX = 20 * 1024 * 1024
REQUETE_TAILLE_MAX = env_int("REQUETE_TAILLE_MAX_MO", 21) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
# Sessions expire after a working day and when the browser closes.
SESSION_COOKIE_AGE = env_int("SESSION_DUREE_SECONDES", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# ... and after this many minutes without a request (0: no idle limit).
SESSION_INACTIVITE_MINUTES = env_int("SESSION_INACTIVITE_MINUTES", 60)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp), in every profile so that tests and development see
# it: only this site's own files run or load; no inline script, style or event handler
# (page data for scripts goes through json_script). The API's Redoc page alone relaxes
# style-src (see api/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        # Plus the ProConnect host when configured (below).
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}
# Browsers report violations here (commun.views.rapport_csp logs them); an empty value
# turns reports off, an absolute URL sends them to a collector.
# django-dsfr marks the content of its components safe by default: messages quoting a
# file name or a title typed by a user would be rendered as HTML. Escape them; markup
# built on purpose (format_html) stays markup.
DSFR_CONTENT_IS_SAFE = False

CSP_RAPPORT_URL = env_str("CSP_RAPPORT_URL", "/csp/rapport/")
if CSP_RAPPORT_URL:
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [CSP_RAPPORT_URL]
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Believed only from a trusted proxy: commun.clients.MandatairesMiddleware drops the
    # header of any other request (MANDATAIRES_DE_CONFIANCE below).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "api.schema.SchemaAPI",
    "DEFAULT_FILTER_BACKENDS": ["api.filters.FiltresAPI"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.JetonAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PaginationAPI",
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.DebitJeton",
        "api.throttling.DebitSession",
        "api.throttling.DebitAnonyme",
    ],
    # Requests per period (second, minute, hour, day) for each kind of caller.
    "DEFAULT_THROTTLE_RATES": {
        "anonyme": env_str("API_DEBIT_ANONYME", "120/minute"),
        "jeton": env_str("API_DEBIT_JETON", "1200/minute"),
        "session": env_str("API_DEBIT_SESSION", "600/minute"),
    },
    "EXCEPTION_HANDLER": "api.exceptions.gestionnaire_exceptions",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "API Territoires d'industrie",
    "DESCRIPTION": """Données ouvertes et données partenaires du programme Territoires d'industrie.

**Accès.** Sans jeton : données ouvertes (référentiels, territoires, dossiers retenus, en
cours ou réalisés avec leurs champs publics, aides engagées, chiffres du programme).
Avec un jeton partenaire (en-tête `Authorization: Bearer <jeton>` ou
`Authorization: Token <jeton>`, délivré par l'équipe nationale) : niveau « données
ouvertes », ou niveau « complet » = tous les dossiers, aides et enveloppes du périmètre
du titulaire, avec contacts et chiffres complets. Les agents connectés au back-office
ont le niveau complet sur leur périmètre. L'API est en lecture seule.

**Identifiants.** Codes INSEE (régions, départements, communes), SIREN (EPCI), slug ou
identifiant ANCT (territoires), référence (dossiers), code (dispositifs, phases),
`<phase>-<code>` (axes), `<dispositif>-<région>-<année>` (enveloppes), UUID (aides,
versements).

**Pagination.** Par pages (`page`, `page_size` ≤ 500) ou, pour une synchronisation
complète, par curseur (`pagination=curseur`, suivre `next`) ; `modifie_depuis` pour
une synchronisation incrémentale. Les détails renvoient `ETag` et `Last-Modified`
(requêtes conditionnelles, réponse 304).

**Exports.** `?format=csv` sur chaque liste (toutes les pages, en flux) et
`/api/v1/opendata/subventions.csv` (format SCDL « subventions » 2.1.1 : subventions
signées de plus de 23 000 €). Licence Ouverte 2.0 :
en-têtes `X-Licence`, `Link` (rel="license") et `X-Genere-Le` (date de génération).

**Quotas.** Par jeton, par session et par adresse anonyme ; au-delà, réponse 429 avec
l'en-tête `Retry-After`. Erreurs en JSON : `{"code": …, "detail": "message en français"}`.""",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "NatureProjetEnum": "projets.models.Projet.Nature",
        "NatureAideEnum": "financements.models.NatureAide",
        "NatureEpciEnum": "territoires.models.Intercommunalite.Nature",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Audit events are stored in the database; their JSON log lines are for
        # production log collection (LOG_AUDIT=true to see them in development).
        "audit": {"level": "INFO" if env_bool("LOG_AUDIT", not DEBUG) else "WARNING"},
        # One line per task state change is noise; failures are still logged.
        "django_tasks": {"level": "WARNING"},
        # One JSON line per request; silent in development unless LOG_REQUETES=true.
        "requetes": {
            "handlers": ["console"],
            "level": "INFO" if env_bool("LOG_REQUETES", not DEBUG) else "WARNING",
            "propagate": False,
        },
    },
}

# Optional error reporting: unhandled errors and logged errors go to Sentry (or a
# compatible service such as GlitchTip) when SENTRY_DSN is set; no personal data sent.
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONNEMENT", "production"),
        send_default_pii=False,
        traces_sample_rate=0.0,
    )

# --- Resilience at scale-out (issue 21; docs/deploiement.md) -------------------------
# Read-your-writes: after a write, the same browser and the user's API tokens read from
# the primary for this long, or until the replica has replayed the write (routeurs.py).
LECTURE_PRIMAIRE_SECONDES = env_int("LECTURE_PRIMAIRE_SECONDES", 30)
# An unreachable replica (or Redis) is left alone this long; reads go to the primary
# (computed without cache) meanwhile.
REPLIQUE_PAUSE_SECONDES = env_int("REPLIQUE_PAUSE_SECONDES", 5)
CACHE_PAUSE_SECONDES = env_int("CACHE_PAUSE_SECONDES", 5)
# /sante/: a replica lagging more than this many seconds is « dégradé ».
REPLIQUE_RETARD_MAX = env_int("REPLIQUE_RETARD_MAX", 30)
# Background tasks (`manage.py travailleur`, commun/taches.py): every worker looks for the
# tasks of dead workers this often; on SQLite (no advisory locks) a task running longer
# than TACHES_BAIL_SECONDES is taken as abandoned.
TACHES_REPRISE_SECONDES = env_int("TACHES_REPRISE_SECONDES", 15)
TACHES_BAIL_SECONDES = env_int("TACHES_BAIL_SECONDES", 3600)
# File e-mail backend (EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend):
# one file per message in this folder (deployment tests count them).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH") or None
# --- end of resilience block ----------------------------------------------------------

# Project settings
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "demo-territoires-2026")
# Back-office exports above this many rows are prepared in the background (« Mes exports »).
EXPORT_SEUIL_DIFFERE = env_int("EXPORT_SEUIL_DIFFERE", 5000)
# Optional clamd antivirus for uploads: "tcp://host:3310" or "unix:///path/clamd.ctl".
CLAMD_ADRESSE = env_str("CLAMD_ADRESSE")
CLAMD_DELAI = env_int("CLAMD_DELAI", 10)

# ProConnect (the State's OpenID Connect federation) through mozilla-django-oidc.
# Configured only by environment variables; without them no ProConnect button is shown.
# Endpoints come from the discovery document, fetched on first use and cached
# (comptes/proconnect.py).
PROCONNECT_CLIENT_ID = env_str("PROCONNECT_CLIENT_ID")
PROCONNECT_CLIENT_SECRET = env_str("PROCONNECT_CLIENT_SECRET")
# e.g. https://fca.integ01.dev-agentconnect.fr/api/v2/.well-known/openid-configuration
PROCONNECT_DISCOVERY_URL = env_str("PROCONNECT_DISCOVERY_URL")
PROCONNECT_ACR_VALUES = env_str("PROCONNECT_ACR_VALUES", "eidas1")
# false: agents and staff may not sign in with a password (ProConnect is their only door).
CONNEXION_MOT_DE_PASSE_AGENTS = env_bool("CONNEXION_MOT_DE_PASSE_AGENTS", True)
AUTHENTICATION_BACKENDS = [
    # First: refuses any attempt on a locked username + address pair (django-axes).
    "axes.backends.AxesStandaloneBackend",
    "comptes.backends.MotDePasseBackend",
    "comptes.proconnect.ProConnectBackend",
]
OIDC_RP_CLIENT_ID = PROCONNECT_CLIENT_ID
OIDC_RP_CLIENT_SECRET = PROCONNECT_CLIENT_SECRET
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email given_name usual_name siret uid idp_id"
OIDC_AUTHENTICATION_CALLBACK_URL = "proconnect_retour"
OIDC_STORE_ID_TOKEN = True  # needed for the end-session id_token_hint
OIDC_USE_NONCE = True
OIDC_TIMEOUT = env_int("PROCONNECT_TIMEOUT", 10)
LOGIN_REDIRECT_URL_FAILURE = "connexion"
if PROCONNECT_DISCOVERY_URL:
    # Signing in is a link, but logging out is a form posted here that redirects to
    # ProConnect's end-session endpoint, and browsers apply form-action to the redirects
    # of a form submission.
    _proconnect = urlsplit(PROCONNECT_DISCOVERY_URL)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(
        f"{_proconnect.scheme}://{_proconnect.netloc}"
    )

# Login protection (django-axes): after AXES_FAILURE_LIMIT failures for one username from
# one address, that pair is locked for AXES_COOLOFF_TIME (page 429 in French). Unlock
# earlier with `manage.py axes_reset_username <identifiant>` (or `axes_reset`).
AXES_FAILURE_LIMIT = env_int("CONNEXION_ECHECS_MAX", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CONNEXION_VERROUILLAGE_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ADMIN = False  # the back-office shows comptes.EvenementAudit instead
AXES_LOCKOUT_CALLABLE = "comptes.securite.reponse_verrouillage"
# The same client address as the API quotas, the audit trail and the request log.
AXES_CLIENT_IP_CALLABLE = "commun.clients.adresse_client"
AXES_VERBOSE = False  # no banner on every command; lockouts are in the audit trail
MANDATAIRES_DE_CONFIANCE = env_mandataires("MANDATAIRES_DE_CONFIANCE")

# TOTP two-factor authentication (django-otp) for every back-office page: on by default
# in production, off in development so that the demo accounts stay usable.
DOUBLE_AUTHENTIFICATION = env_bool("DOUBLE_AUTHENTIFICATION", not DEBUG)
OTP_TOTP_ISSUER = "Territoires d'industrie"
