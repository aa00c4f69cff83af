"""Flowza's HTTP service: routes, services and the metadata database (``api.db``)."""
