"""The Community page (SPEC §10): the post state table in the Airflow UI.

``app.py`` is the FastAPI app the plugin ``plugins/community_page_plugin.py`` mounts in the
api-server at ``/community`` (behind Airflow's own authentication); ``page.py`` turns the state
table's rows and the query parameters into what the page shows (pure); ``templates/`` holds the page.
"""
