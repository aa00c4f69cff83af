"""vector_search: the rows of a table whose text is closest in meaning to a query, with a FAISS index.

The index holds the table's embeddings (embed_text's columns, or the text column embedded here) and is kept in the
object store (``NodeContext.objects``) under a hash of those texts or vectors and the model: a later run on the
same table, with any query, reads it back instead of building it. Up to ``EXACT_UP_TO`` rows the search is exact
(inner product of unit vectors: cosine similarity); above, an HNSW graph answers in a fraction of the time, nearly
exactly. A metadata filter restricts the search to rows whose columns hold given values (FAISS's ID selectors).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from pydantic import Field, JsonValue, field_validator

from flowza_core.errors import InvalidParameter
from nodes.base import NodeContext, Params, node
from nodes.columns import require_columns
from nodes.embedding_model import DIMENSIONS, MODEL_NAME, embed, embedding_columns, model_fingerprint
from nodes.embeddings import texts_of
from nodes.names import unique_names
from nodes.ports import Dataset, Json
from nodes.templating import render_text

log = logging.getLogger(__name__)

EXACT_UP_TO = 50_000
HNSW_LINKS = 32


class VectorSearchParams(Params):
    query: str = Field(..., min_length=1, max_length=10_000, title="Query",
                       description="What to look for, in words; {{ values.question }} reads the values input.",
                       json_schema_extra={"multiline": True})
    column: str = Field("text", min_length=1, title="Text column")
    top_k: int = Field(5, ge=1, le=1000, title="Results", description="How many of the closest rows to return.")
    min_score: float = Field(0.0, ge=-1, le=1, title="Lowest score",
                             description="Cosine similarity a row needs (1: the same meaning; 0: unrelated).")
    filter: dict[str, JsonValue] | None = Field(
        None, title="Metadata filter",
        description='Search only rows whose columns hold these values: {"source": "iris.rst"} or '
                    '{"year": [2023, 2024]}.')

    @field_validator("filter")
    @classmethod
    def _values_or_lists_of_values(cls, value: dict | None) -> dict | None:
        for column, wanted in (value or {}).items():
            for item in wanted if isinstance(wanted, list) else [wanted]:
                if isinstance(item, (dict, list)):
                    raise ValueError(f"filter '{column}': give a value or a list of values, not {type(item).__name__}"
                                     f"s inside")
        return value


class SearchResult(NamedTuple):
    hits: Dataset  # the closest rows, best first, with rank and score
    context: Json  # {query, passages, hits, index}: for an llm_call prompt


def _model_salt(params: VectorSearchParams, ctx: NodeContext) -> str:
    return model_fingerprint()


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def _build(vectors: np.ndarray):
    import faiss

    if len(vectors) <= EXACT_UP_TO:
        index = faiss.IndexFlatIP(DIMENSIONS)
    else:
        index = faiss.IndexHNSWFlat(DIMENSIONS, HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
    index.add(vectors)
    return index


def _index(frame: pd.DataFrame, column: str, ctx: NodeContext):
    """(index, reused): the kept index of this table's vectors, or one built now (and kept)."""
    import faiss

    if all(c in frame.columns for c in embedding_columns()):
        vectors = np.ascontiguousarray(frame[embedding_columns()].to_numpy(dtype=np.float32))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
        key = _digest(model_fingerprint().encode(), b"vectors", vectors.tobytes())
    else:
        texts = texts_of(frame, column)
        vectors = None
        key = _digest(model_fingerprint().encode(), b"texts", "\0".join(texts).encode())
    name = f"{MODEL_NAME}-{key[:40]}.faiss"
    kept = ctx.objects.get(name) if ctx.objects is not None else None
    if kept is not None:
        try:
            index = faiss.deserialize_index(np.frombuffer(kept, dtype=np.uint8))
            if index.ntotal == len(frame) and index.d == DIMENSIONS:
                ctx.logger.info("vector_search: reusing the kept index of %d rows (%s)", index.ntotal, name)
                return index, True
        except RuntimeError:
            log.warning("the kept index %s is unreadable; building it anew", name, exc_info=True)
    index = _build(embed(texts) if vectors is None else vectors)
    if ctx.objects is not None:
        try:
            ctx.objects.put(name, faiss.serialize_index(index).tobytes())
        except Exception:  # keeping it only saves the next run time
            log.warning("could not keep the index %s", name, exc_info=True)
    return index, False


def _allowed_rows(frame: pd.DataFrame, wanted: dict[str, Any] | None) -> np.ndarray | None:
    """Positions of the rows the filter lets through (None: no filter)."""
    if not wanted:
        return None
    require_columns(frame, list(wanted), "filter")
    mask = np.ones(len(frame), dtype=bool)
    for column, values in wanted.items():
        mask &= frame[column].isin(values if isinstance(values, list) else [values]).to_numpy()
    return np.flatnonzero(mask).astype(np.int64)


def _search(index, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    import faiss

    hnsw = isinstance(index, faiss.IndexHNSW)
    options = {"efSearch": max(64, 2 * k)} if hnsw else {}
    if allowed is not None:
        options["sel"] = faiss.IDSelectorBatch(allowed)
    search_params = (faiss.SearchParametersHNSW if hnsw else faiss.SearchParameters)(**options) if options else None
    scores, ids = index.search(query, k, params=search_params)
    found = ids[0] >= 0
    return scores[0][found], ids[0][found]


@node(category="general", cache_salt=_model_salt)
def vector_search(dataset: Dataset, params: VectorSearchParams, ctx: NodeContext, values: Json = None
                  ) -> SearchResult:
    """Find the rows whose text is closest in meaning to a query (a FAISS index, kept while the table is
    unchanged); top results above a score, optionally filtered on other columns."""
    frame = dataset.frame
    query = render_text(params.query, {"values": values.value} if values is not None else {}, "query").strip()
    if not query:
        raise InvalidParameter("the query is empty once filled in: check the template and the values input",
                               field="query")
    query_vector = embed([query])
    if not query_vector.any():
        raise InvalidParameter(f"the query {query[:100]!r} holds no word the embedding model knows: rephrase it",
                               field="query")
    allowed = _allowed_rows(frame, params.filter)
    index, reused = _index(frame, params.column, ctx)
    k = min(params.top_k, index.ntotal if allowed is None else len(allowed))
    scores, ids = _search(index, query_vector, k, allowed) if k else (np.zeros(0), np.zeros(0, dtype=np.int64))
    close = scores >= params.min_score
    scores, ids = scores[close], ids[close]
    if not len(ids):
        ctx.warn("NO_MATCH", f"no row scored {params.min_score:g} or more"
                             + (" among the rows the filter lets through" if allowed is not None else "")
                             + ": lower min_score" + (" or widen the filter" if allowed is not None else ""),
                 fix={"min_score": 0.0} if params.min_score > 0 else None)
    hits = frame.iloc[ids].drop(columns=[c for c in embedding_columns() if c in frame.columns])
    rank, score = unique_names(["rank", "score"], taken=hits.columns)
    hits = hits.reset_index(drop=True)
    hits.insert(0, score, np.round(scores.astype(float), 6))
    hits.insert(0, rank, range(1, len(hits) + 1))
    records = json.loads(hits.to_json(orient="records", date_format="iso", force_ascii=False))
    passages = hits[params.column].tolist() if params.column in hits.columns else []
    return SearchResult(Dataset(hits), Json({
        "query": query, "passages": passages, "hits": records,
        "index": {"rows": int(index.ntotal), "reused": reused, "model": MODEL_NAME}}))
