"""Flowza: visual ML workflows run on Prefect.

The SDK lives in :mod:`flowza.sdk`; ``from flowza import Workflow`` is the short form.
"""

__all__ = ["Workflow"]


def __getattr__(name: str):
    # Lazy so that `flowza_core.settings` / `flowza_core.errors` import without the engine.
    if name == "Workflow":
        from flowza.sdk import Workflow

        return Workflow
    raise AttributeError(name)
