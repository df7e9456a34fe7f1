"""Benchmark cases: one module per case, each exposing ``benches()`` and ``bench(id)``.

``benches()`` lists what the parent should run (it may consult nirsframe); ``bench(id)`` rebuilds
one bench inside a worker, in either venv, without importing nirsframe at module level.

>>> sorted(CASES)
['a', 'b', 'c', 'd', 'e']
"""

from __future__ import annotations

CASES = {
    "a": "benchmarks.cases.preprocess",  # SNV -> Savitzky-Golay(15, 2, deriv 1), plus JIT cost
    "b": "benchmarks.cases.pls_cv",  # SNV+SG -> PLS, 5-fold CV over component counts
    "c": "benchmarks.cases.search",  # preprocessing variants x component counts
    "d": "benchmarks.cases.streaming",  # larger-than-one-batch preprocessing + PLS predict
    "e": "benchmarks.cases.operators",  # every nirsframe operator vs its reference library
}
