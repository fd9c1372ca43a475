"""The Airflow plugin of the Community page (SPEC §10): found by Airflow's plugin manager in the
plugins folder (``AIRFLOW__CORE__PLUGINS_FOLDER``; ``.airflowignore`` keeps it from scanning the
``community_monitoring`` package itself).

* ``fastapi_apps``: the api-server mounts ``community_monitoring.web.app.app`` at ``/community``
  (``airflow.api_fastapi.app.init_plugins``), behind Airflow's own authentication (see that module).
* ``fastapi_root_middlewares``: ``/community?...`` (a digest's "… and N more" link may be written
  without the slash) is redirected to ``/community/?...``.
* ``external_views``: a top-level **Community** item in the UI's navigation; with ``url_route``
  the UI shows the page inside itself, at ``/plugin/community``.

Importing it does no I/O: every Airflow process loads plugins, and the app imports its data
libraries on its first request.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from airflow.configuration import conf
from airflow.plugins_manager import AirflowPlugin

from community_monitoring.web.app import URL_PREFIX, TrailingSlash, app

# Under [api] base_url's path, when Airflow is served below one (e.g. https://host/airflow/).
_ROOT = urlsplit(conf.get("api", "base_url", fallback="") or "").path.rstrip("/")


class CommunityPagePlugin(AirflowPlugin):
    # Lists, as AirflowPlugin declares them (the plugin manager may remove an entry it rejects).
    name = "community_page"
    fastapi_apps = [  # noqa: RUF012
        {"app": app, "url_prefix": URL_PREFIX, "name": "Community page"}
    ]
    fastapi_root_middlewares = [  # noqa: RUF012
        {"middleware": TrailingSlash, "args": [], "kwargs": {"path": URL_PREFIX}, "name": "Community page /"}
    ]
    external_views = [  # noqa: RUF012
        {
            "name": "Community",
            "href": f"{_ROOT}{URL_PREFIX}/",
            "destination": "nav",
            "url_route": "community",
            "nav_top_level": True,
        }
    ]
