"""Pure-component spectra and seeded blocks of synthetic samples.

Randomness is drawn per block of :data:`BLOCK_SAMPLES` physical samples from a generator seeded
by ``SeedSequence(seed, spawn_key=(block,))``: block ``b`` is the same whatever the batch size,
the number of threads or the total size, and a smaller data set is a prefix of a larger one.

>>> import numpy as np
>>> pure, _ = pure_spectra(["water"], np.linspace(900, 2500, 801))
>>> int(np.linspace(900, 2500, 801)[pure[0].argmax()])
1940
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from nirskern.synth import mix_spectra

from nirsframe.axis import SpectralAxis
from nirsframe.dataset import DatasetRoles
from nirsframe.synthetic.bands import component_bands

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    from nirsframe.synthetic.config import GeneratorConfig, Instrument

__all__ = ["BLOCK_SAMPLES", "Plan", "make_block", "pure_spectra"]

#: Physical samples per random block. Part of the reproducibility contract: changing it changes
#: the data of every seed.
BLOCK_SAMPLES = 1024

_LN2 = math.log(2.0)
#: Baseline abscissa: centre and half-width (nm) of the usual 900-2500 nm NIR range.
_T_CENTER, _T_HALF = 1700.0, 800.0


def _gauss_norm(x: npt.NDArray[np.float64], f: float) -> npt.NDArray[np.float64]:
    """Unit-area Gaussian of FWHM ``f``."""
    return (2.0 * math.sqrt(_LN2 / math.pi) / f) * np.exp(-4.0 * _LN2 * (x / f) ** 2)


def _lorentz_norm(x: npt.NDArray[np.float64], f: float) -> npt.NDArray[np.float64]:
    """Unit-area Lorentzian of FWHM ``f``."""
    return (2.0 / (math.pi * f)) / (1.0 + 4.0 * (x / f) ** 2)


def _tch(f_g: float, f_l: float) -> tuple[float, float]:
    """Thompson-Cox-Hastings pseudo-Voigt: total FWHM and Lorentzian fraction ``eta``."""
    f = (
        f_g**5
        + 2.69269 * f_g**4 * f_l
        + 2.42843 * f_g**3 * f_l**2
        + 4.47163 * f_g**2 * f_l**3
        + 0.07842 * f_g * f_l**4
        + f_l**5
    ) ** 0.2
    r = f_l / f
    return f, 1.36603 * r - 0.47719 * r**2 + 0.11116 * r**3


def pure_spectra(
    components: Sequence[str],
    wavelengths: npt.ArrayLike,
    *,
    resolution: float = 0.0,
    band_shape: str = "gaussian",
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Absorbance of each pure component and its derivative d/dλ, shape ``(K, P)`` each.

    ``gaussian``: each band is a Gaussian of the tabulated FWHM convolved with a Gaussian
    instrument line shape of FWHM ``resolution`` (widths add in quadrature, area preserved).
    ``voigt``: each band is a Lorentzian of the tabulated FWHM and height convolved with the
    Gaussian line shape, approximated by the Thompson-Cox-Hastings pseudo-Voigt (within ~1 % of
    the true Voigt profile).

    >>> import numpy as np
    >>> e, de = pure_spectra(["fat"], [2310.0])  # the tabulated peak height
    >>> round(float(e[0, 0]), 2)
    1.0
    >>> e, de = pure_spectra(["fat"], [2310.0], band_shape="voigt")  # + Lorentzian wings of 2345
    >>> round(float(e[0, 0]), 2)
    1.1

    References
    ----------
    Thompson, P., Cox, D. E. & Hastings, J. B. (1987). *J. Appl. Cryst.* 20, 79-83.
    """
    lam = np.asarray(wavelengths, dtype=np.float64)
    pure = np.zeros((len(components), lam.size))
    dpure = np.zeros_like(pure)
    for k, name in enumerate(components):
        for band in component_bands(name):
            x = lam - band.center
            if band_shape == "gaussian":
                f = math.hypot(band.fwhm, resolution)
                area = band.height * band.fwhm * math.sqrt(math.pi / (4.0 * _LN2))
                g = area * _gauss_norm(x, f)
                pure[k] += g
                dpure[k] += g * (-8.0 * _LN2 * x / f**2)
            elif band_shape == "voigt":
                f, eta = _tch(resolution, band.fwhm) if resolution > 0 else (band.fwhm, 1.0)
                area = band.height * math.pi * band.fwhm / 2.0
                g = _gauss_norm(x, f)
                lo = _lorentz_norm(x, f)
                pure[k] += area * (eta * lo + (1.0 - eta) * g)
                dlo = lo * (-8.0 * x / f**2) / (1.0 + 4.0 * (x / f) ** 2)
                dg = g * (-8.0 * _LN2 * x / f**2)
                dpure[k] += area * (eta * dlo + (1.0 - eta) * dg)
            else:
                msg = f"'band_shape' must be 'gaussian' or 'voigt'; got {band_shape!r}"
                raise ValueError(msg)
    return pure, dpure


