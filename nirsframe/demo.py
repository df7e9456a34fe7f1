"""The main job's embedded defaults: the shipped Tecator data and the demo pipeline file.

>>> DEMO_PIPELINE.name, SAMPLE_DATA.name
('tecator_fat.yaml', 'tecator.parquet')
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent / "sample_data"

#: The shipped Tecator meat data (public domain; see sample_data/README.md).
SAMPLE_DATA = _HERE / "tecator.parquet"
#: 7 preprocessings x PLS 1-20 on fat, 10-fold venetian-blind cross-validation.
DEMO_PIPELINE = _HERE / "tecator_fat.yaml"
#: Tecator's own split: calibration (C) and monitoring (M) sets train, the test (T) set scores.
TRAIN_VALUES = ("train", "monitor")
TEST_VALUES = ("test",)
