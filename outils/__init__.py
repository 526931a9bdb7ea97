"""Development and measurement tools only: `generer_donnees`, `bench`, `resilience`."""
