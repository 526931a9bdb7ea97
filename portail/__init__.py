"""The public portal door (DSFR): programme pages, territories, the leads' dossiers."""
