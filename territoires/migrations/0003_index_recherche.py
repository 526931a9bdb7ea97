"""Indexes of the French search (commun.recherche), PostgreSQL only.

The full-text index holds exactly the vector `commun.recherche.VecteurFrancais` builds
from the own columns declared on the queryset (same columns, weights and order); the
trigram indexes serve the typo-tolerant comparison (`<%` over `ti_sans_accents`).
"""

from django.db import migrations

CREER = """
CREATE INDEX IF NOT EXISTS territoires_territoire_recherche ON territoires_territoire USING gin ((setweight(to_tsvector('francais_sans_accents'::regconfig, COALESCE((nom)::text, '')), 'A')));
CREATE INDEX IF NOT EXISTS territoires_territoire_nom_trgm ON territoires_territoire USING gin (ti_sans_accents(nom) gin_trgm_ops);
"""

SUPPRIMER = """
DROP INDEX IF EXISTS territoires_territoire_recherche;
DROP INDEX IF EXISTS territoires_territoire_nom_trgm;
"""


def creer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREER)


def supprimer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SUPPRIMER)


class Migration(migrations.Migration):
    dependencies = [("commun", "0001_recherche_francaise"), ("territoires", "0002_code_departement_sans_20")]

    operations = [migrations.RunPython(creer, supprimer, elidable=False)]
