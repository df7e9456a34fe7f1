"""The filter registry and the spec parser used by the pipeline's ``tag`` / ``exclude`` keywords.

>>> parse_filter({"hotelling_t2": {"n_components": 5, "alpha": 0.99}})
HotellingT2(n_components=5, alpha=0.99)
>>> parse_filter("mad")
MADFilter(threshold=3.5)
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nirsframe.exceptions import InvalidParameterError, SpecError
from nirsframe.filters.spectral import HotellingT2, Leverage, QResiduals
from nirsframe.filters.target import IQRFilter, MADFilter, ZScoreFilter

if TYPE_CHECKING:
    from nirsframe.filters._base import OutlierFilter

__all__ = ["FILTERS", "parse_filter"]

#: Every outlier filter by its spec name.
FILTERS: dict[str, type[OutlierFilter[Any]]] = {
    cls.name: cls for cls in (HotellingT2, QResiduals, Leverage, IQRFilter, ZScoreFilter, MADFilter)
}


def parse_filter(spec: Any, loc: str = "filter") -> OutlierFilter[Any]:
    """An unfitted filter from ``"name"`` or ``{"name": {params}}``.

    Parameters
    ----------
    spec
        A filter name, or a mapping with exactly one filter name whose value is a mapping of
        parameters (or ``None`` for the defaults).
    loc
        Where the spec sits in a pipeline file, used to prefix error messages.

    Raises
    ------
    SpecError
        For an unknown name (with the closest known name suggested), a malformed spec, or
        invalid parameters (each named).

    Examples
    --------
    >>> parse_filter({"iqr": {"k": 3}})
    IQRFilter(k=3.0)
    """
    if isinstance(spec, str):
        name, raw = spec, None
    elif isinstance(spec, Mapping) and len(spec) == 1:
        ((name, raw),) = spec.items()
    else:
        msg = (
            f"{loc}: a filter must be a name or a mapping with exactly one filter name, e.g. "
            f'{{"hotelling_t2": {{"n_components": 5}}}}; got {spec!r}'
        )
        raise SpecError(msg)
    if name not in FILTERS:
        close = difflib.get_close_matches(str(name), list(FILTERS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        msg = f"{loc}: unknown filter {name!r}{hint} (known: {', '.join(sorted(FILTERS))})"
        raise SpecError(msg)
    if raw is None:
        params: dict[str, Any] = {}
    elif isinstance(raw, Mapping):
        params = {str(k): v for k, v in raw.items()}
    else:
        msg = f"{loc}.{name}: the parameters of filter {name!r} must be a mapping; got {raw!r}"
        raise SpecError(msg)
    try:
        return FILTERS[name](**params)
    except InvalidParameterError as exc:
        msg = f"{loc}.{name}: {exc}"
        raise SpecError(msg) from None
