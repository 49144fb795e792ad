"""Every shipped model card can be reproduced: it names the command that trains it, and its
headline number is measured again here from the shipped weights on the shared data.

The headline tests read the number from the card itself, so a re-shipped model is held to its
own new card. They are data-gated (skip without GANSUITE_DATA, fail in CI) and slow (minutes on
a CPU): run them with ``pytest -m slow tests/test_model_cards.py``.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
from pathlib import Path

import pytest
from _data import require

WEIGHTS = Path(__file__).resolve().parents[1] / "gansuite" / "weights"
CARDS = sorted(p for p in WEIGHTS.glob("*.json") if p.with_suffix(".safetensors").is_file())


def _card(name: str) -> dict:
    return json.loads((WEIGHTS / f"{name}.json").read_text())


def _commands(card: dict) -> list[str]:
    commands = card.get("training_commands") or [card.get("training_command")]
    return [c for c in commands if c]


def test_there_are_shipped_cards() -> None:
    assert {p.stem for p in CARDS} >= {"upscale_x4_psnr", "predict_ped2", "predict_mmnist"}


@pytest.mark.parametrize("card_path", CARDS, ids=[p.stem for p in CARDS])
def test_every_shipped_card_has_a_training_command_that_reproduces_it(card_path: Path) -> None:
    card = json.loads(card_path.read_text())
    commands = _commands(card)
    assert commands, f"{card_path.name} has no training_command"
    recipe = re.match(r"[\w-]+", card["recipe"]).group(0)  # "x4-psnr: compact generator ..." → x4-psnr
    outputs: set[str] = set()
    for command in commands:
        words = shlex.split(command)
        assert words[:3] in (["gansuite", "train", "upscale"], ["gansuite", "train", "predict"]), command
        options = dict(zip(words[3::2], words[4::2], strict=False))
        assert options.get("--recipe") == recipe, f"{card_path.name}: {command} does not train recipe {recipe}"
        assert "--data" in words and "--out" in words, command
        for path in (v for k, v in itertools.pairwise(words) if k in ("--data", "--val", "--stills")):
            assert path.split("=")[-1].startswith(("$GANSUITE_DATA/", "$D/", "$S/")), f"{path}: not a shared input"
        init = options.get("--init")
        if init is not None:  # the starting weights: an earlier command's output, or described by the card
            assert any(init.startswith(out) for out in outputs) or card.get("init"), f"{init} is undocumented"
        outputs.add(options["--out"])
    if any("$D/" in c or "$S/" in c for c in commands):  # shorthand folders are defined in the card
        assert "$D" in json.dumps(card.get("data", "")) or "$D" in json.dumps(card), "$D/$S are not defined"


# ---------------------------------------------------------------------------- the headline numbers


@pytest.mark.slow
@pytest.mark.data
def test_ped2_card_frame_auc_reproduces(data_dir: Path) -> None:
    from gansuite.bench.anomaly import run_anomaly_benchmark

    ped2 = require(data_dir / "video" / "ped2", "UCSD Ped2 (video/ped2)")
    expected = _card("predict_ped2")["metrics"]["ped2_test"]
    report = run_anomaly_benchmark(ped2 / "testing", ped2 / "labels" / "frame_labels_ped2.npy", model="ped2",
                                   device="cpu")
    assert report.n_frames == expected["n_frames"]
    assert report.auc == pytest.approx(expected["frame_auc"], abs=0.002)
    assert report.eer == pytest.approx(expected["eer"], abs=0.005)


@pytest.mark.slow
@pytest.mark.data
def test_mmnist_card_mse_per_frame_reproduces(data_dir: Path) -> None:
    from gansuite.bench.predict import run_predict_benchmark

    mnist = require(data_dir / "video" / "mnist", "the MNIST IDX files (video/mnist)")
    expected = _card("predict_mmnist")["metrics"]["moving_mnist_10_to_10"]
    report = run_predict_benchmark(["mmnist"], mnist=mnist, sequences=expected["sequences"], device="cpu")
    assert report.mean("moving-mnist", "mmnist", "frame_mse") == pytest.approx(expected["mse_per_frame"], rel=0.01)
    assert report.mean("moving-mnist", "copy-last", "frame_mse") == pytest.approx(
        expected["copy_last_mse_per_frame"], rel=0.01
    )


@pytest.mark.slow
@pytest.mark.data
def test_natural_card_seen_clip_numbers_reproduce(data_dir: Path) -> None:
    from gansuite.bench.predict import POOLED, run_predict_benchmark

    clips = require(data_dir / "video" / "clips", "the shared colour clips (video/clips)")
    expected = _card("predict_natural")["metrics"]["seen_realshort_newtonscradle"]
    report = run_predict_benchmark(
        ["natural"], clips=[clips / "realshort.mp4", clips / "newtonscradle.gif"], future=4, stride=8, device="cpu"
    )
    pooled = {(r.method, r.step): r for r in report.rows if r.dataset == POOLED}
    assert max(r.count for r in report.rows if r.dataset == POOLED) == expected["windows"]
    for method in ("copy-last", "flow-extrapolation", "natural"):
        for step in range(1, 5):
            assert pooled[(method, step)].psnr == pytest.approx(expected[f"{method}_psnr_per_step"][step - 1], abs=0.02)
