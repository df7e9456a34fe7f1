"""A workspace writer run as a separate process by the concurrency and crash tests.

Usage: ``python -m tests.nirsframe.workspace._worker ROOT PREFIX N_RUNS``; prints one line per
committed run.
"""

from __future__ import annotations

import sys

import numpy as np

from nirsframe.dataset import SpectralDataset
from nirsframe.operators import MultiplicativeScatterCorrection
from nirsframe.workspace import FittedChain, Workspace


def main(root: str, prefix: str, n_runs: int) -> None:
    ws = Workspace(root)
    x = np.linspace(0.0, 1.0, 60).reshape(6, 10) ** 2 + np.arange(6)[:, None]
    ref = ws.ingest(SpectralDataset.from_numpy(x, y=np.arange(6.0)), "shared")
    chain = FittedChain.from_estimators([MultiplicativeScatterCorrection().fit(x)])
    for i in range(n_runs):
        run_id = f"{prefix}-{i}"
        ws.record_run(
            dataset=ref,
            spec_json='{"steps":[{"op":"msc"}]}',
            parameters={"i": i, "writer": prefix},
            results=[{"metric": "rmse", "value": float(i)}, {"metric": "r2", "value": 0.5}],
            predictions={"row": list(range(6)), "y_pred": [float(i)] * 6},
            chain=chain,
            run_id=run_id,
        )
        print(run_id, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
