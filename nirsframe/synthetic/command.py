"""The body of ``nirsframe generate``: parse instrument specs, stream to Lance, summarise.

>>> parse_instrument("foss:1100:2498:700:10").step
2.0
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators._base import format_validation_error
from nirsframe.synthetic.config import Instrument

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

__all__ = ["parse_instrument", "run_generate"]

_FIELDS = ("name", "start", "stop", "n_points", "resolution")


def parse_instrument(text: str) -> Instrument:
    """``NAME:START:STOP:N_POINTS[:RESOLUTION]`` as an :class:`Instrument`.

    >>> parse_instrument("a:1000:2000:501").resolution
    8.0
    """
    parts = text.split(":")
    if not 4 <= len(parts) <= 5:
        msg = f"an instrument must be written NAME:START:STOP:N_POINTS[:RESOLUTION]; got {text!r}"
        raise InvalidParameterError(msg)
    values: dict[str, Any] = dict(zip(_FIELDS, parts, strict=False))
    try:
        return Instrument.model_validate(values)
    except ValidationError as exc:
        raise InvalidParameterError(format_validation_error(exc, f"instrument {text!r}")) from exc


def run_generate(
    output: str | Path,
    n_samples: int,
    *,
    instruments: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Generate ``n_samples`` samples into the Lance dataset ``output``; return a summary.

    ``params`` are :func:`nirsframe.synthetic.generate` keyword arguments.
    """
    from nirsframe.synthetic import generate

    insts = [parse_instrument(s) for s in instruments] or None
    t0 = time.perf_counter()
    ds = generate(n_samples, instruments=insts, lance_uri=output, progress=progress, **params)
    seconds = time.perf_counter() - t0
    import lance

    rows = n_samples * int(params.get("repetitions", 1))
    return {
        "uri": str(output),
        "version": int(lance.dataset(str(output)).version),
        "rows": rows,
        "samples": n_samples,
        "columns": ds.frame.collect_schema().names(),
        "axes": {c: [float(a.values[0]), float(a.values[-1]), len(a)] for c, a in ds.axes.items()},
        "seconds": round(seconds, 3),
        "spectra_per_minute": round(rows / seconds * 60.0) if seconds > 0 else None,
    }
