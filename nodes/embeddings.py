"""embed_text: a table's texts as vectors, in columns embedding_0 … embedding_255 (``nodes.embedding_model``).

Plain number columns, so the vectors serve vector_search and any model alike (a classifier of texts, clustering).
"""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from nodes.base import NodeContext, Params, node
from nodes.columns import require_columns
from nodes.embedding_model import embed, embedding_columns, model_fingerprint
from nodes.ports import Dataset


class EmbedTextParams(Params):
    column: str = Field("text", min_length=1, title="Text column", description="The texts to embed.")


def texts_of(frame: pd.DataFrame, column: str) -> list[str]:
    """The column's values as texts ('' for a missing one)."""
    require_columns(frame, [column], "column")
    return [t if isinstance(t, str) else "" if pd.isna(t) else str(t) for t in frame[column]]


def _model_salt(params: EmbedTextParams, ctx: NodeContext) -> str:
    return model_fingerprint()


@node(category="preprocessing", cache_salt=_model_salt)
def embed_text(dataset: Dataset, params: EmbedTextParams, ctx: NodeContext) -> Dataset:
    """Add a sentence embedding of each row's text (columns embedding_0…embedding_255), with a model shipped
    with Flowza."""
    texts = texts_of(dataset.frame, params.column)
    vectors = embed(texts)
    unknown = int((~vectors.any(axis=1)).sum())
    if unknown:
        ctx.warn("NO_EMBEDDING", f"{unknown} of {len(texts)} texts are empty or hold no word the model knows: their "
                                 f"vectors are all zeros and no search finds them")
    frame = dataset.frame.drop(columns=[c for c in embedding_columns() if c in dataset.frame.columns])  # re-embedded
    vectors_frame = pd.DataFrame(vectors, columns=embedding_columns(), index=frame.index)
    return Dataset(pd.concat([frame, vectors_frame], axis=1))
