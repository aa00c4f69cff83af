"""Text for retrieval: text_loader (files, a table's column, or shipped documents) and chunk_text.

A ``file_path`` is a file, a folder (its text files, in sub-folders too) or a glob under the data directory, held
to the same rules as csv_loader's (``nodes.loaders``): inside the data directory, never Flowza's own files, off in
multi-user mode unless allowed. The shipped documents are scikit-learn's descriptions of its datasets.
"""

from __future__ import annotations

import codecs
import glob
import hashlib
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import ClassVar, Literal

import pandas as pd
from pydantic import Field, field_validator, model_validator

from flowza_core.errors import DatasetTooLarge, EmptyData, FileNotFound, InvalidData, InvalidParameter
from nodes.base import NodeContext, Params, node
from nodes.columns import require_columns
from nodes.digests import file_sha256
from nodes.loaders import usable_path
from nodes.ports import Dataset

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".rst", ".html", ".htm"}  # what a folder's files are read
MAX_FILES = 10_000
SNIFF_BYTES = 8192
SEPARATORS = ("\n\n", "\n", ". ", " ")  # chunk_text splits at the first of these that keeps pieces small enough
SAMPLES = {"dataset_descriptions": "scikit-learn's descriptions of its datasets (14 documents)"}


class TextLoaderParams(Params):
    PATHS_OFF_HINT: ClassVar[str] = "upload a CSV with a text column and connect its csv_loader to this node"

    file_path: str | None = Field(None, max_length=1024, title="File, folder or pattern",
                                  description="Under the data directory: a file, a folder (its .txt, .md, .rst and "
                                              ".html files) or a pattern such as docs/**/*.md.")
    sample: Literal[tuple(SAMPLES)] | None = Field(  # type: ignore[valid-type]
        None, title="Shipped documents", description="; ".join(f"{k}: {v}" for k, v in SAMPLES.items()))
    column: str = Field("text", min_length=1, title="Text column",
                        description="With a table connected: the column holding the texts.")
    encoding: str = Field("utf-8", title="Encoding", description="Of the files, e.g. utf-8, latin-1, cp1252.",
                          json_schema_extra={"advanced": True})

    _usable_path = field_validator("file_path")(usable_path)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding '{value}': try utf-8, latin-1 or cp1252") from None
        return value

    @model_validator(mode="after")
    def _one_source(self):
        if self.file_path and self.sample:
            raise ValueError("give file_path or sample, not both")
        return self


