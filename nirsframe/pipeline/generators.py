"""Generator keywords (nirs4all syntax) that turn one pipeline document into many concrete ones.

A *generator node* is a mapping holding one generator keyword and its modifiers, e.g.
``{"_or_": [...], "pick": 2}``. Anywhere else, mappings and lists are expanded as the cartesian
product of their values, so generators may appear at step level or inside parameters.

Keywords:

``_or_``
    Alternatives, flattened (an alternative that is itself a generator contributes all of its
    values). Modifiers: ``pick`` (combinations of k, an int or ``[min, max]``), ``arrange``
    (permutations of k), ``count`` and ``seed``.
``_chain_``
    Alternatives kept in the order given (no ``pick``/``arrange``).
``_range_``
    ``[start, stop]`` (step 1) or ``[start, stop, step]``, ``stop`` included when reached.
``_log_range_``
    ``[start, stop, n]``: ``n`` log-spaced values from ``start`` to ``stop`` included.
``_grid_``
    ``{param: [values]}``: cartesian product, each a mapping (params in sorted order, last fastest).
``_zip_``
    ``{param: [values]}``: values paired by position (all lists of the same length).
``_sample_``
    ``{"distribution": "uniform"|"log_uniform"|"normal"|"choice", ..., "num": n, "seed": s}``.

``count: k`` (with optional ``seed``, default 0) on any keyword but ``_sample_`` keeps a random
subset of k values of the expansion, in expansion order. The order of every expansion is
deterministic and counts are computed combinatorially before anything is materialised.

>>> expand_value({"_or_": ["A", "B", "C"], "pick": 2})
[['A', 'B'], ['A', 'C'], ['B', 'C']]
>>> count_values({"n_components": {"_range_": [1, 20]}, "scale": {"_or_": [True, False]}})
40
"""

from __future__ import annotations

import difflib
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from nirsframe.exceptions import SpecError

__all__ = [
    "GENERATOR_KEYS",
    "Expansion",
    "compile_value",
    "count_values",
    "expand_value",
    "has_generator",
    "join_loc",
]

GENERATOR_KEYS: tuple[str, ...] = (
    "_or_",
    "_chain_",
    "_range_",
    "_log_range_",
    "_grid_",
    "_zip_",
    "_sample_",
)
_SUBSET = frozenset({"count", "seed"})
MODIFIERS: dict[str, frozenset[str]] = {
    "_or_": _SUBSET | {"pick", "arrange"},
    "_chain_": _SUBSET,
    "_range_": _SUBSET,
    "_log_range_": _SUBSET,
    "_grid_": _SUBSET,
    "_zip_": _SUBSET,
    "_sample_": frozenset(),
}
DISTRIBUTIONS: dict[str, frozenset[str]] = {
    "uniform": frozenset({"from", "to"}),
    "log_uniform": frozenset({"from", "to"}),
    "normal": frozenset({"mean", "std"}),
    "choice": frozenset({"values"}),
}
#: ``_sample_`` draws all its values up front: keep that bounded.
MAX_SAMPLES = 1_000_000


def join_loc(loc: str, key: str | int) -> str:
    """Extend a location string: ``join_loc("steps[0]", "_or_")`` is ``"steps[0]._or_"``.

    >>> join_loc(join_loc("", "steps"), 0)
    'steps[0]'
    """
    if isinstance(key, int):
        return f"{loc}[{key}]"
    return f"{loc}.{key}" if loc else key


def _fail(loc: str, msg: str) -> SpecError:
    return SpecError(f"{loc or '<root>'}: {msg}")


