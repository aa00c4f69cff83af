"""Who may register under a model name in multi-user mode: its owner and users it is shared with as editor.

The register node asks here before MLflow registers anything. A name new to MLflow becomes the
run owner's. A name MLflow held before models had owners belongs to the owner of the run that
registered its first version (found through that version's ``flowza.run_id`` tag); a name first
registered outside any Flowza run cannot be claimed by a run.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from metadata_db import model_owners
from metadata_db.session import session_factory, upgrade
from flows.tracking import RegistryError
from flowza_core.settings import Settings


class ModelNameTaken(RegistryError):
    code = "MODEL_NAME_TAKEN"


@lru_cache
def _sessions(url: str) -> sessionmaker[Session]:
    upgrade(url)  # a run may be the first to open the database
    return session_factory(url)


def check_registration(settings: Settings, name: str, run_id: str | None,
                       first_version: Callable[[], tuple[bool, str | None]]) -> None:
    """Raise ``ModelNameTaken`` unless the run's owner may add versions to ``name``; claim a new name for them.

    ``first_version()`` says whether MLflow already has the model, and the Flowza run of its first version.
    Single-user mode: every name is everyone's.
    """
    if not settings.auth_enabled:
        return
    with _sessions(settings.metadata_db_url).begin() as session:
        user = model_owners.run_owner(session, run_id) if run_id else None
        owned = model_owners.owner_of(session, name)
        if owned is None:
            exists, first_run = first_version()
            owner = (model_owners.run_owner(session, first_run) if first_run else None) if exists else user
            if owner is None:
                if exists:
                    raise ModelNameTaken(f"the model name '{name}' was registered outside Flowza's runs and has no "
                                         f"owner here: choose another name in the register node", field="name")
                return  # a run nobody owns (started outside the API) registers, and claims nothing
            owned = model_owners.claim(session, name, owner)
        if user is None or model_owners.role_of(session, owned, user) not in ("owner", "editor"):
            raise ModelNameTaken(f"the model name '{name}' is taken by another user: choose another name in the "
                                 f"register node, or ask the model's owner to share it with you as editor",
                                 field="name")
