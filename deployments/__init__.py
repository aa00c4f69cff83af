"""Prefect deployments of Flowza's workflow flow, and the worker that runs them."""
