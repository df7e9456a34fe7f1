"""Quantiles of the F and normal distributions without scipy (scalar, float64).

scipy is not a runtime dependency, so the F quantile is computed here through its relation to
the Beta distribution: if ``B ~ Beta(d1/2, d2/2)`` then ``F = (d2 * B) / (d1 * (1 - B))``. The
regularized incomplete beta function is evaluated with the modified Lentz continued fraction and
inverted by a bracketed Newton iteration; tests compare against ``scipy.stats.f.ppf``
to ``rtol=1e-10``.

>>> round(f_ppf(0.95, 3, 20), 10)
3.0983912121
"""

from __future__ import annotations

import math
from statistics import NormalDist

from nirsframe.exceptions import InvalidParameterError

__all__ = ["beta_cdf", "beta_ppf", "f_ppf", "normal_ppf"]

_EPS = 1e-16  # relative accuracy asked of the continued fraction (float64 machine epsilon / 2)
_TINY = 1e-300  # Lentz's guard against division by zero
_MAX_TERMS = 10_000  # the fraction converges in O(sqrt(max(a, b))) terms; this is a safety stop


def _stirling_correction(x: float) -> float:
    """``lgamma(x) - ((x - 1/2) ln x - x + ln(2 pi) / 2)`` for ``x >= 10`` (Stirling series)."""
    r = 1.0 / (x * x)
    return (1.0 / 12.0 - r * (1.0 / 360.0 - r * (1.0 / 1260.0 - r * (1.0 / 1680.0)))) / x


