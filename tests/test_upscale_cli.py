"""`gansuite upscale`: batches go on past bad files, outputs are never half-written, inputs never overwritten."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from _upscale_helpers import export_tiny, install_shipped, one_thread, random_array
from click.testing import CliRunner, Result

from gansuite.cli import main
from gansuite.errors import ConfigError
from gansuite.tasks.upscale.batch import expand_inputs, output_path
from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, shipped_weights_path


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    with one_thread():
        yield


@pytest.fixture()
def model(tmp_path: Path) -> Path:
    return export_tiny(tmp_path / "model" / "tiny_x4.safetensors", "compact", 4)


def _write(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)
    return path


def _upscale(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["upscale", *map(str, args)])


def _error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))  # includes hidden files, where temporary files would be


def test_bad_files_are_reported_one_line_each_and_the_rest_written(tmp_path: Path, model: Path) -> None:
    folder = tmp_path / "in"
    _write(folder / "a.png", random_array(6, 5, 3, seed=1))
    _write(folder / "b.png", random_array(4, 7, 1, seed=2))
    good = (folder / "a.png").read_bytes()
    (folder / "corrupt.png").write_bytes(good[:33] + bytes(range(256)) * 2)  # valid header, garbage after
    (folder / "truncated.png").write_bytes(good[: len(good) // 2])
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.png").write_text("these are not pixels\n")
    out = tmp_path / "out"

    result = _upscale(folder, "-o", out, "--model", model)

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a plain exit(1), not a crash
    assert _listing(out) == ["a_x4.png", "b_x4.png"]  # no temporary files left behind
    assert cv2.imread(str(out / "a_x4.png"), cv2.IMREAD_UNCHANGED).shape == (24, 20, 3)
    assert cv2.imread(str(out / "b_x4.png"), cv2.IMREAD_UNCHANGED).shape == (16, 28)  # gray stays gray
    errors = _error_lines(result)
    assert len(errors) == 4
    reasons = {"corrupt.png": "corrupt or truncated", "truncated.png": "corrupt or truncated"}
    reasons |= {"empty.png": "file is empty", "notes.png": "not a recognised image format"}
    for name, reason in reasons.items():
        (line,) = [line for line in errors if f"{os.sep}{name}:" in line]
        assert reason in line
    assert "2 written, 0 skipped (exist; --overwrite to replace), 4 failed" in result.stdout


def test_existing_outputs_are_skipped_unless_overwrite(tmp_path: Path, model: Path) -> None:
    source = _write(tmp_path / "photo.png", random_array(5, 5, 3))
    target = tmp_path / "photo_x4.png"
    target.write_bytes(b"an older result")
    os.utime(target, (1_000_000_000, 1_000_000_000))

    result = _upscale(source, "--model", model)
    assert result.exit_code == 0, result.output
    assert "0 written, 1 skipped" in result.stdout
    assert target.read_bytes() == b"an older result" and target.stat().st_mtime == 1_000_000_000

    result = _upscale(source, "--model", model, "--overwrite")
    assert result.exit_code == 0, result.output
    assert "1 written, 0 skipped" in result.stdout
    assert cv2.imread(str(target)).shape == (20, 20, 3)
    assert _listing(tmp_path) == ["model", "photo.png", "photo_x4.png"]


def test_an_input_is_never_overwritten(tmp_path: Path, model: Path) -> None:
    source = _write(tmp_path / "photo.png", random_array(5, 6, 3))
    before = source.read_bytes()
    for extra in ((), ("--overwrite",)):
        result = _upscale(source, "-o", tmp_path, "--suffix", "", "--model", model, *extra)
        assert result.exit_code == 1
        # refused by the check before any compute, in one line
        assert result.output.count("\n") == 1 and "Traceback" not in result.output
        assert "photo.png is one of the inputs and is never overwritten" in result.output
        assert source.read_bytes() == before


def test_glob_patterns_expand_to_files(tmp_path: Path, model: Path) -> None:
    for name in ("one.png", "two.png", "three.jpg"):
        _write(tmp_path / "in" / name, random_array(4, 4, 3))
    result = _upscale(tmp_path / "in" / "*.png", "-o", tmp_path / "out", "--model", model)
    assert result.exit_code == 0, result.output
    assert _listing(tmp_path / "out") == ["one_x4.png", "two_x4.png"]
    result = _upscale(tmp_path / "in" / "*.gif", "--model", model)
    assert result.exit_code == 1
    assert "Error: input pattern" in result.output and "*.gif matches no file" in result.output


def test_jpeg_output_of_an_rgba_input_is_refused_before_compute(tmp_path: Path, model: Path) -> None:
    _write(tmp_path / "in" / "logo.png", random_array(4, 5, 4))
    _write(tmp_path / "in" / "photo.png", random_array(4, 5, 3))
    result = _upscale(tmp_path / "in", "-o", tmp_path / "out", "--ext", "jpg", "--model", model)
    assert result.exit_code == 1
    assert "logo.png: has a real alpha channel" in result.output and "use --ext png or --ext webp" in result.output
    assert not (tmp_path / "out").exists()  # nothing computed, not even the folder made


def test_missing_shipped_model_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    install_shipped(monkeypatch, tmp_path / "weights")  # a build without weights
    source = _write(tmp_path / "photo.png", random_array(4, 4, 3))
    result = _upscale(source, "--scale", "2")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: shipped model 'x2' is not included in this build (upscale_x2_psnr.safetensors is missing)"
    )


def test_unknown_model_name_lists_the_shipped_ones(tmp_path: Path) -> None:
    source = _write(tmp_path / "photo.png", random_array(4, 4, 3))
    result = _upscale(source, "--model", "x3")
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    present = ", ".join(sorted(name for name in SHIPPED_WEIGHTS if shipped_weights_path(name).is_file()))
    assert f"'x3' is neither a shipped name ({present}) nor an existing file" in result.output
    assert {"x2", "x4", "x4-gan"} <= set(present.split(", "))


@pytest.mark.parametrize("tile", ["8", "-1", "big"])
def test_bad_tile_is_a_usage_error_naming_the_flag(tmp_path: Path, model: Path, tile: str) -> None:
    source = _write(tmp_path / "photo.png", random_array(4, 4, 3))
    result = _upscale(source, "--tile", tile, "--model", model)
    assert result.exit_code == 2
    assert "Invalid value for --tile" in result.output and "Traceback" not in result.output
    assert _listing(tmp_path) == ["model", "photo.png"]


def test_realism_endpoints_write_the_endpoint_models_outputs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    install_shipped(monkeypatch, tmp_path / "weights", ("x4", "x4-gan"))
    source = _write(tmp_path / "photo.png", random_array(6, 6, 3))
    written = {}
    for label, args in {
        "psnr": ("--model", "x4"),
        "gan": ("--model", "x4-gan"),
        "realism0": ("--realism", "0"),
        "realism1": ("--realism", "1"),
        "realism.5": ("--realism", "0.5"),
    }.items():
        result = _upscale(source, "-o", tmp_path / label, *args)
        assert result.exit_code == 0, result.output
        written[label] = cv2.imread(str(tmp_path / label / "photo_x4.png"))
    np.testing.assert_array_equal(written["realism0"], written["psnr"])
    np.testing.assert_array_equal(written["realism1"], written["gan"])
    assert not np.array_equal(written["realism.5"], written["psnr"])
    assert not np.array_equal(written["realism.5"], written["gan"])
    result = _upscale(source, "--realism", "1.5")
    assert result.exit_code == 2 and "--realism" in result.output


def test_outscale_names_and_sizes_the_outputs(tmp_path: Path, model: Path) -> None:
    source = _write(tmp_path / "photo.png", random_array(6, 10, 3))
    result = _upscale(source, "--outscale", "2.5", "--model", model)
    assert result.exit_code == 0, result.output
    assert cv2.imread(str(tmp_path / "photo_x2.5.png")).shape == (15, 25, 3)


def test_expand_inputs_and_output_path(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.PNG", random_array(2, 2, 3))
    (tmp_path / "readme.txt").write_text("not an image")
    assert expand_inputs([tmp_path, a, str(tmp_path / "*.PNG")]) == [a.resolve()]  # folders keep images only
    with pytest.raises(ConfigError, match=r"input .*nothing\.png does not exist"):
        expand_inputs([tmp_path / "nothing.png"])
    assert output_path(Path("x/p.jpeg"), None, "_x4", "auto") == Path("x/p_x4.jpg")
    assert output_path(Path("x/p.tif"), Path("o"), "_x2", "auto") == Path("o/p_x2.png")  # tif is not a write format
    assert output_path(Path("x/p.png"), Path("o"), "", "webp") == Path("o/p.webp")
