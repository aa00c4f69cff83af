"""Flowza's ground floor: settings, errors and the facts every other package shares.

It imports no other Flowza package, so every package (nodes, flows, metadata_db, deployments,
api, flowza) can import it without pulling in the engine or the service.
"""