@dataclass(frozen=True)
class _Source:
    column: str
    instrument: Instrument
    axis: SpectralAxis
    pure: npt.NDArray[np.float64]
    dpure: npt.NDArray[np.float64]  # per axis step
    t: npt.NDArray[np.float64]


@dataclass(frozen=True)
class Plan:
    """A config compiled once: pure spectra per instrument, names, ranges and the schema."""

    config: GeneratorConfig
    sources: tuple[_Source, ...]
    lo: npt.NDArray[np.float64]
    hi: npt.NDArray[np.float64]
    schema: pa.Schema

    @classmethod
    def build(cls, config: GeneratorConfig) -> Plan:
        """Pure spectra on every instrument axis, and the Arrow schema of the output."""
        names = list(config.components)
        sources = []
        for column, inst in config.spectra_columns().items():
            lam = np.linspace(inst.start, inst.stop, inst.n_points)
            pure, dpure = pure_spectra(
                names, lam, resolution=inst.resolution, band_shape=config.band_shape
            )
            t = (lam - _T_CENTER) / _T_HALF
            axis = SpectralAxis(lam, "nm")
            sources.append(_Source(column, inst, axis, pure, dpure * inst.step, t))
        ranges = np.array([config.components[n] for n in names], dtype=np.float64)
        value = pa.float32() if config.dtype == "float32" else pa.float64()
        fields = [
            pa.field("id", pa.int64()),
            pa.field("sample", pa.int64()),
            pa.field("repetition", pa.int32()),
        ]
        if config.n_classes:
            fields.append(pa.field("class", pa.int32()))
        fields += [pa.field(n, pa.float64()) for n in names]
        fields += [pa.field(s.column, pa.list_(value, len(s.axis))) for s in sources]
        return cls(config, tuple(sources), ranges[:, 0], ranges[:, 1], pa.schema(fields))

    @property
    def axes(self) -> dict[str, SpectralAxis]:
        """Axis of every spectra column."""
        return {s.column: s.axis for s in self.sources}

    @property
    def roles(self) -> DatasetRoles:
        """Column roles: id, targets (the components), the physical sample as the repetition
        role (rows sharing it are repeated scans), the repetition index and class as metadata."""
        return DatasetRoles(
            id="id",
            spectra=tuple(s.column for s in self.sources),
            targets=tuple(self.config.components),
            repetition="sample" if self.config.repetitions > 1 else None,
            metadata=("sample", "repetition", *(("class",) if self.config.n_classes else ())),
        )