def suggest(name: str, candidates: Sequence[str] | Mapping[str, Any]) -> str:
    """``"; did you mean 'x'?"`` for the closest candidate (difflib), or ``""``."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _looks_like_keyword(key: object) -> bool:
    return isinstance(key, str) and len(key) > 2 and key.startswith("_") and key.endswith("_")


def generator_key(value: object, loc: str = "") -> str | None:
    """The generator keyword of a mapping, ``None`` for plain data; misspelt keywords raise."""
    if not isinstance(value, Mapping):
        return None
    found = [k for k in value if k in GENERATOR_KEYS]
    for key in value:
        if _looks_like_keyword(key) and key not in GENERATOR_KEYS:
            msg = f"unknown generator keyword {key!r}{suggest(key, GENERATOR_KEYS)}"
            raise _fail(loc, msg)
    if len(found) > 1:
        msg = f"a generator holds one keyword; got {', '.join(map(repr, found))}"
        raise _fail(loc, msg)
    return found[0] if found else None


def has_generator(value: object) -> bool:
    """Whether ``value`` holds a generator keyword anywhere.

    >>> has_generator({"a": [1, {"_or_": [1, 2]}]}), has_generator({"a": [1, 2]})
    (True, False)
    """
    if isinstance(value, Mapping):
        return any(k in GENERATOR_KEYS for k in value) or any(
            has_generator(v) for v in value.values()
        )
    if isinstance(value, list | tuple):
        return any(has_generator(v) for v in value)
    return False


# -- nodes ----------------------------------------------------------------------------------------
class Expansion:
    """A lazily indexable expansion: ``len`` is exact (combinatorial), ``[i]`` builds one value."""

    n: int

    def __len__(self) -> int:
        # len() must fit an index-sized int; ``n`` may be far larger.
        return min(self.n, 2**62)

    def __getitem__(self, i: int) -> Any:
        if not 0 <= i < self.n:
            msg = f"expansion index {i} out of range for {self.n} values"
            raise IndexError(msg)
        return self._nth(i)

    def __iter__(self) -> Iterator[Any]:
        return (self._nth(i) for i in range(self.n))

    def _nth(self, i: int) -> Any:
        raise NotImplementedError


class _Leaf(Expansion):
    def __init__(self, value: Any) -> None:
        self.value, self.n = value, 1

    def _nth(self, i: int) -> Any:
        return self.value


def _product_digits(sizes: Sequence[int], i: int) -> list[int]:
    """Mixed-radix digits of ``i``, the last position varying fastest (itertools.product order)."""
    digits = [0] * len(sizes)
    for pos in range(len(sizes) - 1, -1, -1):
        i, digits[pos] = divmod(i, sizes[pos])
    return digits


class _Product(Expansion):
    """A plain list or mapping: the cartesian product of its items' expansions."""

    def __init__(self, keys: list[Any] | None, order: list[int], parts: list[Expansion]) -> None:
        # ``order`` is the iteration order of the parts (sorted keys for mappings, so two documents
        # differing only in key order expand identically); the output keeps the document's order.
        self.keys, self.order, self.parts = keys, order, parts
        self.n = math.prod(p.n for p in parts)

    def _nth(self, i: int) -> Any:
        digits = _product_digits([self.parts[j].n for j in self.order], i)
        values: list[Any] = [None] * len(self.parts)
        for j, d in zip(self.order, digits, strict=True):
            values[j] = self.parts[j][d]
        if self.keys is None:
            return values
        return dict(zip(self.keys, values, strict=True))


class _Alternatives(Expansion):
    """Concatenated expansions of several options (``_or_``, ``_chain_``, grid value lists)."""

    def __init__(self, options: list[Expansion]) -> None:
        self.options = options
        self.n = sum(o.n for o in options)

    def _nth(self, i: int) -> Any:
        for option in self.options:
            if i < option.n:
                return option[i]
            i -= option.n
        raise AssertionError  # unreachable: __getitem__ checked the bound


def _unrank_combination(n: int, k: int, r: int) -> list[int]:
    """The ``r``-th k-subset of ``range(n)`` in lexicographic order (itertools.combinations)."""
    out, x = [], 0
    for i in range(k):
        while (c := math.comb(n - x - 1, k - i - 1)) <= r:
            r -= c
            x += 1
        out.append(x)
        x += 1
    return out


def _unrank_permutation(n: int, k: int, r: int) -> list[int]:
    """The ``r``-th k-permutation of ``range(n)``, lexicographic (itertools.permutations)."""
    pool, out = list(range(n)), []
    for i in range(k):
        block = math.perm(n - i - 1, k - i - 1)
        idx, r = divmod(r, block)
        out.append(pool.pop(idx))
    return out


class _Select(Expansion):
    """``pick`` / ``arrange``: lists of k values drawn from the flattened alternatives."""

    def __init__(self, pool: Expansion, sizes: list[int], *, ordered: bool) -> None:
        self.pool, self.sizes, self.ordered = pool, sizes, ordered
        rank = math.perm if ordered else math.comb
        self.blocks = [rank(pool.n, k) for k in sizes]
        self.n = sum(self.blocks)

    def _nth(self, i: int) -> Any:
        for k, block in zip(self.sizes, self.blocks, strict=True):
            if i < block:
                unrank = _unrank_permutation if self.ordered else _unrank_combination
                return [self.pool[j] for j in unrank(self.pool.n, k, i)]
            i -= block
        raise AssertionError  # unreachable