def _log_beta(a: float, b: float) -> float:
    small, big = min(a, b), max(a, b)
    if big < 50.0:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    # lgamma(big) - lgamma(small + big) cancels catastrophically when big is large (a large
    # denominator df = n - A): |lgamma| ~ big * ln(big), so plain lgamma differences lose
    # ~1e-10 at big = 5e4. The Stirling form keeps only O(small * ln(big)) terms.
    diff = (
        -(big - 0.5) * math.log1p(small / big)
        - small * math.log(small + big)
        + small
        + _stirling_correction(big)
        - _stirling_correction(small + big)
    )
    return math.lgamma(small) + diff


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of I_x(a, b) (Numerical Recipes ``betacf``, modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = _TINY if abs(d) < _TINY else d
    d = 1.0 / d
    h = d
    for m in range(1, _MAX_TERMS + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1.0 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1.0 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            return h
    msg = f"the incomplete beta continued fraction did not converge for a={a}, b={b}, x={x}"
    raise ArithmeticError(msg)


def _tails(x: float, a: float, b: float) -> tuple[float, float]:
    """``(I_x(a, b), 1 - I_x(a, b))``, each to full relative precision where it is small."""
    if x <= 0.0:
        return 0.0, 1.0
    if x >= 1.0:
        return 1.0, 0.0
    log_front = a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b)
    # The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry
    # I_x(a, b) = 1 - I_{1-x}(b, a) on the other side. The tail computed directly is the small
    # one there, so each tail is returned from the formula that keeps its relative precision.
    if x < (a + 1.0) / (a + b + 2.0):
        lower = math.exp(log_front) * _beta_fraction(a, b, x) / a
        return lower, 1.0 - lower
    upper = math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b
    return 1.0 - upper, upper


def beta_cdf(x: float, a: float, b: float) -> float:
    """Regularized incomplete beta function ``I_x(a, b)`` (the Beta(a, b) CDF).

    Parameters
    ----------
    x
        Point in ``[0, 1]``.
    a, b
        Positive shape parameters.

    Examples
    --------
    >>> beta_cdf(0.5, 2.0, 2.0)
    0.5
    """
    return _tails(x, a, b)[0]


def _beta_log_pdf(x: float, a: float, b: float) -> float:
    return (a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x) - _log_beta(a, b)


def _solve_beta(q: float, q_upper: float, a: float, b: float) -> float:
    """``x`` with ``I_x(a, b) = q`` (``q_upper = 1 - q``): Newton steps inside a bisection bracket.

    ``q_upper`` is passed separately because ``1 - q`` computed from a rounded ``q`` close to 1
    (e.g. ``1 - (1 - 1e-9)``) has lost digits; the caller knows it exactly.
    """
    lo, hi = 0.0, 1.0
    # Start from the mean; the bracket makes the starting point matter only for speed.
    x = a / (a + b)
    # For q > 1/2 match the upper tail to q_upper, so a quantile far in the upper tail is not
    # limited by the rounding of probabilities close to 1.
    upper = q > 0.5
    for _ in range(400):
        lower_tail, upper_tail = _tails(x, a, b)
        f = q_upper - upper_tail if upper else lower_tail - q
        if f == 0.0:
            return x
        if f < 0.0:
            lo = x
        else:
            hi = x
        pdf = math.exp(_beta_log_pdf(x, a, b))
        new = x - f / pdf if pdf > 0.0 else -1.0
        if not lo < new < hi:  # Newton left the bracket (flat, steep or underflowing pdf): bisect
            new = 0.5 * (lo + hi)
        if abs(new - x) <= 4e-16 * max(new, 1e-300) or hi - lo <= 4e-16 * hi:
            return new
        x = new
    return x


def beta_ppf(q: float, a: float, b: float) -> tuple[float, float]:
    """Quantile ``x`` of Beta(a, b) at probability ``q``, returned as ``(x, 1 - x)``.

    Both ``x`` and ``1 - x`` are returned to full relative precision: when ``x > 1/2`` the
    complementary problem ``I_{1-x}(b, a) = 1 - q`` is solved instead, so ``1 - x`` (which the F
    quantile divides by) does not suffer cancellation.

    Examples
    --------
    >>> x, one_minus_x = beta_ppf(0.5, 3.0, 3.0)
    >>> round(x, 12), round(one_minus_x, 12)
    (0.5, 0.5)
    """
    if not 0.0 < q < 1.0:
        msg = f"'q' must be in the open interval (0, 1); got q={q!r}"
        raise InvalidParameterError(msg)
    if not (a > 0.0 and b > 0.0):
        msg = f"'a' and 'b' must be positive; got a={a!r}, b={b!r}"
        raise InvalidParameterError(msg)
    # 1 - q is exact when q >= 1/2 (Sterbenz); below 1/2 it is only used as a lower-tail target
    # of the swapped problem, where the exact q is used as its upper tail instead.
    x = _solve_beta(q, 1.0 - q, a, b)
    if x <= 0.5:
        return x, 1.0 - x
    y = _solve_beta(1.0 - q, q, b, a)
    return 1.0 - y, y


def f_ppf(q: float, dfn: float, dfd: float) -> float:
    """Quantile of the F distribution with ``dfn`` and ``dfd`` degrees of freedom at ``q``.

    Parameters
    ----------
    q
        Probability in ``(0, 1)`` (a confidence level such as 0.99).
    dfn, dfd
        Numerator and denominator degrees of freedom (positive, need not be integers).

    Examples
    --------
    >>> round(f_ppf(0.99, 5, 45), 8)
    3.45441621
    """
    if not (dfn > 0.0 and dfd > 0.0):
        msg = f"'dfn' and 'dfd' must be positive; got dfn={dfn!r}, dfd={dfd!r}"
        raise InvalidParameterError(msg)
    x, one_minus_x = beta_ppf(q, 0.5 * dfn, 0.5 * dfd)
    return (dfd * x) / (dfn * one_minus_x)


def normal_ppf(q: float) -> float:
    """Quantile of the standard normal distribution (stdlib ``NormalDist``, Wichura AS241).

    Examples
    --------
    >>> round(normal_ppf(0.975), 6)
    1.959964
    """
    if not 0.0 < q < 1.0:
        msg = f"'q' must be in the open interval (0, 1); got q={q!r}"
        raise InvalidParameterError(msg)
    return NormalDist().inv_cdf(q)
