"""The sentence-embedding model embed_text and vector_search use, shipped with Flowza and loaded offline.

all-MiniLM-L6-v2 distilled by model2vec into static token embeddings (256 dimensions, 15 MB, no PyTorch): a text's
vector is the mean of its tokens' vectors, unit length. Why this model and not the transformer, with the figures:
``infra/scripts/make_embedding_model.py``.
"""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).resolve().parent / "data" / "embeddings" / "minilm-static-256"
MODEL_NAME = "minilm-static-256"
DIMENSIONS = 256
COLUMN_PREFIX = "embedding_"  # embed_text's columns: embedding_0 … embedding_255
BATCH = 4096


def embedding_columns() -> list[str]:
    return [f"{COLUMN_PREFIX}{i}" for i in range(DIMENSIONS)]


@lru_cache(maxsize=1)
def _model():
    from model2vec import StaticModel

    log.info("loading the embedding model %s", MODEL_NAME)
    return StaticModel.from_pretrained(str(MODEL_DIR), normalize=True)


@lru_cache(maxsize=1)
def model_fingerprint() -> str:
    """The model's name and a hash of its weights: part of cache keys and index keys, so a new model is used."""
    with open(MODEL_DIR / "model.safetensors", "rb") as fh:
        return f"{MODEL_NAME}:{hashlib.file_digest(fh, 'sha256').hexdigest()[:16]}"


def embed(texts: list[str]) -> np.ndarray:
    """One unit-length float32 row per text (all zeros for a text with no known token)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = _model().encode(texts, batch_size=BATCH, use_multiprocessing=False)  # no processes in a worker
    return np.ascontiguousarray(vectors, dtype=np.float32)