class _Range(Expansion):
    def __init__(self, start: float, step: float, n: int, *, integer: bool) -> None:
        self.start, self.step, self.n, self.integer = start, step, n, integer

    def _nth(self, i: int) -> Any:
        if self.integer:
            return int(self.start + i * self.step)
        # start + i*step (not repeated addition) so errors do not accumulate; 12 significant
        # digits strip the binary noise (0.1*3 -> 0.3) so values print and hash as written.
        return _tidy(self.start + i * self.step)


class _Values(Expansion):
    def __init__(self, values: list[Any]) -> None:
        self.values, self.n = values, len(values)

    def _nth(self, i: int) -> Any:
        return self.values[i]


class _Zip(Expansion):
    def __init__(self, keys: list[str], parts: list[Expansion]) -> None:
        self.keys, self.parts = keys, parts
        self.n = parts[0].n if parts else 0

    def _nth(self, i: int) -> Any:
        return {k: p[i] for k, p in zip(self.keys, self.parts, strict=True)}


class _Subset(Expansion):
    """``count``: a seeded random subset of the inner expansion, kept in expansion order."""

    def __init__(self, inner: Expansion, count: int, seed: int) -> None:
        self.inner = inner
        k = min(count, inner.n)
        # random.Random.sample works on a range without materialising it; Python documents the
        # sequence of random() for a given seed as reproducible across versions.
        self.indices = sorted(random.Random(seed).sample(range(inner.n), k))
        self.n = k

    def _nth(self, i: int) -> Any:
        return self.inner[self.indices[i]]


def _tidy(x: float) -> float:
    value = float(f"{x:.12g}")
    return 0.0 if value == 0 else value


