"""Where the tests find the real data in ../shared/data (read there, never copied in).

Every path derives from the one setting, settings.WORKBENCH["POLIS_DATA_DIR"]
(../shared/data/polis by default), so data kept elsewhere needs one variable.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def polis_data_dir() -> Path:
    return Path(str(settings.WORKBENCH["POLIS_DATA_DIR"]))


def preferences_data_dir() -> Path:
    return polis_data_dir().parent / "preferences"


def icai_data_dir() -> Path:
    return preferences_data_dir() / "icai_synthetic"


def icai_orthogonal_csv() -> Path:
    """ICAI's synthetic pairs whose 10-row blocks each follow one known principle."""
    return icai_data_dir() / "synthetic_data_orthogonal_adcbg.csv"
