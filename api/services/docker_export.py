"""A registered model version as a Docker build context that serves it without Flowza or MLflow.

The context holds the MLflow model folder, the lean server (``api/serving/lean_server.py`` as
``server.py``) with the scoring module it imports, pinned requirements and a Dockerfile on the
Python this API runs (the pickle's). Requirements are the model's own (pinned when it was logged, as
this environment had them) without MLflow, plus the web server: unpickling imports only the model's
``code/`` packages (``nodes``, ``flowza_core``) and those libraries.
"""

from __future__ import annotations

import re
import shutil
import sys
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

from api.serving import lean_server, scoring
from flows import registry

SERVER_LIBRARIES = ("uvicorn",)
NOT_NEEDED = ("mlflow",)  # the server unpickles the model itself
DOCKERFILE = """\
# Serves model '{name}' version {version}: POST /invocations (MLflow's scoring bodies), GET /ping, GET /health.
#   docker build -t {slug} .  &&  docker run -p 8080:8080 -e SERVING_TOKEN=<a secret> {slug}
# Without SERVING_TOKEN the endpoint answers anyone.
FROM python:{python}-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY server.py scoring.py ./
COPY model/ model/
ENV MODEL_PATH=/app/model MODEL_VERSION={version}
EXPOSE 8080
CMD ["uvicorn", "server:app", "--host", "0.0.0.0", "--port", "8080"]
"""


def archive_name(name: str, version: int) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "model"
    return f"{slug}-{version}-docker.tar.gz"


def requirements(model_dir: Path) -> list[str]:
    """The model's pinned libraries (less MLflow) and the server's, pinned to this environment."""
    lines = [line.strip() for line in (model_dir / "requirements.txt").read_text().splitlines()]
    model_libs = [line for line in lines
                  if line and not line.startswith("#") and re.split(r"[<>=!~ \[;]", line)[0].lower() not in NOT_NEEDED]
    return model_libs + [f"{lib}=={version(lib)}" for lib in SERVER_LIBRARIES]


def build_context(name: str, version: int) -> Path:
    """The build context as a .tar.gz in a new temporary folder (the caller removes ``path.parent``)."""
    folder = Path(tempfile.mkdtemp(prefix="flowza-docker-"))
    try:
        context = folder / "context"
        model_dir = registry.download_model(name, version, context / "model")
        shutil.copyfile(lean_server.__file__, context / "server.py")
        shutil.copyfile(scoring.__file__, context / "scoring.py")
        (context / "requirements.txt").write_text("\n".join(requirements(model_dir)) + "\n")
        slug = archive_name(name, version).removesuffix("-docker.tar.gz")
        (context / "Dockerfile").write_text(DOCKERFILE.format(
            name=name, version=version, slug=slug.lower(), python=f"{sys.version_info.major}.{sys.version_info.minor}"))
        archive = folder / archive_name(name, version)
        with tarfile.open(archive, "w:gz") as tar:
            for path in sorted(context.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    tar.add(path, arcname=path.relative_to(context).as_posix(), recursive=False)
        shutil.rmtree(context)
        return archive
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
