"""Readers and writers: Parquet, CSV (wide and nirs4all folders), numpy and Lance.

>>> from nirsframe.io import read_parquet, scan_parquet, read_csv, read_nirs4all_folder
"""

from nirsframe.io.columns import to_spectra_column
from nirsframe.io.csv import read_csv, read_nirs4all_folder, write_csv
from nirsframe.io.lance import scan_lance, write_lance
from nirsframe.io.parquet import read_parquet, scan_parquet, write_parquet

__all__ = [
    "read_csv",
    "read_nirs4all_folder",
    "read_parquet",
    "scan_lance",
    "scan_parquet",
    "to_spectra_column",
    "write_csv",
    "write_lance",
    "write_parquet",
]
