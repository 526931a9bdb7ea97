"""Indexes of the French search (commun.recherche), PostgreSQL only.

The full-text index holds exactly the vector `commun.recherche.VecteurFrancais` builds
from the own columns declared on the queryset (same columns, weights and order); the
trigram indexes serve the typo-tolerant comparison (`<%` over `ti_sans_accents`).
"""

from django.db import migrations

CREER = """
CREATE INDEX IF NOT EXISTS projets_projet_recherche ON projets_projet USING gin ((setweight(to_tsvector('francais_sans_accents'::regconfig, COALESCE((reference)::text, '')), 'A') || setweight(to_tsvector('francais_sans_accents'::regconfig, COALESCE((titre)::text, '')), 'A') || setweight(to_tsvector('francais_sans_accents'::regconfig, COALESCE((porteur_raison_sociale)::text, '')), 'B') || setweight(to_tsvector('francais_sans_accents'::regconfig, COALESCE((description)::text, '')), 'C')));
CREATE INDEX IF NOT EXISTS projets_projet_titre_trgm ON projets_projet USING gin (ti_sans_accents(titre) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS projets_projet_porteur_raison_sociale_trgm ON projets_projet USING gin (ti_sans_accents(porteur_raison_sociale) gin_trgm_ops);
"""

SUPPRIMER = """
DROP INDEX IF EXISTS projets_projet_recherche;
DROP INDEX IF EXISTS projets_projet_titre_trgm;
DROP INDEX IF EXISTS projets_projet_porteur_raison_sociale_trgm;
"""


def creer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREER)


def supprimer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SUPPRIMER)


class Migration(migrations.Migration):
    dependencies = [("commun", "0001_recherche_francaise"), ("projets", "0002_index_listes")]

    operations = [migrations.RunPython(creer, supprimer, elidable=False)]
