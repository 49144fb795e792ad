"""Where a run's scalars go: a JSONL file always, TensorBoard when available and wanted."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

__all__ = ["RunLog"]


class RunLog:
    """Appends one JSON object per record to ``log.jsonl`` and mirrors numbers to TensorBoard.

    Args:
        run_dir: the run directory.
        tensorboard: also write TensorBoard event files under ``run_dir/tensorboard``.
        enabled: False on non-main ranks, which log nothing.
    """

    def __init__(self, run_dir: Path, *, tensorboard: bool = True, enabled: bool = True) -> None:
        self.enabled = enabled
        self.path = run_dir / "log.jsonl"
        self._writer: Any = None
        if enabled and tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._writer = SummaryWriter(log_dir=str(run_dir / "tensorboard"))
            except ImportError:  # tensorboard is a dependency, but the log must not depend on it
                warnings.warn("tensorboard is not installed: logging to log.jsonl only", stacklevel=2)

    def write(self, kind: str, step: int, values: dict[str, Any]) -> None:
        """Record `values` of `kind` ("train", "validation", ...) at `step`."""
        if not self.enabled:
            return
        # NaN marks a part that did not run; JSON has no NaN, so it is written as null
        record = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in values.items()}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"kind": kind, "step": step, **record}, sort_keys=True) + "\n")
        if self._writer is not None:
            for key, value in record.items():
                if isinstance(value, (int, float)):
                    self._writer.add_scalar(f"{kind}/{key}", value, step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