def _concentrations(
    plan: Plan, rng: np.random.Generator
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32] | None]:
    """``(BLOCK_SAMPLES, K)`` concentrations (%) and class labels (or None)."""
    cfg = plan.config
    k = plan.lo.size
    u = rng.random((BLOCK_SAMPLES, k))
    labels = None
    if not cfg.n_classes:
        conc = plan.lo + u * (plan.hi - plan.lo)
    else:
        labels = rng.integers(0, cfg.n_classes, BLOCK_SAMPLES).astype(np.int32)
        # Product type k puts component j in regime (k + j) mod n of n equal sub-ranges (a
        # Latin square: every type has a distinct composition profile).
        regime = (labels[:, None] + np.arange(k)[None, :]) % cfg.n_classes
        width = (plan.hi - plan.lo) / cfg.n_classes
        conc = plan.lo + (regime + u) * width
    if cfg.closure:
        total = conc.sum(axis=1, keepdims=True)
        # An all-zero draw (possible only with zero lower bounds) is split evenly.
        conc = np.where(total > 0, conc * 100.0 / np.where(total > 0, total, 1.0), 100.0 / k)
    return conc, labels


def make_block(plan: Plan, block: int, n_samples: int) -> pa.RecordBatch:
    """Rows of samples ``block*BLOCK_SAMPLES ..`` (``n_samples`` of them, at most one block).

    >>> from nirsframe.synthetic.config import GeneratorConfig
    >>> make_block(Plan.build(GeneratorConfig(repetitions=2)), 0, 3).num_rows
    6
    """
    cfg = plan.config
    reps = cfg.repetitions
    children = np.random.SeedSequence(cfg.seed, spawn_key=(block,)).spawn(1 + len(plan.sources))
    rng = np.random.default_rng(children[0])
    conc, labels = _concentrations(plan, rng)
    ref_err = rng.standard_normal(conc.shape)
    conc, ref_err = conc[:n_samples], ref_err[:n_samples]
    # Beer-Lambert: absorbance is linear in the absorbing fraction; the optional saturation
    # c / (1 + a c / c_max) bends the response of every component by the same law.
    eff = conc / (1.0 + cfg.nonlinearity * conc / plan.hi) / 100.0
    eff_rows = np.repeat(eff, reps, axis=0)
    m = n_samples * reps
    sample = np.repeat(np.arange(n_samples, dtype=np.int64) + block * BLOCK_SAMPLES, reps)
    cols: dict[str, pa.Array] = {
        "id": pa.array(np.arange(m, dtype=np.int64) + block * BLOCK_SAMPLES * reps),
        "sample": pa.array(sample),
        "repetition": pa.array(np.tile(np.arange(reps, dtype=np.int32), n_samples)),
    }
    if labels is not None:
        cols["class"] = pa.array(np.repeat(labels[:n_samples], reps))
    # The reference method measures the physical sample once: its error repeats with it.
    targets = np.repeat(conc + cfg.reference_error * ref_err, reps, axis=0)
    for j, name in enumerate(cfg.components):
        cols[name] = pa.array(targets[:, j])
    out_dtype = np.float32 if cfg.dtype == "float32" else np.float64
    for src, child in zip(plan.sources, children[1:], strict=True):
        inst = src.instrument
        irng = np.random.default_rng(child)
        # Per-spectrum effects for a whole block, then sliced: a prefix of the block is
        # identical to the same rows of the full block.
        e = irng.standard_normal((5, BLOCK_SAMPLES * reps))[:, :m]
        sigma = cfg.noise * inst.noise_scale
        # float32 normals cost half as much to draw; their precision (2^-24) is far below noise.
        z = irng.standard_normal((m, len(src.axis)), dtype=np.float32) if sigma > 0 else None
        x = mix_spectra(
            eff_rows,
            src.pure,
            src.dpure,
            shift=(inst.shift_offset + cfg.shift * e[4]) / inst.step,
            scale=inst.gain * np.exp(cfg.scatter * e[0]),
            offset=cfg.offset * e[1],
            slope=cfg.slope * e[2],
            curvature=cfg.curvature * e[3],
            t=src.t,
            sigma=np.full(m, sigma),
            z=z,
            heteroscedastic=cfg.heteroscedastic,
            dtype=out_dtype,
        )
        cols[src.column] = pa.FixedSizeListArray.from_arrays(pa.array(x.ravel()), x.shape[1])
    return pa.RecordBatch.from_arrays(list(cols.values()), schema=plan.schema)
