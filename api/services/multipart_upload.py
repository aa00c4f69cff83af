"""Receiving a multipart CSV upload: streamed into a temp file under a size limit, checked as text.

Text means: it decodes in the encoding the upload names (UTF-8 by default) and holds no NUL byte (UTF-16 and
UTF-32 aside). Any line ending and a byte-order mark are text; whether it is a CSV is the reader's call.
"""

from __future__ import annotations

import codecs
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from flowza_core.errors import FlowzaError
from flowza_core.settings import get_settings

# Public tables come as .csv, .tsv, .txt, or UCI's .data/.test: the content is checked, the name only screened.
SUFFIXES = {".csv", ".tsv", ".tab", ".psv", ".txt", ".data", ".dat", ".test", ".train", ""}
FORM_SLACK = 2**20  # room for boundaries and small fields on top of the file in a Content-Length
FIELD_BYTES, MAX_PARTS = 4096, 16


class PayloadTooLarge(FlowzaError):
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedUpload(FlowzaError):
    code = "UNSUPPORTED_MEDIA_TYPE"


def invalid(field_name: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"type": "value_error", "loc": ("body", field_name), "msg": message}])


def clean_filename(raw: str) -> str:
    """The client's file name as harmless metadata: no directories, no control characters, at most 200 chars."""
    name = re.split(r"[\\/]", unicodedata.normalize("NFC", raw))[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    stem, suffix = os.path.splitext(name or "upload.csv")
    suffix = suffix if len(suffix) <= 16 else ""
    return stem[:200 - len(suffix)] + suffix


@dataclass
class Received:
    """One streamed multipart upload: the file part in a temp file, the small fields as text."""

    out: BinaryIO
    limit: int
    encoding: str = "utf-8"
    filename: str | None = None
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)
    complete: bool = False  # the closing boundary came: nothing was cut off
    _part: dict = field(default_factory=dict)
    _parts: int = 0
    _text: codecs.IncrementalDecoder = field(init=False)
    _nul_is_binary: bool = field(init=False)

    def __post_init__(self) -> None:
        self._text = codecs.getincrementaldecoder(self.encoding)()
        self._nul_is_binary = not codecs.lookup(self.encoding).name.startswith(("utf-16", "utf-32"))

    def callbacks(self) -> dict:
        return {"on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished, "on_part_data": self._data, "on_part_end": self._end,
                "on_end": self._complete}

    def _complete(self) -> None:
        self.complete = True

    def _begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise invalid("file", f"too many form parts (at most {MAX_PARTS})")
        self._part = {"header": b"", "value": b"", "disposition": b"", "data": bytearray()}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._part["header"] += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._part["value"] += data[start:end]

    def _header_end(self) -> None:
        if self._part["header"].lower() == b"content-disposition":
            self._part["disposition"] = self._part["value"]
        self._part["header"] = self._part["value"] = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._part["disposition"])
        name = options.get(b"name", b"").decode("utf-8", "replace")
        self._part["name"], self._part["is_file"] = name, b"filename" in options
        if not self._part["is_file"]:
            return
        if name != "file":
            raise invalid(name or "file", "send the CSV as the form part named 'file'")
        if self.filename is not None:
            raise invalid("file", "send exactly one file")
        self.filename = clean_filename(options[b"filename"].decode("utf-8", "replace"))
        suffix = os.path.splitext(self.filename)[1].lower()
        if suffix not in SUFFIXES:
            raise UnsupportedUpload(f"'{self.filename}' is not a CSV file: upload a delimited text file "
                                    f"({', '.join(sorted(s for s in SUFFIXES if s))}); save spreadsheets as CSV",
                                    field="file")

    def _data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if not self._part["is_file"]:
            if len(self._part["data"]) + len(chunk) > FIELD_BYTES:
                raise invalid(self._part["name"], f"at most {FIELD_BYTES} bytes")
            self._part["data"] += chunk
            return
        self.size += len(chunk)
        if self.size > self.limit:
            raise too_large()
        # A NUL byte or undecodable bytes mean binary content: refuse it before storing any more of it.
        try:
            self._text.decode(chunk)
        except UnicodeError:  # a decoding error, or a codec refusing the start (UTF-16 without a byte-order mark)
            raise self._not_text() from None
        if self._nul_is_binary and b"\x00" in chunk:
            raise UnsupportedUpload("the file holds binary data (NUL bytes): upload a CSV file", field="file")
        self.out.write(chunk)

    def _end(self) -> None:
        if self._part["is_file"]:
            try:
                self._text.decode(b"", final=True)
            except UnicodeError:
                raise UnsupportedUpload(f"the file ends inside a character ({self.encoding}): upload a CSV file",
                                        field="file") from None
        else:
            self.fields[self._part["name"]] = self._part["data"].decode("utf-8", "replace")

    def _not_text(self) -> UnsupportedUpload:
        if codecs.lookup(self.encoding).name == "utf-8":
            return UnsupportedUpload("the file is not UTF-8 text: upload a CSV file saved as UTF-8, or give its "
                                     "encoding (the 'encoding' query parameter, e.g. latin-1)", field="file")
        return UnsupportedUpload(f"the file is not {self.encoding} text: upload a CSV file, and give the "
                                 f"encoding it was saved in", field="file")


def too_large() -> PayloadTooLarge:
    limit = get_settings().max_upload_mb
    return PayloadTooLarge(f"the upload is larger than the limit of {limit:g} MB (FLOWZA_MAX_UPLOAD_MB)",
                           field="file")


async def receive(request: Request, directory: Path, encoding: str = "utf-8") -> tuple[Received, Path]:
    """Stream the multipart body's file part into a temp file in ``directory``; nothing is left on error.

    The file must be text in ``encoding`` (a name ``codecs`` knows).
    """
    content_type, options = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise UnsupportedUpload("send the CSV as multipart/form-data with a part named 'file'", field="file")
    limit = int(get_settings().max_upload_mb * 2**20)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + FORM_SLACK:
        raise too_large()  # refused before a byte of the body is read
    directory.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".part")
    tmp = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            received = Received(out, limit, encoding)
            parser = MultipartParser(options[b"boundary"], received.callbacks())
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
            out.flush()
            os.fsync(out.fileno())  # durable before it is renamed into place
    except FormParserError as exc:
        tmp.unlink(missing_ok=True)
        raise FlowzaError(f"the multipart body is malformed: {exc}", code="INVALID_REQUEST", field="file") from exc
    except ClientDisconnect as exc:  # nobody is left to answer; not a server error either
        tmp.unlink(missing_ok=True)
        raise FlowzaError("the client went away during the upload", code="UPLOAD_INTERRUPTED") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if not received.complete:  # python-multipart's finalize() does not check it
        tmp.unlink(missing_ok=True)
        raise FlowzaError("the multipart body ends before its closing boundary: the upload was cut short; send it "
                          "again", code="INVALID_REQUEST", field="file")
    if received.filename is None:
        tmp.unlink(missing_ok=True)
        raise invalid("file", "Field required: send the CSV as a file part named 'file'")
    return received, tmp
