"""French search on PostgreSQL: extensions, text-search configuration, SQL function.

- `unaccent` and `pg_trgm` extensions;
- `francais_sans_accents`: the `french` configuration with accents removed before
  stemming (« Mécaniques » and « mecanique » give the same lexeme);
- `ti_sans_accents(text)`: lower case without accents, IMMUTABLE so that trigram
  indexes can use it (`unaccent()` alone is only STABLE). On SQLite the same name is a
  Python function registered on each connection (`commun.recherche`).

Nothing to do on SQLite.
"""

from django.db import migrations

CREER = """
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'francais_sans_accents') THEN
    CREATE TEXT SEARCH CONFIGURATION francais_sans_accents (COPY = pg_catalog.french);
    ALTER TEXT SEARCH CONFIGURATION francais_sans_accents
      ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, french_stem;
  END IF;
END $$;
CREATE OR REPLACE FUNCTION ti_sans_accents(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;
"""

SUPPRIMER = """
DROP FUNCTION IF EXISTS ti_sans_accents(text);
DROP TEXT SEARCH CONFIGURATION IF EXISTS francais_sans_accents;
"""


def creer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREER)


def supprimer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SUPPRIMER)


class Migration(migrations.Migration):
    dependencies = []

    operations = [migrations.RunPython(creer, supprimer, elidable=False)]
