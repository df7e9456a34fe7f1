"""Content hashes: a dataset's from its data only, a pipeline's from its canonical spec JSON.

:func:`dataset_hash` streams over the frame in batches and feeds one SHA-256 per column with a
canonical byte encoding of each row, so the digest does not depend on how the data is chunked,
on the batch size, on the order of the frame's columns, or on the storage it was read from
(memory, Parquet, Lance). It does depend on the order of the rows: rows are positions that fold
assignments and stored predictions refer to, so a permuted dataset is a different dataset.
"""

from __future__ import annotations

import hashlib
import json
import struct
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from nirsframe._bridge import series_to_matrix
from nirsframe.exceptions import DatasetError

if TYPE_CHECKING:
    from nirsframe.dataset import SpectralDataset

__all__ = ["HASH_FORMAT", "dataset_hash", "spec_hash", "text_hash"]

#: Version tag mixed into every dataset hash; bump it if the encoding below ever changes.
HASH_FORMAT = "nirsframe-dataset-hash/1"
_NULL_LEN = 0xFFFFFFFFFFFFFFFF  # length prefix marking a null string
# One quiet NaN bit pattern: NaN payloads differ between producers but mean the same thing.
_CANONICAL_NAN = np.frombuffer(struct.pack("<Q", 0x7FF8000000000000), dtype="<f8")[0]


def text_hash(text: str | bytes) -> str:
    """SHA-256 (hex) of a string's UTF-8 bytes.

    >>> text_hash("")[:12]
    'e3b0c44298fc'
    """
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def spec_hash(canonical_spec_json: str) -> str:
    """Hash of a pipeline from its canonical spec JSON (``pipeline.spec.canonical_json``).

    The workspace records the pipeline hash the caller passes; this is the fallback when none is
    given, and is simply :func:`text_hash` of the canonical text.

    >>> spec_hash('{"steps":[]}') == text_hash('{"steps":[]}')
    True
    """
    return text_hash(canonical_spec_json)


def _floats(values: np.ndarray[Any, Any]) -> bytes:
    """Little-endian float64 bytes with every NaN mapped to one canonical bit pattern."""
    arr = np.asarray(values, dtype="<f8")
    nan = np.isnan(arr)
    if nan.any():
        arr = arr.copy()
        arr[nan] = _CANONICAL_NAN
    return np.ascontiguousarray(arr).tobytes()


def _validity(s: pl.Series) -> bytes:
    return (~s.is_null().to_numpy()).astype(np.uint8).tobytes()


def _kind(name: str, dtype: pl.DataType, spectra: tuple[str, ...]) -> str:
    """The canonical encoding used for a column (part of the hash header)."""
    if name in spectra:
        return "spectra-f64"
    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_float():
        return "f64"
    if dtype.is_unsigned_integer():
        return "u64"
    if dtype.is_integer():
        return "i64"
    if dtype in (pl.String, pl.Categorical, pl.Enum) or isinstance(dtype, pl.Categorical | pl.Enum):
        return "utf8"
    return "json"


def _strings(values: list[Any]) -> bytes:
    """Each value as a u64 length prefix and its UTF-8 bytes (a reserved length for null)."""
    parts = []
    for v in values:
        if v is None:
            parts.append(struct.pack("<Q", _NULL_LEN))
        else:
            b = str(v).encode()
            parts.append(struct.pack("<Q", len(b)) + b)
    return b"".join(parts)


def _encode(s: pl.Series, kind: str) -> bytes:
    """The canonical bytes of one batch of one column (concatenation = the whole column's)."""
    if kind == "spectra-f64":
        x, nulls = series_to_matrix(s.cast(pl.Array(pl.Float64, s.dtype.size)))  # type: ignore[attr-defined]
        valid = np.ones(len(s), np.uint8) if nulls is None else (~nulls).astype(np.uint8)
        # Interleave validity and values row by row so batch boundaries cannot matter.
        rows = np.frombuffer(_floats(x), dtype=np.uint8).reshape(len(s), -1)
        return np.hstack([valid[:, None], rows]).tobytes()
    if kind == "bool":
        return _validity(s) + s.fill_null(False).cast(pl.UInt8).to_numpy().astype("<u1").tobytes()
    if kind in ("f64", "i64", "u64"):
        target = {"f64": pl.Float64, "i64": pl.Int64, "u64": pl.UInt64}[kind]
        np_dtype = {"f64": "<f8", "i64": "<i8", "u64": "<u8"}[kind]
        filled = s.cast(target).fill_null(0).to_numpy()
        body = _floats(filled) if kind == "f64" else np.asarray(filled, dtype=np_dtype).tobytes()
        width = 8
        valid = np.frombuffer(_validity(s), dtype=np.uint8)
        rows = np.frombuffer(body, dtype=np.uint8).reshape(len(s), width)
        return np.hstack([valid[:, None], rows]).tobytes()
    if kind == "utf8":
        return _strings(s.cast(pl.String).to_list())
    # Anything else (dates, lists, structs...): each value as sorted-key JSON, length-prefixed.
    return _strings(
        [None if v is None else json.dumps(v, sort_keys=True, default=str) for v in s.to_list()]
    )


def dataset_hash(ds: SpectralDataset, *, batch_size: int = 8192) -> str:
    """SHA-256 (hex) of a dataset's content: every column's values, the axes and the roles.

    Spectra are hashed as little-endian float64 (float32 data is widened exactly), with one bit
    pattern for NaN and a validity byte per row; integers as int64/uint64, floats as float64,
    strings as length-prefixed UTF-8. Columns are taken in sorted name order and rows in frame
    order, streaming ``batch_size`` rows at a time.

    Parameters
    ----------
    ds
        The dataset (its lazy frame is executed once, in streaming batches).
    batch_size
        Rows per batch; any value gives the same digest.

    Examples
    --------
    >>> import numpy as np
    >>> from nirsframe.dataset import SpectralDataset
    >>> a = SpectralDataset.from_numpy(np.ones((3, 4)), y=[1.0, 2.0, 3.0])
    >>> dataset_hash(a) == dataset_hash(a, batch_size=1)
    True
    """
    if batch_size < 1:
        msg = f"'batch_size' must be a positive integer; got {batch_size!r}"
        raise DatasetError(msg)
    schema = ds.frame.collect_schema()
    names = sorted(schema.names())
    kinds = {n: _kind(n, schema[n], ds.roles.spectra) for n in names}
    hashers = {n: hashlib.sha256() for n in names}
    n_rows = 0
    frame = ds.frame.select(names)
    for batch in frame.collect_batches(chunk_size=batch_size, maintain_order=True):
        n_rows += batch.height
        for n in names:
            hashers[n].update(_encode(batch.get_column(n), kinds[n]))
    header = {
        "format": HASH_FORMAT,
        "n_rows": n_rows,
        "columns": [[n, kinds[n]] for n in names],
        "axes": {
            c: {"unit": a.unit, "values": hashlib.sha256(_floats(a.values)).hexdigest()}
            for c, a in sorted(ds.axes.items())
        },
        "roles": ds.roles.model_dump(mode="json"),
    }
    total = hashlib.sha256(json.dumps(header, sort_keys=True, separators=(",", ":")).encode())
    for n in names:
        total.update(hashers[n].digest())
    return total.hexdigest()
