"""Shared fixtures: the optional real datasets and backbones, reached only through env vars."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

# tiny tensors: one thread avoids thread start-up costs that dominate on a busy 2-core machine
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The datasets folder named by GANSUITE_DATA (skips the test when unset)."""
    value = os.environ.get("GANSUITE_DATA")
    if not value:
        pytest.skip("GANSUITE_DATA is unset: point it at the datasets folder to run this test")
    path = Path(value)
    if not path.is_dir():
        pytest.skip(f"GANSUITE_DATA={value} is not a folder")
    return path


@pytest.fixture(scope="session")
def backbones_dir() -> Path:
    """The backbones folder named by GANSUITE_BACKBONES (skips the test when unset)."""
    value = os.environ.get("GANSUITE_BACKBONES")
    if not value:
        pytest.skip("GANSUITE_BACKBONES is unset: point it at the folder of ImageNet backbone files")
    return Path(value)


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.manual_seed(0)
