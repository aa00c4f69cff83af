"""``register_model``: ask for a trained model to become a version in the model registry."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from nodes.base import Params, node
from nodes.ports import Model


class RegisterParams(Params):
    name: str = Field(..., pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,127}$",
                      description="Registered model name; a changed model (data, parameters or code) adds a version.")
    alias: str | None = Field(None, pattern=r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$",
                              description="Alias pointing at the new version, e.g. 'staging' or 'champion'.")

    @field_validator("alias")
    @classmethod
    def _not_reserved(cls, alias: str | None) -> str | None:
        if alias and (alias == "latest" or re.fullmatch(r"v\d+", alias)):
            raise ValueError("'latest' and 'v<number>' are reserved by the registry")
        return alias


@node(category="models")
def register_model(model: Model, params: RegisterParams) -> Model:
    """Register the model as a new version (optionally under an alias); the engine does the registering."""
    return Model(model.predictor, registration=(params.name, params.alias))
