"""Synthetic NIR data sets: Beer-Lambert mixtures of named components, seeded and streamable.

:func:`generate` returns a :class:`~nirsframe.dataset.SpectralDataset` in memory, or streams
the same rows into a Lance dataset when given ``lance_uri`` (bounded memory, one commit).

``nf.generate`` is this function.

>>> import nirsframe as nf
>>> ds = nf.generate(4, components=["water", "fat"], seed=1)
>>> ds.roles.targets, ds.n_points
(('water', 'fat'), 1024)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl
import pyarrow as pa

from nirsframe.dataset import SpectralDataset
from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators._base import validate_params
from nirsframe.synthetic.bands import COMPONENTS, Band, component_bands, strongest_band
from nirsframe.synthetic.config import DEFAULT_RANGES, GeneratorConfig, Instrument
from nirsframe.synthetic.stream import iter_batches
from nirsframe.synthetic.synth import BLOCK_SAMPLES, Plan, pure_spectra

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "BLOCK_SAMPLES",
    "COMPONENTS",
    "DEFAULT_RANGES",
    "Band",
    "GeneratorConfig",
    "Instrument",
    "Plan",
    "component_bands",
    "generate",
    "generate_batches",
    "pure_spectra",
    "strongest_band",
]


def _config(config: GeneratorConfig | None, params: Mapping[str, Any]) -> GeneratorConfig:
    if config is None:
        return validate_params(GeneratorConfig, params, "generate")
    if params:
        merged = {**config.model_dump(), **params}
        return validate_params(GeneratorConfig, merged, "generate")
    return config


def _check_count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        msg = f"the '{name}' parameter of generate must be an integer >= {minimum}; got {value!r}"
        raise InvalidParameterError(msg)
    return value


def generate_batches(
    n_samples: int,
    config: GeneratorConfig | None = None,
    *,
    batch_rows: int | None = None,
    threads: int = 1,
    progress: Callable[[int], None] | None = None,
    **params: Any,
) -> tuple[Plan, pa.RecordBatchReader]:
    """The compiled plan and a reader of the generated rows, ``batch_rows`` rows per batch.

    >>> plan, reader = generate_batches(3, seed=2)
    >>> reader.read_all().num_rows, plan.roles.id
    (3, 'id')
    """
    n = _check_count("n_samples", n_samples, 1)
    rows = None if batch_rows is None else _check_count("batch_rows", batch_rows, 1)
    workers = _check_count("threads", threads, 1)
    plan = Plan.build(_config(config, params))
    batches = iter_batches(plan, n, batch_rows=rows, threads=workers, progress=progress)
    return plan, pa.RecordBatchReader.from_batches(plan.schema, batches)


def generate(
    n_samples: int = 1000,
    *,
    components: Sequence[str] | Mapping[str, tuple[float, float]] | None = None,
    instruments: Sequence[Instrument] | None = None,
    repetitions: int = 1,
    band_shape: Literal["gaussian", "voigt"] = "gaussian",
    nonlinearity: float = 0.0,
    scatter: float = 0.1,
    offset: float = 0.05,
    slope: float = 0.05,
    curvature: float = 0.02,
    shift: float = 0.3,
    noise: float = 2e-4,
    heteroscedastic: float = 0.0,
    closure: bool = False,
    n_classes: int = 0,
    reference_error: float = 0.0,
    dtype: Literal["float32", "float64"] = "float64",
    seed: int = 0,
    lance_uri: str | Path | None = None,
    mode: Literal["create", "append", "overwrite"] = "create",
    batch_rows: int | None = None,
    threads: int = 1,
    progress: Callable[[int], None] | None = None,
    engine: Literal["local", "ray"] = "local",
    ray_address: str | None = None,
) -> SpectralDataset:
    """Synthetic NIR spectra of ``n_samples`` physical samples (``x repetitions`` rows).

    Parameters
    ----------
    n_samples
        Physical samples; each gives ``repetitions`` rows.
    components
        Component names (default ranges from :data:`DEFAULT_RANGES`) or ``{name: (lo, hi)}``
        concentration ranges in % w/w; default water, protein, fat, starch. They become the
        target columns.
    instruments
        One :class:`Instrument` per spectra column (default one 900-2500 nm, 1024 points).
        Several instruments give columns ``spectra_<name>``, each with its own axis.
    repetitions
        Spectra per physical sample (column ``repetition``; ``sample`` groups them).
    band_shape
        ``"gaussian"`` or ``"voigt"`` (pseudo-Voigt) bands.
    nonlinearity
        Saturation of the spectral response, ``c / (1 + nonlinearity * c / c_max)``.
    scatter, offset, slope, curvature
        Standard deviations of the log multiplicative scatter and of the baseline terms.
    shift
        Standard deviation of the wavelength shift of each spectrum (nm).
    noise, heteroscedastic
        Detector noise ``noise * (1 + heteroscedastic * |A|)`` (absorbance units).
    closure
        Rescale every sample's concentrations to sum to 100 %.
    n_classes
        Product types by concentration regime (integer column ``class``); 0 for none.
    reference_error
        Standard deviation of the error added to the reported targets.
    dtype
        ``"float32"`` or ``"float64"`` spectra (computed in float64 either way).
    seed
        Same seed, same bytes, whatever ``batch_rows`` and ``threads``.
    lance_uri
        Stream the rows into this Lance dataset (one commit, bounded memory) and return a lazy
        dataset over it; in memory when ``None``.
    mode
        Lance write mode.
    batch_rows
        Rows per record batch; ``None`` (default) uses the random blocks as they are.
    threads
        Blocks generated in parallel.
    progress
        Called with the number of rows of every batch produced (local engine).
    engine
        ``"local"`` streams from this process; ``"ray"`` makes and writes the blocks in Ray
        tasks (``nirsframe[ray]``, needs ``lance_uri``) and commits once: the same rows, order,
        schema and transaction properties, bit for bit (:mod:`nirsframe.engine.generate`).
    ray_address
        Ray cluster address when Ray is not initialised yet (``"auto"``, ``"ray://..."``).

    Returns
    -------
    SpectralDataset
        Columns ``id``, ``sample``, ``repetition``, [``class``], one float column per component,
        and the spectra column(s); roles id / group / repetition / targets set accordingly.

    Examples
    --------
    >>> import nirsframe as nf
    >>> ds = nf.generate(2, repetitions=3, seed=0)
    >>> ds.frame.select("sample", "repetition").collect()["repetition"].to_list()
    [0, 1, 2, 0, 1, 2]
    """
    params: dict[str, Any] = {
        "repetitions": repetitions,
        "band_shape": band_shape,
        "nonlinearity": nonlinearity,
        "scatter": scatter,
        "offset": offset,
        "slope": slope,
        "curvature": curvature,
        "shift": shift,
        "noise": noise,
        "heteroscedastic": heteroscedastic,
        "closure": closure,
        "n_classes": n_classes,
        "reference_error": reference_error,
        "dtype": dtype,
        "seed": seed,
    }
    if components is not None:
        params["components"] = components
    if instruments is not None:
        params["instruments"] = tuple(instruments)
    if engine not in ("local", "ray"):
        msg = f"'engine' must be 'local' or 'ray'; got {engine!r}"
        raise InvalidParameterError(msg)
    plan, reader = generate_batches(
        n_samples,
        validate_params(GeneratorConfig, params, "generate"),
        batch_rows=batch_rows,
        threads=threads,
        progress=progress,
    )
    if lance_uri is not None:
        from nirsframe.io.lance import scan_lance, write_lance_stream

        if mode == "overwrite" and "://" not in str(lance_uri) and not Path(lance_uri).exists():
            mode = "create"  # same result, without Lance's "no existing dataset" warning

        props = {"nirsframe.synthetic": plan.config.model_dump_json(), "n_samples": str(n_samples)}
        message = f"generate {n_samples} samples (seed {plan.config.seed})"
        if engine == "ray":
            from nirsframe.engine.generate import (
                blocks_per_task,
                prepare_generate,
                run_generate_ray,
            )
            from nirsframe.engine.ray import import_ray

            import_ray()  # fail fast, naming the extra
            job = prepare_generate(
                plan, n_samples, str(lance_uri), mode=mode, properties=props,
                commit_message=message,
            )  # fmt: skip
            version = run_generate_ray(
                job,
                blocks_per_task=blocks_per_task(plan, job.file_bytes),
                ray_address=ray_address,
            )
        else:
            version = write_lance_stream(
                reader, lance_uri, axes=plan.axes, roles=plan.roles, mode=mode,
                commit_message=message, properties=props,
            )  # fmt: skip
        return scan_lance(lance_uri, version=version)
    if engine == "ray":
        from nirsframe.engine.route import EngineRoutingError

        msg = "generate(engine='ray') writes to Lance: pass lance_uri='data.lance'"
        raise EngineRoutingError(msg)
    frame = pl.DataFrame(pl.from_arrow(reader.read_all()))
    return SpectralDataset(frame.lazy(), plan.axes, plan.roles)
