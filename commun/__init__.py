"""The shared toolkit: French formats, export writers, data-version cache, middleware,
health and error views, the DSFR form base. Imports Django and libraries only."""
