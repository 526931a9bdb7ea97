"""Demo accounts and data (`manage.py demo`, `accueil_demo`), built through the services."""
