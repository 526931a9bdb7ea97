"""The partners' door: REST API (DRF, django-filter, OpenAPI) and open-data exports."""
