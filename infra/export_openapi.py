"""Write the API's OpenAPI document as JSON (the web editor generates its TypeScript types from it).

Usage: python infra/export_openapi.py [OUT]   (default: stdout)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def openapi_document() -> dict:
    """The OpenAPI document of ``api.main.create_app()``; building it needs no running services."""
    sys.path.insert(0, str(ROOT))
    from api.main import create_app

    return create_app().openapi()


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="flowza-openapi-") as home:
        # Importing the app touches FLOWZA_HOME (Prefect's folder): keep that out of the user's home.
        os.environ.setdefault("FLOWZA_HOME", home)
        document = json.dumps(openapi_document(), indent=1, sort_keys=True) + "\n"
    if len(argv) > 1:
        Path(argv[1]).write_text(document)
    else:
        sys.stdout.write(document)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
