"""Which engine serves a batch call: in memory, or streamed Lance → Lance (local or Ray).

``nf.predict`` and ``nf.run`` keep their in-memory behaviour by default. Naming an engine (or an
output URI for ``nf.predict``) asks for the streamed path, which exists only for Lance sources:
it reads the source by fragments and commits once, in this process (``local``) or on a Ray
cluster (``ray``). Anything else is a :class:`EngineRoutingError` naming what is missing.

Examples
--------
>>> lance_uri("spectra.lance"), lance_uri("s3://bucket/spectra.lance"), lance_uri("x.parquet")
('spectra.lance', 's3://bucket/spectra.lance', None)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from nirsframe.exceptions import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nirsframe.engine import EngineName
    from nirsframe.workspace import Workspace

__all__ = ["EngineRoutingError", "lance_uri", "predict_to_lance"]


class EngineRoutingError(InvalidParameterError):
    """An engine (or an output URI) was asked for data the streamed path cannot read."""


def lance_uri(data: Any) -> str | None:
    """``data`` as a Lance URI (a ``.lance`` path or any ``scheme://`` URI), else ``None``."""
    if isinstance(data, Path):
        data = str(data)
    if not isinstance(data, str):
        return None
    if "://" in data or data.rstrip("/").endswith(".lance"):
        return data
    return None


def require_lance(data: Any, engine: str, what: str) -> str:
    """The Lance URI of ``data``, or an :class:`EngineRoutingError` explaining ``what`` needs it.

    >>> require_lance("a.parquet", "ray", "nf.run")
    Traceback (most recent call last):
    ...
    nirsframe.engine.route.EngineRoutingError: nf.run(engine='ray') streams a Lance source; ...
    """
    uri = lance_uri(data)
    if uri is None:
        msg = (
            f"{what}(engine={engine!r}) streams a Lance source; got {type(data).__name__} "
            f"{data!r:.60}. Write the data to Lance first (nf.io.write_lance, nirsframe generate) "
            "or leave engine unset to run in memory"
        )
        raise EngineRoutingError(msg)
    return uri


def predict_to_lance(
    workspace: Workspace | str | Path,
    run_id: str,
    data: Any,
    out: str | Path | None,
    *,
    engine: EngineName,
    resample: bool,
    ray_address: str | None,
    storage_options: Mapping[str, str] | None,
) -> int:
    """``nf.predict(..., out=..., engine=...)``: check the call, run the batch job; new version.

    >>> predict_to_lance("ws", "r", "x.lance", None, engine="ray", resample=False,
    ...                  ray_address=None, storage_options=None)
    Traceback (most recent call last):
    ...
    nirsframe.engine.route.EngineRoutingError: nf.predict(engine='ray') commits its predictions ...
    """
    from nirsframe.engine import ENGINES, predict_lance

    if engine not in ENGINES:
        msg = f"'engine' must be one of {list(ENGINES)}; got {engine!r}"
        raise InvalidParameterError(msg)
    if out is None:
        msg = (
            f"nf.predict(engine={engine!r}) commits its predictions to a Lance target: "
            "pass out='predictions.lance' (and a Lance source as data)"
        )
        raise EngineRoutingError(msg)
    source = require_lance(data, engine, "nf.predict")
    if resample:
        msg = "resample=True is not available when predicting Lance → Lance; resample the source"
        raise EngineRoutingError(msg)
    return predict_lance(
        workspace,
        run_id,
        source,
        str(out),
        engine=engine,
        ray_address=ray_address,
        storage_options=storage_options,
    )
