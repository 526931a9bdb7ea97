"""Project dossiers: lifecycle, attachments, messages, regional reviews and their history
(`projets.services` is the only writer of a status)."""
