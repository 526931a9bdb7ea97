# Territoires d'industrie — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test donnees demo lint navigateur bench clean

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
	$(MANAGE) importer_territoires fixtures/referentiel/territoires-anct-extrait.csv
	$(MANAGE) importer_dispositifs

demo: donnees
	$(MANAGE) demo

run: demo
	@$(MANAGE) accueil_demo --url http://$(HOST):$(PORT)
	$(MANAGE) runserver $(HOST):$(PORT)

## Debian's Chromium for the browser tests (installed once, never downloaded by Playwright).
navigateur:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium absent : les tests navigateur seront ignorés (apt-get install chromium)."; fi; }

test: $(VENV)/.installe navigateur
	$(VENV)/bin/pytest

lint: $(VENV)/.installe
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles
