"""Flowza's HTTP service: routes, services and the metadata database (``metadata_db``)."""