# -- compilation ----------------------------------------------------------------------------------
def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _int_arg(value: object, loc: str, name: str, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        msg = f"{name!r} must be an integer >= {minimum}; got {value!r}"
        raise _fail(loc, msg)
    return value


def _sizes(value: object, loc: str, name: str) -> list[int]:
    if isinstance(value, list | tuple):
        if len(value) != 2:
            msg = f"{name!r} must be an integer or [min, max]; got {value!r}"
            raise _fail(loc, msg)
        lo = _int_arg(value[0], loc, name, 1)
        hi = _int_arg(value[1], loc, name, lo)
        return list(range(lo, hi + 1))
    return [_int_arg(value, loc, name, 1)]


def _compile_or(node: Mapping[str, Any], key: str, loc: str) -> Expansion:
    here = join_loc(loc, key)
    options = node[key]
    if not isinstance(options, list) or not options:
        msg = f"{key!r} takes a non-empty list of alternatives; got {options!r}"
        raise _fail(here, msg)
    pool = _Alternatives([compile_value(o, join_loc(here, i)) for i, o in enumerate(options)])
    if "pick" in node and "arrange" in node:
        msg = "use either 'pick' (combinations) or 'arrange' (permutations), not both"
        raise _fail(loc, msg)
    for name, ordered in (("pick", False), ("arrange", True)):
        if name in node:
            sizes = _sizes(node[name], join_loc(loc, name), name)
            if max(sizes) > pool.n:
                msg = f"{name}={node[name]!r} exceeds the {pool.n} alternatives of {key!r}"
                raise _fail(join_loc(loc, name), msg)
            return _Select(pool, sizes, ordered=ordered)
    return pool


def _compile_range(spec: object, loc: str) -> Expansion:
    if not isinstance(spec, list) or len(spec) not in (2, 3) or not all(map(_is_number, spec)):
        msg = f"'_range_' takes [start, stop] or [start, stop, step] (numbers); got {spec!r}"
        raise _fail(loc, msg)
    start, stop = spec[0], spec[1]
    step = spec[2] if len(spec) == 3 else 1
    if step == 0 or (stop - start) * step < 0:
        msg = f"'_range_' {spec!r} is empty (step {step!r} does not lead from start to stop)"
        raise _fail(loc, msg)
    integer = all(isinstance(v, int) for v in (start, stop, step))
    # A relative tolerance keeps a float stop that is reached up to rounding (0, 1, 0.1 -> 11).
    n = (stop - start) // step if integer else math.floor((stop - start) / step * (1 + 1e-12))
    return _Range(start, step, int(n) + 1, integer=integer)


def _compile_log_range(spec: object, loc: str) -> Expansion:
    ok = isinstance(spec, list) and len(spec) == 3 and all(map(_is_number, spec))
    if not ok or not isinstance(spec, list):
        msg = f"'_log_range_' takes [start, stop, n]; got {spec!r}"
        raise _fail(loc, msg)
    start, stop = spec[0], spec[1]
    n = _int_arg(spec[2], loc, "n", 1)
    if start <= 0 or stop <= 0:
        msg = f"'_log_range_' bounds must be > 0; got start={start!r}, stop={stop!r}"
        raise _fail(loc, msg)
    if n == 1:
        return _Values([_tidy(float(start))])
    ratio = math.log(stop / start)
    # Geometric spacing as numpy.geomspace; endpoints are set exactly, 12 significant digits
    # make decades exact (0.001, 0.01, 0.1, 1.0) instead of 0.009999999999999998.
    values = [_tidy(start * math.exp(ratio * i / (n - 1))) for i in range(n)]
    values[0], values[-1] = float(start), float(stop)
    return _Values(values)


def _param_lists(spec: object, key: str, loc: str) -> tuple[list[str], list[Expansion]]:
    if not isinstance(spec, Mapping) or not spec:
        msg = f"{key!r} takes a non-empty mapping of parameter -> list of values; got {spec!r}"
        raise _fail(loc, msg)
    keys, parts = [], []
    for name, values in spec.items():
        here = join_loc(loc, name)
        if isinstance(values, list):
            if not values:
                raise _fail(here, "the list of values is empty")
            part: Expansion = _Alternatives(
                [compile_value(v, join_loc(here, i)) for i, v in enumerate(values)]
            )
        elif generator_key(values, here) is not None:
            part = compile_value(values, here)
        else:
            msg = f"{key!r} values must be a list or a generator; got {values!r}"
            raise _fail(here, msg)
        keys.append(str(name))
        parts.append(part)
    return keys, parts


def _compile_grid(spec: object, loc: str) -> Expansion:
    keys, parts = _param_lists(spec, "_grid_", loc)
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return _Product(keys, order, parts)


def _compile_zip(spec: object, loc: str) -> Expansion:
    keys, parts = _param_lists(spec, "_zip_", loc)
    lengths = {k: p.n for k, p in zip(keys, parts, strict=True)}
    if len(set(lengths.values())) > 1:
        msg = f"'_zip_' lists must have the same length; got {lengths}"
        raise _fail(loc, msg)
    return _Zip(keys, parts)


def _number(spec: Mapping[str, Any], name: str, loc: str) -> float:
    value = spec[name]
    if not _is_number(value):
        msg = f"{name!r} must be a finite number; got {value!r}"
        raise _fail(join_loc(loc, name), msg)
    return float(value)


def _compile_sample(spec: object, loc: str) -> Expansion:
    if not isinstance(spec, Mapping):
        msg = f"'_sample_' takes a mapping with 'distribution' and 'num'; got {spec!r}"
        raise _fail(loc, msg)
    dist = spec.get("distribution")
    if dist not in DISTRIBUTIONS:
        msg = f"'distribution' must be one of {sorted(DISTRIBUTIONS)}; got {dist!r}"
        raise _fail(join_loc(loc, "distribution"), msg + suggest(str(dist), DISTRIBUTIONS))
    allowed = DISTRIBUTIONS[dist] | {"distribution", "num", "seed"}
    for key in spec:
        if key not in allowed:
            msg = f"'_sample_' with distribution {dist!r} has no key {key!r}"
            raise _fail(join_loc(loc, key), msg + suggest(str(key), sorted(allowed)))
    for key in sorted(allowed - {"seed"}):
        if key not in spec:
            raise _fail(loc, f"'_sample_' with distribution {dist!r} needs {key!r}")
    num = _int_arg(spec["num"], join_loc(loc, "num"), "num", 1)
    if num > MAX_SAMPLES:
        msg = f"'num' must be <= {MAX_SAMPLES}; got {num}"
        raise _fail(join_loc(loc, "num"), msg)
    rng = random.Random(_int_arg(spec.get("seed", 0), join_loc(loc, "seed"), "seed", 0))
    if dist == "choice":
        values = spec["values"]
        if not isinstance(values, list) or not values:
            raise _fail(
                join_loc(loc, "values"), f"'values' must be a non-empty list; got {values!r}"
            )
        options = [
            compile_value(v, join_loc(join_loc(loc, "values"), i)) for i, v in enumerate(values)
        ]
        # Draws with replacement; each draw contributes the expansion of the value drawn.
        return _Alternatives([options[rng.randrange(len(options))] for _ in range(num)])
    if dist == "normal":
        mean, std = _number(spec, "mean", loc), _number(spec, "std", loc)
        if std < 0:
            raise _fail(join_loc(loc, "std"), f"'std' must be >= 0; got {std!r}")
        return _Values([rng.gauss(mean, std) for _ in range(num)])
    lo, hi = _number(spec, "from", loc), _number(spec, "to", loc)
    if hi < lo:
        raise _fail(loc, f"'from' must be <= 'to'; got from={lo!r}, to={hi!r}")
    if dist == "uniform":
        return _Values([lo + (hi - lo) * rng.random() for _ in range(num)])
    if lo <= 0:
        raise _fail(join_loc(loc, "from"), f"log_uniform bounds must be > 0; got from={lo!r}")
    a, b = math.log(lo), math.log(hi)
    return _Values([math.exp(a + (b - a) * rng.random()) for _ in range(num)])


def _compile_generator(node: Mapping[str, Any], key: str, loc: str) -> Expansion:
    for name in node:
        if name != key and name not in MODIFIERS[key]:
            allowed = sorted(MODIFIERS[key])
            hint = suggest(str(name), allowed) or (
                f"; allowed: {', '.join(map(repr, allowed))}" if allowed else ""
            )
            msg = f"{key!r} has no modifier {name!r}{hint}"
            raise _fail(join_loc(loc, str(name)), msg)
    here = join_loc(loc, key)
    if key in ("_or_", "_chain_"):
        inner = _compile_or(node, key, loc)
    elif key == "_range_":
        inner = _compile_range(node[key], here)
    elif key == "_log_range_":
        inner = _compile_log_range(node[key], here)
    elif key == "_grid_":
        inner = _compile_grid(node[key], here)
    elif key == "_zip_":
        inner = _compile_zip(node[key], here)
    else:
        inner = _compile_sample(node[key], here)
    if "count" in node:
        count = _int_arg(node["count"], join_loc(loc, "count"), "count", 1)
        seed = _int_arg(node.get("seed", 0), join_loc(loc, "seed"), "seed", 0)
        return _Subset(inner, count, seed)
    if "seed" in node:
        raise _fail(join_loc(loc, "seed"), "'seed' only applies together with 'count'")
    return inner


def compile_value(value: Any, loc: str = "") -> Expansion:
    """Check ``value``'s generators and return its lazy :class:`Expansion` (errors name ``loc``).

    >>> e = compile_value({"alpha": {"_log_range_": [0.001, 1, 4]}})
    >>> len(e), e[2]
    (4, {'alpha': 0.1})
    """
    key = generator_key(value, loc)
    if key is not None:
        return _compile_generator(value, key, loc)
    if isinstance(value, Mapping):
        keys = list(value)
        parts = [compile_value(value[k], join_loc(loc, str(k))) for k in keys]
        order = sorted(range(len(keys)), key=lambda j: str(keys[j]))
        return _Product(keys, order, parts)
    if isinstance(value, list | tuple):
        parts = [compile_value(v, join_loc(loc, i)) for i, v in enumerate(value)]
        return _Product(None, list(range(len(parts))), parts)
    return _Leaf(value)


def count_values(value: Any, loc: str = "") -> int:
    """The number of concrete values ``value`` expands to, computed without building them."""
    return compile_value(value, loc).n


def expand_value(value: Any, loc: str = "", *, cap: int | None = None) -> list[Any]:
    """Every concrete value of ``value`` in deterministic order; over ``cap`` raises first.

    >>> expand_value({"_range_": [0, 1, 0.25]})
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    expansion = compile_value(value, loc)
    if cap is not None and expansion.n > cap:
        msg = f"expands to {expansion.n:,} values, above the cap of {cap:,}"
        raise _fail(loc, msg)
    return list(expansion)