class _HtmlText(HTMLParser):
    """The text of an HTML page, without its scripts and styles."""

    SKIPPED = {"script", "style", "noscript", "template"}
    BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "table", "ul", "ol", "pre"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        self.skipping += tag in self.SKIPPED
        if tag in self.BLOCKS:
            self.parts.append("\n\n")  # a paragraph break, where chunk_text prefers to cut
        elif tag in ("br", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        self.skipping -= tag in self.SKIPPED and self.skipping > 0

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return re.sub(r"\n[ \t]*\n\s*", "\n\n", re.sub(r"[ \t]+", " ", "".join(parser.parts))).strip()


def _matched_files(params: TextLoaderParams, ctx: NodeContext) -> list[tuple[str, Path]]:
    """(name relative to the data directory, path) of every file ``file_path`` names, in name order."""
    from flowza_core.state_paths import is_state_path

    root, given = ctx.data_dir.resolve(), params.file_path
    where = f"file_path '{given[:200]}'"
    try:
        target = (root / given).resolve()
        if glob.has_magic(given):
            found = [Path(p).resolve() for p in glob.glob(str(root / given), recursive=True)]
            found = [p for p in found if p.is_file()]
        elif target.is_dir():
            found = [p.resolve() for p in target.rglob("*") if p.suffix.lower() in TEXT_SUFFIXES and p.is_file()]
        else:
            found = [target] if target.is_file() else []
    except (OSError, ValueError) as exc:
        raise InvalidParameter(f"{where} is not a usable path: {exc}", field="file_path") from exc
    if not target.is_relative_to(root) or any(not p.is_relative_to(root) for p in found):
        raise InvalidParameter(f"{where} points outside the data directory (FLOWZA_DATA_DIR): give a path relative "
                               f"to it, without '..'", field="file_path")
    found = sorted({p for p in found if not is_state_path(p, ctx.state_paths)})
    if not found:
        raise FileNotFound(f"{where} matches no text file in the data directory"
                           + (f" (a folder's files must end in {', '.join(sorted(TEXT_SUFFIXES))})"
                              if target.is_dir() else ""), field="file_path")
    if len(found) > MAX_FILES:
        raise InvalidParameter(f"{where} matches {len(found)} files; at most {MAX_FILES} are read: narrow the "
                               f"pattern", field="file_path")
    size_mb = sum(p.stat().st_size for p in found) / 2**20
    if size_mb > ctx.max_dataset_mb:
        raise DatasetTooLarge(f"{where} holds {size_mb:.0f} MB of files; the limit is {ctx.max_dataset_mb:g} MB "
                              f"(FLOWZA_MAX_DATASET_MB)", field="file_path")
    return [(p.relative_to(root).as_posix(), p) for p in found]


def _decoded(name: str, data: bytes, encoding: str) -> str:
    if b"\x00" in data[:SNIFF_BYTES] and not encoding.lower().replace("-", "").startswith("utf16"):
        raise InvalidData(f"file '{name}' is not text (it holds NUL bytes): text_loader reads text files such as "
                          f".txt, .md or .html", field="file_path")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InvalidData(f"file '{name}' is not {encoding} text (byte 0x{data[exc.start]:02x} at position "
                          f"{exc.start}): set encoding, e.g. latin-1 or cp1252", field="encoding") from None
    text = text.removeprefix("\ufeff")
    return html_text(text) if Path(name).suffix.lower() in {".html", ".htm"} else text


def _sample_documents() -> list[tuple[str, str]]:
    folder = resources.files("sklearn.datasets").joinpath("descr")
    return sorted((f.name, f.read_text(encoding="utf-8")) for f in folder.iterdir() if f.name.endswith(".rst"))


def text_fingerprint(params: TextLoaderParams, ctx: NodeContext) -> str | None:
    """Cache salt: the names and contents of the files read, so an edited or added file is read again."""
    if not params.file_path:
        return None
    digest = hashlib.sha256()
    for name, path in _matched_files(params, ctx):
        digest.update(name.encode() + b"\0" + bytes.fromhex(file_sha256(path)))
    return digest.hexdigest()


@node(category="data input", cache_salt=text_fingerprint)
def text_loader(params: TextLoaderParams, ctx: NodeContext, dataset: Dataset = None) -> Dataset:
    """Load documents as a table of texts (source, text): files, shipped documents, or a connected table's column."""
    sources = [s for s, given in (("a connected table", dataset is not None), ("file_path", params.file_path),
                                  ("sample", params.sample)) if given]
    if len(sources) != 1:
        raise InvalidParameter("give one source of text: a file_path, a sample, or a connected table with a text "
                               "column" + (f" (given: {' and '.join(sources)})" if sources else ""),
                               field="file_path")
    if dataset is not None:
        require_columns(dataset.frame, [params.column], "column")
        frame = dataset.frame.copy()
        texts = frame[params.column]
        frame["text"] = texts.where(texts.isna(), texts.astype(str))
        empty = frame["text"].isna() | (frame["text"].str.strip() == "")
        if empty.any():
            ctx.warn("EMPTY_TEXTS", f"{int(empty.sum())} of {len(frame)} rows have no text in '{params.column}' and "
                                    f"were left out")
            frame = frame[~empty]
    elif params.sample:
        frame = pd.DataFrame(_sample_documents(), columns=["source", "text"])
    else:
        frame = pd.DataFrame([(name, _decoded(name, path.read_bytes(), params.encoding))
                              for name, path in _matched_files(params, ctx)], columns=["source", "text"])
    if frame.empty or (frame["text"].str.strip() == "").all():
        raise EmptyData(f"no text found in {sources[0]}", field="column" if dataset is not None else "file_path")
    return Dataset(frame.reset_index(drop=True))


class ChunkTextParams(Params):
    column: str = Field("text", min_length=1, title="Text column")
    chunk_size: int = Field(1000, ge=20, le=100_000, title="Chunk size (characters)",
                            description="Longest chunk; texts are cut at paragraphs, then lines, sentences, words.")
    overlap: int = Field(150, ge=0, le=50_000, title="Overlap (characters)",
                         description="How much of a chunk's end the next chunk repeats, so no passage is cut apart.")

    @model_validator(mode="after")
    def _overlap_below_size(self):
        if self.overlap >= self.chunk_size:
            raise ValueError(f"overlap ({self.overlap}) must be smaller than chunk_size ({self.chunk_size})")
        return self


def _pieces(text: str, size: int, separators: tuple[str, ...]) -> list[str]:
    """``text`` cut at the coarsest separator that occurs in it, each piece at most ``size`` (recursively)."""
    if len(text) <= size:
        return [text]
    sep = next((s for s in separators if s in text), None)
    if sep is None:
        return [text[i:i + size] for i in range(0, len(text), size)]
    parts = text.split(sep)
    rest = separators[separators.index(sep) + 1:]
    return [piece for i, part in enumerate(parts)
            for piece in _pieces(part + (sep if i < len(parts) - 1 else ""), size, rest)]


def split_text(text: str, size: int, overlap: int) -> list[str]:
    """Chunks of at most ``size`` characters, packed from whole pieces, each starting with up to ``overlap``
    characters (whole words) of the previous one's end."""
    chunks, current = [], ""
    for piece in _pieces(text, size, SEPARATORS):
        if current.strip() and len(current) + len(piece) > size:
            chunks.append(current.strip())
            keep = min(overlap, size - len(piece))
            tail = current[-keep:] if keep > 0 else ""
            if tail != current and " " in tail:
                tail = tail[tail.index(" ") + 1:]  # from a word's start
            current = tail
        current += piece
    if current.strip():
        chunks.append(current.strip())
    return chunks


@node(category="preprocessing")
def chunk_text(dataset: Dataset, params: ChunkTextParams) -> Dataset:
    """Cut each row's text into overlapping chunks (one row per chunk, the row's other columns kept)."""
    require_columns(dataset.frame, [params.column], "column")
    frame = dataset.frame
    texts = frame[params.column]
    chunks = [split_text(t, params.chunk_size, params.overlap) if isinstance(t, str) else [] for t in texts]
    counts = [len(c) for c in chunks]
    out = frame.drop(columns=[params.column]).iloc[[i for i, n in enumerate(counts) for _ in range(n)]]
    out = out.reset_index(drop=True)
    out.insert(len(out.columns), "chunk", [i for n in counts for i in range(n)])
    out.insert(len(out.columns), params.column, [c for cs in chunks for c in cs])
    if out.empty:
        raise EmptyData(f"column '{params.column}' holds no text to cut", field="column")
    return Dataset(out)
