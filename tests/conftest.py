"""Shared fixtures: the optional real datasets and backbones, reached only through env vars.

`data_dir` and `backbones_dir` are the one pair of data fixtures; tests derive subfolders from
them (`_data.require`). Missing data skips a test on a developer's machine and fails it in CI.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from _data import missing

# tiny tensors: one thread avoids thread start-up costs that dominate on a busy 2-core machine
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The datasets folder named by GANSUITE_DATA (skips the test when unset; fails it in CI)."""
    value = os.environ.get("GANSUITE_DATA")
    if not value:
        missing("GANSUITE_DATA is unset: point it at the datasets folder to run this test")
    path = Path(value)
    if not path.is_dir():
        missing(f"GANSUITE_DATA={value} is not a folder")
    return path


@pytest.fixture(scope="session")
def backbones_dir() -> Path:
    """The backbones folder named by GANSUITE_BACKBONES (skips the test when unset; fails it in CI)."""
    value = os.environ.get("GANSUITE_BACKBONES")
    if not value:
        missing("GANSUITE_BACKBONES is unset: point it at the folder of ImageNet backbone files")
    path = Path(value)
    if not path.is_dir():
        missing(f"GANSUITE_BACKBONES={value} is not a folder")
    return path


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.manual_seed(0)
