"""Morphological and peak-clipping baselines: SNIP and rolling ball (as pybaselines 1.2).

References
----------
Ryan, Clayton, Griffin, Sie & Cousens (1988), Nucl. Instrum. Methods B 34, 396-402 (SNIP).
Morháč & Matoušek (2008), Appl. Spectrosc. 62(1), 91-106 (SNIP filter orders, decreasing).
Kneen & Annegarn (1996), Nucl. Instrum. Methods B 109, 209-213 (rolling ball).
Liland, Almøy & Mevik (2010), Appl. Spectrosc. 64(9), 1007-1016.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from nirskern.morphological import rolling_ball as _rolling_ball
from nirskern.morphological import snip as _snip
from pydantic import Field

from nirsframe.operators._base import IntoSpectra, Params, SpectralOperator
from nirsframe.operators._base import Params as _AnyParams
from nirsframe.operators.registry import register_operator

if TYPE_CHECKING:
    import polars as pl

    from nirsframe._bridge import FloatMatrix

BaselineOutput = Literal["corrected", "baseline"]


class SnipParams(Params):
    """Parameters of :class:`Snip` (pybaselines' names and defaults)."""

    max_half_window: int | None = Field(default=None, ge=1, description="number of clipping passes")
    decreasing: bool = Field(default=False, description="passes from the widest window down")
    smooth_half_window: int | None = Field(
        default=None, ge=0, description="moving-mean half window"
    )
    filter_order: Literal[2, 4, 6, 8] = Field(default=2, description="order of the clipping filter")
    output: BaselineOutput = Field(
        default="corrected", description="spectrum - baseline, or baseline"
    )


class RollingBallParams(Params):
    """Parameters of :class:`RollingBall` (pybaselines' names and defaults)."""

    half_window: int | None = Field(default=None, ge=1, description="half window of the opening")
    smooth_half_window: int | None = Field(
        default=None, ge=0, description="moving-mean half window"
    )
    output: BaselineOutput = Field(
        default="corrected", description="spectrum - baseline, or baseline"
    )


class Snip(SpectralOperator):
    """Statistics-sensitive non-linear iterative peak clipping (SNIP), as ``pybaselines.snip``.

    Each pass ``i`` replaces a point by the mean of its neighbours ``i`` points away when that
    mean is lower (higher ``filter_order`` compares 4-, 6- or 8-point filters too). The spectrum
    is padded by linear extrapolation first.

    Parameters
    ----------
    max_half_window
        Number of passes, about half the width (in points) of the widest peak. ``None`` picks it
        per spectrum with pybaselines' ``optimize_window``; values above ``(n_points - 1) // 2``
        act as that value.
    decreasing
        Run the passes from the widest window down (smoother baseline).
    smooth_half_window
        When > 0, unclipped points are replaced by their moving mean (noisy data).
    filter_order
        2, 4, 6 or 8.
    output
        ``"corrected"`` returns spectrum - baseline, ``"baseline"`` the baseline.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 1.0, 1.0, 9.0, 1.0, 1.0, 1.0]])
    >>> Snip(max_half_window=2).fit_transform(x).tolist()
    [[0.0, 0.0, 0.0, 8.0, 0.0, 0.0, 0.0]]
    """

    name: ClassVar[str] = "snip"
    params_model: ClassVar[type[Params]] = SnipParams

    def __init__(
        self,
        *,
        max_half_window: int | None = None,
        decreasing: bool = False,
        smooth_half_window: int | None = None,
        filter_order: Literal[2, 4, 6, 8] = 2,
        output: BaselineOutput = "corrected",
    ) -> None:
        self.max_half_window = max_half_window
        self.decreasing = decreasing
        self.smooth_half_window = smooth_half_window
        self.filter_order = filter_order
        self.output = output

    def _apply_params(self, x: FloatMatrix, params: _AnyParams) -> FloatMatrix:
        assert isinstance(params, SnipParams)
        return _snip(
            x,
            params.max_half_window,
            params.decreasing,
            params.smooth_half_window,
            params.filter_order,
            output=params.output,
        )


class RollingBall(SpectralOperator):
    """Rolling-ball baseline, as ``pybaselines.morphological.rolling_ball``.

    A grey opening (moving minimum then maximum over ``2 * half_window + 1`` points, reflected
    edges) smoothed by a moving mean over ``2 * smooth_half_window + 1`` points.

    Parameters
    ----------
    half_window
        Half window of the opening; ``None`` picks it per spectrum with ``optimize_window``.
    smooth_half_window
        Half window of the moving mean; ``None`` uses the opening's half window.
    output
        ``"corrected"`` returns spectrum - baseline, ``"baseline"`` the baseline.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0, 0.0, 5.0, 0.0, 0.0, 0.0]])
    >>> op = RollingBall(half_window=1, smooth_half_window=0, output="baseline")
    >>> op.fit_transform(x).tolist()
    [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]
    """

    name: ClassVar[str] = "rolling_ball"
    params_model: ClassVar[type[Params]] = RollingBallParams

    def __init__(
        self,
        *,
        half_window: int | None = None,
        smooth_half_window: int | None = None,
        output: BaselineOutput = "corrected",
    ) -> None:
        self.half_window = half_window
        self.smooth_half_window = smooth_half_window
        self.output = output

    def _apply_params(self, x: FloatMatrix, params: _AnyParams) -> FloatMatrix:
        assert isinstance(params, RollingBallParams)
        return _rolling_ball(x, params.half_window, params.smooth_half_window, output=params.output)


def snip(
    expr: IntoSpectra = "spectra",
    *,
    max_half_window: int | None = None,
    decreasing: bool = False,
    smooth_half_window: int | None = None,
    filter_order: Literal[2, 4, 6, 8] = 2,
    output: BaselineOutput = "corrected",
) -> pl.Expr:
    """Remove the SNIP baseline of each spectrum (see :class:`Snip`).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 1.0, 1.0, 9.0, 1.0, 1.0, 1.0]])})
    >>> df.select(snip(max_half_window=2, output="baseline")).item().to_list()
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    """
    return Snip(
        max_half_window=max_half_window,
        decreasing=decreasing,
        smooth_half_window=smooth_half_window,
        filter_order=filter_order,
        output=output,
    ).to_expr(expr)


def rolling_ball(
    expr: IntoSpectra = "spectra",
    *,
    half_window: int | None = None,
    smooth_half_window: int | None = None,
    output: BaselineOutput = "corrected",
) -> pl.Expr:
    """Remove the rolling-ball baseline of each spectrum (see :class:`RollingBall`).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[0.0, 0.0, 5.0, 0.0, 0.0, 0.0]])})
    >>> df.select(rolling_ball(half_window=1, smooth_half_window=0)).item().to_list()
    [0.0, 0.0, 5.0, 0.0, 0.0, 0.0]
    """
    return RollingBall(
        half_window=half_window, smooth_half_window=smooth_half_window, output=output
    ).to_expr(expr)


register_operator(Snip, snip)
register_operator(RollingBall, rolling_ball)
