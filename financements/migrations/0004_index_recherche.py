"""Indexes of the French search (commun.recherche), PostgreSQL only.

The full-text index holds exactly the vector `commun.recherche.VecteurFrancais` builds
from the own columns declared on the queryset (same columns, weights and order); the
trigram indexes serve the typo-tolerant comparison (`<%` over `ti_sans_accents`).
"""

from django.db import migrations

CREER = """
CREATE INDEX IF NOT EXISTS financements_aide_recherche ON financements_aide USING gin ((setweight(to_tsvector('francais_sans_accents'::regconfig, COALESCE((reference_decision)::text, '')), 'A')));
"""

SUPPRIMER = """
DROP INDEX IF EXISTS financements_aide_recherche;
"""


def creer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREER)


def supprimer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SUPPRIMER)


class Migration(migrations.Migration):
    dependencies = [("commun", "0001_recherche_francaise"), ("financements", "0003_index_listes")]

    operations = [migrations.RunPython(creer, supprimer, elidable=False)]
