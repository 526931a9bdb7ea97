"""The back-office door: the admin site, the perimeter-bound admin base and inlines, the
officers' dashboard and the deferred exports (« Mes exports »)."""
