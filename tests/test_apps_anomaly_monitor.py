"""apps/anomaly_monitor.py: per-frame JSON lines from a video, an alert at a sudden change."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from _predict_helpers import (
    copy_last_model,
    moving_square,
    one_thread,  # noqa: F401  (autouse: tiny convolutions on one thread)
)

from gansuite.core.checkpoint import export_weights
from gansuite.io.video import write_video

_APP = Path(__file__).resolve().parents[1] / "apps" / "anomaly_monitor.py"


@pytest.fixture(scope="module")
def monitor():
    spec = importlib.util.spec_from_file_location("anomaly_monitor", _APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scores_every_frame_after_the_context_and_alerts_at_a_cut(
    monitor, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = moving_square(16, 24, 32)
    clip[10] = 1.0 - clip[10]  # one inverted frame: copy-last mispredicts it and the frame after
    video = write_video(tmp_path / "clip.mkv", clip, 10.0)
    model = export_weights(tmp_path / "copy.safetensors", copy_last_model(context=2), card={"task": "predict"})
    code = monitor.main([str(video), "--model", str(model), "--window", "50", "--threshold", "0.9",
                         "--device", "cpu"])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["frame"] for line in lines] == list(range(2, 16))
    anomaly = {line["frame"]: line["anomaly"] for line in lines}
    assert max(anomaly, key=anomaly.get) in (10, 11)
    assert [line["frame"] for line in lines if line["alert"]] and all(
        line["frame"] in (10, 11) for line in lines if line["alert"] and line["frame"] > 3
    )
    assert np.isfinite([line["psnr"] for line in lines]).all()


def test_a_source_that_cannot_be_opened_is_one_error_line(
    monitor, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = export_weights(tmp_path / "copy.safetensors", copy_last_model(context=2), card={"task": "predict"})
    code = monitor.main([str(tmp_path / "missing.mp4"), "--model", str(model), "--device", "cpu"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "cannot open" in err[0]
