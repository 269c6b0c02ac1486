"""The dashboard: a map, timeline, incident pages and live feed in the browser, served by ``truceline serve``.

``mount_dashboard(app, store, policy, principal)`` adds the static pages (``/dashboard/``, Leaflet
vendored, no CDN, no tile server) and the JSON routes they read (``/v1/dashboard/…``), every row
of which passes the policy layer. See ``docs/dashboard.md``.
"""

from truceline.dashboard.mount import mount_dashboard

__all__ = ["mount_dashboard"]
