# Territoires d'industrie — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: options-gunicorn run serve travailleur test donnees demo lint navigateur bench clean

$(VENV)/.installe: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 ou plus récent est requis.")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

## Reference data and demo data (idempotent: a second run changes nothing).
donnees: $(VENV)/.installe
	$(MANAGE) migrate --noinput
	$(MANAGE) importer_referentiel
	$(MANAGE) importer_territoires fixtures/referentiel/territoires-connus.csv
	$(MANAGE) importer_territoires fixtures/referentiel/territoires-anct-extrait.csv --extrait --date 2023-11-09
	$(MANAGE) importer_dispositifs
	$(MANAGE) calculer_contours

demo: donnees
	$(MANAGE) demo

run: demo
	@$(MANAGE) accueil_demo --url http://$(HOST):$(PORT)
	SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} $(MANAGE) runserver $(HOST):$(PORT)

## Production mode: gunicorn, whitenoise (hashed, compressed static files), DEBUG off.
## Needs SECRET_KEY and DATABASE_URL (PostgreSQL). SECURE_SSL_REDIRECT=false only behind no proxy.
## Threaded workers (gthread): a slow or half-open client holds one thread, not a whole
## worker; WORKERS x THREADS requests at once (docs/deploiement.md). The same command line
## is used by the deployment tests (outils/resilience.py, GUNICORN_OPTIONS).
WORKERS ?= 3
THREADS ?= 8
GUNICORN_OPTIONS = --worker-class gthread --workers $(WORKERS) --threads $(THREADS) \
  --timeout 60 --graceful-timeout 20 --keep-alive 5 \
  --limit-request-line 8190 --limit-request-fields 100 --limit-request-field_size 8190
serve: $(VENV)/.installe
	@test -n "$$SECRET_KEY" || { echo "SECRET_KEY est obligatoire pour make serve."; exit 1; }
	DEBUG=false $(MANAGE) collectstatic --noinput -v0
	DEBUG=false $(MANAGE) migrate --noinput
	DEBUG=false $(VENV)/bin/gunicorn config.wsgi $(GUNICORN_OPTIONS) --bind $(HOST):$(PORT) \
	  --access-logfile -

## Background tasks (TACHES_BACKEND=base): as many as needed, on any machine.
travailleur: $(VENV)/.installe
	$(MANAGE) travailleur

## Debian's Chromium for the browser tests (installed once, never downloaded by Playwright).
navigateur:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium absent : les tests navigateur seront ignorés (apt-get install chromium)."; fi; }

## axe-core (accessibility audit) and Chart.js from npm, for the browser tests.
node_modules/.installe: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm absent : l'audit d'accessibilité des tests navigateur sera ignoré."; fi

test: $(VENV)/.installe navigateur node_modules/.installe
	$(VENV)/bin/pytest

## Benchmark on PostgreSQL (127.0.0.1:5432, user postgres): one fresh database per size.
BENCH_TAILLES ?= 2000 20000
bench: $(VENV)/.installe
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = "0" ] && apt-get install -y -qq wrk >/dev/null || true; }
	@for n in $(BENCH_TAILLES); do \
	  base=ti_bench_$$n; url=postgres://postgres@127.0.0.1:5432/$$base; \
	  dropdb -h 127.0.0.1 -U postgres --if-exists $$base && createdb -h 127.0.0.1 -U postgres $$base; \
	  DATABASE_URL=$$url $(MANAGE) migrate -v0 && \
	  DATABASE_URL=$$url $(MANAGE) importer_referentiel -v0 >/dev/null && \
	  DATABASE_URL=$$url $(MANAGE) importer_territoires fixtures/referentiel/territoires-connus.csv >/dev/null && \
	  DATABASE_URL=$$url $(MANAGE) importer_dispositifs >/dev/null && \
	  DATABASE_URL=$$url $(MANAGE) generer_donnees --projets $$n --seed 1 && \
	  psql -h 127.0.0.1 -U postgres -d $$base -qc "VACUUM ANALYZE" && \
	  DATABASE_URL=$$url $(MANAGE) bench --charge || exit 1; \
	done

lint: $(VENV)/.installe
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles

## The gunicorn options of `make serve` (read by the deployment tests).
options-gunicorn:
	@echo $(GUNICORN_OPTIONS)
