"""`gansuite upscale`: batches go on past bad files, outputs are never half-written, inputs never overwritten."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from _upscale_helpers import export_tiny, install_shipped, one_thread, random_array, write_images
from _video_helpers import make_clip
from click.testing import CliRunner, Result

from gansuite.cli import main
from gansuite.errors import ConfigError
from gansuite.tasks.upscale import get_recipe, train_upscale
from gansuite.tasks.upscale.batch import FolderSkipWarning, expand_inputs, output_path
from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, shipped_weights_path
from gansuite.tasks.upscale.upscaler import Upscaler


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


def _refuse_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make loading any model a crash, to show a check ran before it."""

    def loaded(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was loaded before the check")

    monkeypatch.setattr(Upscaler, "from_pretrained", loaded)


def test_an_explicit_scale_must_match_the_model_and_a_default_one_yields(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model: Path
) -> None:
    install_shipped(monkeypatch, tmp_path / "weights", ("x4", "x4-gan", "x2"))
    source = _write(tmp_path / "photo.png", random_array(5, 6, 3))
    with monkeypatch.context() as patched:
        _refuse_loading(patched)  # shipped names and gansuite files are checked from their metadata
        for args, found, asked in [
            (("--scale", "2", "--model", "x4"), 4, 2),
            (("--scale", "4", "--model", "x2"), 2, 4),
            (("--model", "x4-gan", "--scale", "2"), 4, 2),
            (("--scale", "2", "--model", model), 4, 2),
            (("--scale", "2", "--model", "x4", "--outscale", "2"), 4, 2),
        ]:
            result = _upscale(source, "-o", tmp_path / "out", *args)
            assert result.exit_code == 1, result.output
            assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
            assert f"--model {args[args.index('--model') + 1]}: the model upscales x{found}, but --scale {asked}" in (
                result.output
            )
            assert "drop --scale" in result.output
    assert not (tmp_path / "out").exists()
    # --scale left at its default: the model's scale wins, and --outscale still sets the final one
    result = _upscale(source, "-o", tmp_path / "x2", "--model", "x2")
    assert result.exit_code == 0, result.output
    assert cv2.imread(str(tmp_path / "x2" / "photo_x2.png")).shape == (10, 12, 3)
    result = _upscale(source, "-o", tmp_path / "same", "--scale", "4", "--model", "x4", "--outscale", "2")
    assert result.exit_code == 0, result.output
    assert cv2.imread(str(tmp_path / "same" / "photo_x2.png")).shape == (10, 12, 3)


def test_video_options_for_images_only_are_a_warning(tmp_path: Path, model: Path) -> None:
    source = _write(tmp_path / "photo.png", random_array(4, 4, 3))
    result = _upscale(source, "--model", model, "--codec", "h265", "--temporal-blend", "0.5", "-o", tmp_path / "a")
    assert result.exit_code == 0, result.output
    assert "warning: --codec, --temporal-blend apply to video inputs only; ignored for images" in result.stderr
    result = _upscale(source, "--model", model, "-o", tmp_path / "b")  # the defaults say nothing
    assert result.exit_code == 0 and "warning" not in result.stderr


def test_image_options_for_videos_only_are_a_warning(
    tmp_path: Path, model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = tmp_path / "clip.mp4"
    make_clip(clip, frames=2, width=16, height=16, audio=False)
    result = _upscale(clip, "--model", model, "--ext", "jpg", "--max-pixels", "10", "-o", tmp_path / "a")
    assert result.exit_code == 0, result.output
    assert "warning: --ext, --max-pixels apply to image inputs only; ignored for videos" in result.stderr
    monkeypatch.setenv("GANSUITE_MAX_PIXELS", "10")  # a standing setting, not a request: no warning
    result = _upscale(tmp_path / "clip.mp4", "--model", model, "-o", tmp_path / "b")
    assert result.exit_code == 0 and "warning" not in result.stderr, result.stderr


def test_a_broken_link_in_a_folder_fails_alone_and_stdin_is_named(tmp_path: Path, model: Path) -> None:
    folder = tmp_path / "photos"
    _write(folder / "photo.png", random_array(4, 4, 3))
    (folder / "gone.png").symlink_to(tmp_path / "deleted.png")  # was skipped without a word
    result = _upscale(folder, "--model", model)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "gone.png" in errors[0]
    assert (folder / "photo_x4.png").is_file()  # the batch went on
    result = _upscale("-", "--model", model)
    assert result.exit_code == 1
    assert "input -: reading an image from standard input is not supported" in result.output


def test_a_bad_codec_is_refused_before_the_model_loads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    make_clip(tmp_path / "clip.mp4", frames=2, width=16, height=16, audio=False)
    _write(tmp_path / "photo.png", random_array(4, 4, 3))
    _refuse_loading(monkeypatch)
    result = _upscale(tmp_path / "clip.mp4", tmp_path / "photo.png", "--codec", "nosuch", "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: --codec 'nosuch' is not one of h264, h265, hevc, vp9, av1, ffv1, mjpeg, prores, mpeg4"
    ]
    assert not (tmp_path / "out").exists()


def test_a_folder_without_images_is_an_error_naming_it(tmp_path: Path, model: Path) -> None:
    (tmp_path / "emptydir").mkdir()
    (tmp_path / "txtdir").mkdir()
    (tmp_path / "txtdir" / "readme.txt").write_text("not an image")
    (tmp_path / "adir.png").mkdir()
    _write(tmp_path / "outputs" / "photo_x4.png", random_array(4, 4, 3))
    (tmp_path / "videos").mkdir()
    make_clip(tmp_path / "videos" / "clip.mp4", frames=2, width=16, height=16, audio=False)
    for name, reason in [
        ("emptydir", "(no .png"), ("txtdir", "(no .png"), ("adir.png", "(no .png"),
        ("outputs", "only earlier outputs such as photo_x4.png"), ("videos", f"{tmp_path / 'videos' / '*.mp4'}"),
    ]:
        result = _upscale(tmp_path / name, "--model", model)
        assert result.exit_code == 1, result.output
        (line,) = result.output.strip().splitlines()
        assert line.startswith(f"Error: input folder {tmp_path / name} holds no image to upscale") and reason in line
    with pytest.raises(ConfigError, match=r"input folder .*emptydir holds no image"):
        expand_inputs([tmp_path / "emptydir"])


def test_a_training_checkpoint_as_model_says_how_to_export_it(tmp_path: Path) -> None:
    recipe = get_recipe("x4-psnr")
    recipe = dataclasses.replace(recipe, patch_size=32, trainer=recipe.trainer.replace(tensorboard=False))
    write_images(tmp_path / "hr", 1, 40)
    train_upscale(recipe, data=[tmp_path / "hr"], out=tmp_path / "run", steps=1, batch_size=1, device="cpu",
                  progress=False)  # the smallest run that leaves a checkpoint
    (checkpoint,) = (tmp_path / "run" / "checkpoints").glob("step_*.pt")
    source = _write(tmp_path / "photo.png", random_array(4, 4, 3))
    for engine in ("torch", "onnxruntime"):  # onnxruntime: refused before any export is tried
        result = _upscale(source, "--model", checkpoint, "--engine", engine)
        assert result.exit_code == 1
        (line,) = result.output.strip().splitlines()
        assert f"{checkpoint} is a gansuite training checkpoint (step 1), not model weights" in line, engine
    weights = tmp_path / "step.safetensors"
    command = f"gansuite train export {checkpoint} -o {checkpoint.stem}.safetensors"
    assert command in line and "spandrel" not in line
    # the advice works
    result = CliRunner().invoke(main, ["train", "export", str(checkpoint), "-o", str(weights)])
    assert result.exit_code == 0, result.output
    result = _upscale(source, "--model", weights, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "photo_x4.png").is_file()


def test_an_output_name_a_folder_holds_fails_that_file_only(tmp_path: Path, model: Path) -> None:
    _write(tmp_path / "in" / "a.png", random_array(4, 4, 3))
    _write(tmp_path / "in" / "b.png", random_array(4, 4, 3))
    make_clip(tmp_path / "in" / "clip.mp4", frames=2, width=16, height=16, audio=False)
    out = tmp_path / "od"
    (out / "a_x4.png").mkdir(parents=True)
    (out / "clip_x4.mp4").mkdir()
    for extra in ((), ("--overwrite",)):
        inputs = (tmp_path / "in" / "a.png", tmp_path / "in" / "b.png", tmp_path / "in" / "clip.mp4")
        result = _upscale(*inputs, "-o", out, "--model", model, *extra)
        assert result.exit_code == 1, result.output
        errors = _error_lines(result)
        assert len(errors) == 2 and "Traceback" not in result.output
        assert errors[0].endswith(f"{out / 'clip_x4.mp4'} is a folder; remove it or choose another -o / --suffix")
        assert errors[1].endswith(f"{out / 'a_x4.png'} is a folder; remove it or choose another -o / --suffix")
        assert "1 written, 0 skipped (exist; --overwrite to replace), 2 failed" in result.stdout  # the video too
    assert (out / "a_x4.png").is_dir() and not any((out / "a_x4.png").iterdir())
    assert _listing(out) == ["a_x4.png", "b_x4.png", "clip_x4.mp4"]


def test_a_folder_says_which_videos_and_animations_it_leaves_out(tmp_path: Path, model: Path) -> None:
    folder = tmp_path / "mixed"
    _write(folder / "photo.png", random_array(4, 4, 3))
    make_clip(folder / "clip.mp4", frames=2, width=16, height=16, audio=False)
    (folder / "anim.gif").write_bytes(b"GIF89a")  # named-only format: never taken from a folder
    result = _upscale(folder, "--model", model)
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and "2 video or animated file(s) not taken" in warned[0] and "anim.gif" in warned[0]
    assert (folder / "photo_x4.png").is_file() and not list(folder.glob("clip_x4*"))
    with pytest.warns(FolderSkipWarning, match="not taken from a folder"):
        assert expand_inputs([folder]) == [folder.resolve() / "photo.png"]


def test_a_folder_given_as_the_model_is_one_error_line_naming_it(tmp_path: Path, model: Path) -> None:
    source = _write(tmp_path / "photo.png", random_array(6, 10, 3))
    for args in ((), ("--scale", "4"), ("--engine", "onnxruntime")):
        result = _upscale(source, "--model", model.parent, *args)  # the folder the model file is in
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert lines == [f"Error: model file {model.parent} is a folder, not a file (it holds {model.name}); give the "
                         "model file itself"], lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "photo.png"]  # nothing written


def test_a_library_message_names_the_flag_on_the_command_line_and_the_keyword_in_python(
    tmp_path: Path, model: Path
) -> None:
    source = _write(tmp_path / "photo.png", random_array(4, 4, 3))
    result = _upscale(source, "--model", model, "--device", "cpu", "--precision", "fp16")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: --precision 'fp16' needs CUDA; on the CPU use 'fp32' (the default)"
    with pytest.raises(ConfigError, match=r"^`precision` 'fp16' needs CUDA"):
        Upscaler.from_pretrained(model, device="cpu", precision="fp16")
    result = _upscale(source, "--model", model, "--outscale", "nan")
    assert result.exit_code == 1 and result.output.startswith("Error: --outscale must be in (0, 16], got nan")


def test_as_flags_leaves_names_no_option_has() -> None:
    from gansuite.cli._base import as_flags

    upscale = main.commands["upscale"]
    assert as_flags("`tile_overlap` must be >= 0; see `not_an_option`", upscale) == (
        "--tile-overlap must be >= 0; see `not_an_option`"
    )


def test_a_per_video_error_names_the_flag_too(tmp_path: Path, model: Path) -> None:
    clip = tmp_path / "clip.mp4"
    make_clip(clip, frames=2, width=16, height=16, audio=False)
    result = _upscale(clip, "--model", model, "--outscale", "0.3125", "--pix-fmt", "yuv420p", "-o", tmp_path / "o")
    assert result.exit_code == 1
    (line,) = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert "--pix-fmt 'yuv420p' needs an even width" in line and "omit --pix-fmt" in line, line


def test_a_short_tile_overlap_is_one_warning_naming_the_flag(tmp_path: Path, model: Path) -> None:
    source = _write(tmp_path / "photo.png", random_array(40, 40, 3))
    result = _upscale(source, "--model", model, "--tile", "16", "--tile-overlap", "0", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and warned[0].startswith("warning: --tile-overlap 0 is below this model's receptive radius")
    assert "leave --tile-overlap unset" in warned[0]
