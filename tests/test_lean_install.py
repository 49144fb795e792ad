"""`pip install gansuite` (no extras) gives inference: the inference paths import no extra's package.

A subprocess blocks every package of the extras (an import finder that records the attempt and
raises ImportError, as if they were not installed), then imports the library and runs
`gansuite upscale` and `gansuite predict-frames` end to end. An import that is caught and ignored
still counts: the finder records it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gansuite._extras import require_extra
from gansuite.errors import GansuiteError, MissingExtraError

# top-level packages of the extras (train, bench, web, onnx, peers, images)
EXTRA_PACKAGES = (
    "torchvision", "tensorboard", "lpips", "scipy", "sklearn", "skimage", "matplotlib", "gradio", "onnx",
    "onnxruntime", "onnxscript", "spandrel", "playwright", "pandas", "PIL", "tifffile",
)

_SCRIPT = textwrap.dedent(
    """
    import importlib.abc, importlib.machinery, json, sys
    BLOCKED = set(json.loads(sys.argv[1]))
    attempts = []

    class Refuse(importlib.abc.Loader):
        # a probe (importlib.util.find_spec, as torch._dynamo does) sees a spec; an import fails
        def create_module(self, spec):
            attempts.append(spec.name)
            raise ImportError(f"{spec.name} is blocked (not installed in a lean install)")

        def exec_module(self, module):
            pass

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                return importlib.machinery.ModuleSpec(name, Refuse())
            return None

    sys.meta_path.insert(0, Blocker())
    work = sys.argv[2]
    import numpy as np
    import cv2
    from click.testing import CliRunner

    import gansuite
    from gansuite.cli import main
    from gansuite.io.video import write_video
    from gansuite.tasks.predict.predictor import FramePredictor
    from gansuite.tasks.upscale.upscaler import Upscaler

    rng = np.random.default_rng(0)
    cv2.imwrite(f"{work}/photo.png", rng.integers(0, 256, (24, 20, 3), dtype=np.uint8))
    write_video(f"{work}/clip.mp4", [rng.random((32, 40, 3), dtype=np.float32) for _ in range(6)], 10.0)
    runner = CliRunner()
    upscale = runner.invoke(main, ["upscale", f"{work}/photo.png", "--model", "x2", "--device", "cpu"])
    predict = runner.invoke(main, ["predict-frames", f"{work}/clip.mp4", "--model", "natural", "--future", "2",
                                   "--device", "cpu", "--json"])
    print(json.dumps({
        "attempts": attempts,
        "upscale": [upscale.exit_code, upscale.output[-500:]],
        "predict": [predict.exit_code, predict.output[-500:]],
        "loaded": sorted(name for name in BLOCKED if name in sys.modules and sys.modules[name] is not None),
    }))
    """
)


@pytest.mark.slow
def test_upscale_and_predict_frames_run_without_any_extra(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps(EXTRA_PACKAGES), str(tmp_path)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["upscale"][0] == 0, result["upscale"][1]
    assert result["predict"][0] == 0, result["predict"][1]
    assert (tmp_path / "photo_x2.png").is_file() and (tmp_path / "clip_predicted.mp4").is_file()
    assert result["attempts"] == [] and result["loaded"] == []


def test_importing_the_library_and_cli_imports_no_extra() -> None:
    code = (
        "import sys, json; import gansuite, gansuite.cli, gansuite.deploy.onnx, gansuite.deploy.web, "
        "gansuite.deploy.distributed; "
        f"print(json.dumps(sorted(n for n in {list(EXTRA_PACKAGES)!r} if n in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_a_missing_extra_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "lpips", None)
    with pytest.raises(MissingExtraError) as caught:
        require_extra("bench", "lpips", feature="LPIPS")
    assert str(caught.value) == "LPIPS needs the optional package 'lpips': pip install 'gansuite[bench]'"
    assert isinstance(caught.value, GansuiteError) and isinstance(caught.value, ImportError)
