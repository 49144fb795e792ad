"""Every input and every failure a user meets (issue 12 §1–§4, images): handled right, or refused before the work.

A corpus of bad and odd inputs is made at test time (`_bad_inputs.py`); each kind gets a test
whose expected value is the right behaviour: unusable files fail alone in one line and the
batch goes on; problems with the command are all reported before any compute; gray stays gray,
EXIF orientation is applied in every format, alpha edges get no dark fringe, planar TIFF decodes
like chunky, animations keep every frame and delay; nothing is overwritten or half-written;
malformed model files are refused from their metadata in one line.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from _bad_inputs import (
    UNUSABLE,
    animated,
    encoded,
    exif_blob,
    pil_save,
    png_chunk,
    png_header_only,
    png_with_chunk,
    smooth_bgr,
)
from _upscale_helpers import export_tiny, install_shipped, near_identity_generator, one_thread
from click.testing import CliRunner, Result
from safetensors.torch import save_file
from torch import nn

from gansuite.cli import main
from gansuite.core.atomic import atomic_path, is_temp_name, remove_stale_temps
from gansuite.core.checkpoint import export_weights, load_checkpoint
from gansuite.errors import CheckpointError, InputImageError
from gansuite.io.image import read_image, write_image
from gansuite.tasks.upscale import preflight
from gansuite.tasks.upscale.upscaler import Upscaler

PIL = pytest.importorskip("PIL.Image")


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    with one_thread():
        yield


@pytest.fixture()
def model(tmp_path: Path) -> Path:
    return export_tiny(tmp_path / "model" / "tiny_x4.safetensors", "compact", 4)


@pytest.fixture()
def identity(tmp_path: Path) -> Path:
    """An x4 model file that is exactly nearest-neighbour upsampling."""
    return export_weights(tmp_path / "model" / "nearest_x4.safetensors", near_identity_generator(4))


def _upscale(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["upscale", *map(str, args)], env=env)


def _errors(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def _write(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)
    return path


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


# ---------------------------------------------------------------------------- §2 unusable inputs


@pytest.mark.parametrize("case", sorted(UNUSABLE))
def test_unusable_input_is_refused_by_read_image_naming_the_file(tmp_path: Path, case: str) -> None:
    build, reason = UNUSABLE[case]
    path = build(tmp_path)
    with pytest.raises(InputImageError) as raised:
        read_image(path)
    message = str(raised.value)
    assert message.startswith(str(path)) and reason in message and "\n" not in message


def test_unusable_inputs_fail_one_line_each_and_the_batch_goes_on(
    tmp_path: Path, model: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    bad = {case: build(folder) for case, (build, _) in UNUSABLE.items() if case != "folder_named_png"}
    good = [_write(folder / "good.png", smooth_bgr(8, 6))]
    good.append(_write(folder / "good16.png", smooth_bgr(5, 7, dtype=np.uint16)))
    out = tmp_path / "out"
    started = time.monotonic()
    result = _upscale(*bad.values(), *good, "-o", out, "--model", model)
    assert time.monotonic() - started < 60  # a FIFO or /dev/zero never blocks the batch
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    errors = _errors(result)
    assert len(errors) == len(bad)
    for case, path in bad.items():
        (line,) = [line for line in errors if f"{path}:" in line]
        assert UNUSABLE[case][1] in line, line
    assert f"2 written, 0 skipped (exist; --overwrite to replace), {len(bad)} failed" in result.stdout
    assert _listing(out) == ["good16_x4.png", "good_x4.png"]
    assert cv2.imread(str(out / "good16_x4.png"), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    native = capfd.readouterr().err  # what reached the real terminal (descriptor 2)
    assert "libpng" not in native and "WARN" not in native and "tifffile" not in native and "[ERROR" not in native


def test_native_decoder_warnings_never_reach_the_terminal(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    png = encoded(".png", smooth_bgr(6, 6))
    bad_crc = png_with_chunk(png, png_chunk(b"tEXt", b"Comment\x00hi", crc=0))
    short_icc = png_with_chunk(png, png_chunk(b"iCCP", b"ICC\x00\x00" + b"x\x9c\x03\x00\x00\x00\x00\x01"))
    for name, data in {"crc.png": bad_crc, "icc.png": short_icc}.items():
        (tmp_path / name).write_bytes(data)
        assert read_image(tmp_path / name).color.shape == (6, 6, 3)  # decoded, warnings swallowed
    assert capfd.readouterr().err == ""


def test_out_of_memory_and_os_errors_fail_one_file_each(
    tmp_path: Path, model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a", "b", "c"):
        _write(tmp_path / "in" / f"{name}.png", smooth_bgr(6, 6, seed=ord(name)))
    original_call, original_write = Upscaler.__call__, write_image

    def call(self: Upscaler, image, **kwargs):  # type: ignore[no-untyped-def]
        if image.path is not None and image.path.name == "a.png":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 19.00 GiB")
        return original_call(self, image, **kwargs)

    def write(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(path).name == "b_x4.png":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return original_write(path, *args, **kwargs)

    monkeypatch.setattr(Upscaler, "__call__", call)
    monkeypatch.setattr("gansuite.tasks.upscale.batch.write_image", write)
    result = _upscale(tmp_path / "in", "-o", tmp_path / "out", "--model", model)
    assert result.exit_code == 1 and "internal error" not in result.output
    errors = _errors(result)
    assert len(errors) == 2
    assert any("a.png: ran out of memory" in line for line in errors)
    assert any("b.png: the disk holding" in line and "is full" in line for line in errors)
    assert "1 written, 0 skipped (exist; --overwrite to replace), 2 failed" in result.stdout
    assert _listing(tmp_path / "out") == ["c_x4.png"]


# ---------------------------------------------------------------------------- §1 pre-flight


@pytest.mark.parametrize(("name", "shape", "ext", "limit"), [
    ("wide.webp", (2, 4100), "webp", 16383),
    ("pano.jpg", (2, 16400), "jpg", 65500),
    ("tall.png", (4100, 2), "webp", 16383),
])
def test_output_too_large_for_its_format_is_refused_before_compute(
    tmp_path: Path, model: Path, monkeypatch: pytest.MonkeyPatch, name: str, shape: tuple[int, int], ext: str,
    limit: int,
) -> None:
    source = _write(tmp_path / "in" / name, smooth_bgr(*shape))
    monkeypatch.setattr(Upscaler, "__call__", lambda *a, **k: pytest.fail("computed before the check"))
    result = _upscale(source, "-o", tmp_path / "out", "--ext", ext, "--model", model)
    assert result.exit_code == 1
    assert f"images are at most {limit} pixels a side; use --ext png" in result.output
    assert name in result.output and "OpenCV" not in result.output
    assert not (tmp_path / "out").exists()


def test_every_problem_is_reported_at_once_and_nothing_is_computed(
    tmp_path: Path, model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    _write(folder / "pano.png", smooth_bgr(2, 16400))
    logo = smooth_bgr(6, 6, channels=4)
    logo[:3, :, 3] = 0  # a real transparency
    _write(folder / "logo.png", logo)
    _write(folder / "fine.png", smooth_bgr(6, 6))
    monkeypatch.setattr(Upscaler, "__call__", lambda *a, **k: pytest.fail("computed before the check"))
    result = _upscale(folder, "-o", tmp_path / "out", "--ext", "jpg", "--model", model)
    assert result.exit_code == 1
    assert "2 problems found before any compute; nothing was written" in result.output
    assert "pano.png: its x4 output is 65600x8, but .jpg images are at most 65500" in result.output
    assert "logo.png: has a real alpha channel" in result.output and "--ext png or --ext webp" in result.output
    assert not (tmp_path / "out").exists()


def test_outscale_under_one_pixel_names_the_flag(tmp_path: Path, model: Path) -> None:
    source = _write(tmp_path / "thin.png", smooth_bgr(40, 3))
    result = _upscale(source, "--outscale", "0.1", "--model", model)
    assert result.exit_code == 1
    assert "--outscale 0.1 makes its 3x40 pixels 0x4: under one pixel" in result.output
    assert _listing(tmp_path) == ["model", "thin.png"]


@pytest.mark.parametrize("suffix", ["/up", "_x4/../../x", "a\\b"])
def test_suffix_with_a_path_separator_is_refused(tmp_path: Path, model: Path, suffix: str) -> None:
    source = _write(tmp_path / "photo.png", smooth_bgr(5, 5))
    result = _upscale(source, "--suffix", suffix, "--model", model)
    assert result.exit_code == 1 and "--suffix" in result.output and "path separator" in result.output
    assert _listing(tmp_path) == ["model", "photo.png"]


def test_output_folder_behind_a_file_is_refused_before_compute(tmp_path: Path, model: Path) -> None:
    source = _write(tmp_path / "photo.png", smooth_bgr(5, 5))
    (tmp_path / "notes.txt").write_text("a file")
    result = _upscale(source, "-o", tmp_path / "notes.txt" / "out", "--model", model)
    assert result.exit_code == 1 and "notes.txt is a file, not a folder" in result.output


def test_unwritable_output_folder_is_reported_before_compute(
    tmp_path: Path, model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _write(tmp_path / "in" / "a.png", smooth_bgr(5, 5))
    target = tmp_path / "readonly"
    target.mkdir()
    real_open = os.open

    def read_only(path, flags, *args):  # type: ignore[no-untyped-def]
        if str(path).startswith(str(target)) and flags & os.O_CREAT:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", read_only)
    monkeypatch.setattr(Upscaler, "__call__", lambda *a, **k: pytest.fail("computed before the check"))
    result = _upscale(source, "-o", target / "sub", "--model", model)
    assert result.exit_code == 1
    expected = f"output folder {target / 'sub'} (it would be made inside {target}) is not writable (Read-only file"
    assert expected in result.output


@pytest.mark.slow  # starts a python process in a private mount namespace
def test_unwritable_output_folder_is_found_before_compute(tmp_path: Path, model: Path) -> None:
    source = _write(tmp_path / "in" / "a.png", smooth_bgr(5, 5))
    target = tmp_path / "readonly"
    target.mkdir()
    if os.geteuid() != 0:
        target.chmod(0o555)
        result = _upscale(source, "-o", target, "--model", model)
        target.chmod(0o755)
        code, output = result.exit_code, result.output
    else:  # root writes anywhere: a read-only tmpfs in a private mount namespace, where allowed
        if shutil.which("unshare") is None:
            pytest.skip("running as root without unshare: no read-only folder can be made")
        script = (
            f"mount -t tmpfs -o ro tmpfs {target} && {sys.executable} -m gansuite upscale {source} -o {target} "
            f"--model {model}"
        )
        run = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120)
        if "unshare:" in run.stderr or "mount:" in run.stderr:
            pytest.skip(f"no private read-only mount here: {run.stderr.strip()[:100]}")
        code, output = run.returncode, run.stdout + run.stderr
    assert code == 1
    assert f"output folder {target} is not writable" in output and "internal error" not in output


def test_output_name_too_long_for_the_file_system_is_found_before_compute(tmp_path: Path, model: Path) -> None:
    source = _write(tmp_path / (("a" * 250) + ".png"), smooth_bgr(5, 5))
    result = _upscale(source, "--model", model)
    assert result.exit_code == 1
    assert "the output name is 257 bytes, longer than the 255 this file system allows" in result.output


def test_name_collisions_are_disambiguated_and_said(tmp_path: Path, identity: Path) -> None:
    folder = tmp_path / "in"
    pictures = {ext: smooth_bgr(6, 5, seed=index) for index, ext in enumerate(("png", "jpg", "tif"))}
    for ext, array in pictures.items():
        _write(folder / f"shot.{ext}", array)
    result = _upscale(folder, "-o", tmp_path / "out", "--ext", "png", "--model", identity)
    assert result.exit_code == 0, result.output
    assert "note: shot.jpg, shot.png, shot.tif would all write shot_x4.png" in result.stderr
    assert _listing(tmp_path / "out") == ["shot_jpg_x4.png", "shot_png_x4.png", "shot_tif_x4.png"]
    assert "3 written, 0 skipped" in result.stdout
    for ext in ("png", "tif"):  # each output is its own input, upscaled (lossless inputs: exactly)
        out = cv2.imread(str(tmp_path / "out" / f"shot_{ext}_x4.png"))
        np.testing.assert_array_equal(out, np.repeat(np.repeat(pictures[ext], 4, 0), 4, 1))
    again = _upscale(folder, "-o", tmp_path / "out", "--ext", "png", "--model", identity)
    assert "0 written, 3 skipped" in again.stdout  # the same names on a rerun


def test_a_renamed_output_meeting_another_input_is_refused(tmp_path: Path) -> None:
    for name in ("shot.png", "shot.tif", "shot_png.png"):
        _write(tmp_path / name, smooth_bgr(4, 4))
    with pytest.raises(preflight.PreflightError, match=r"shot\.png and .*shot_png\.png would both write .*shot_png_x4"):
        preflight.plan_batch(sorted(tmp_path.iterdir()), scale=4, ext="png")


def test_memory_limit_refuses_the_file_up_front_and_max_pixels_raises_it(tmp_path: Path, model: Path) -> None:
    big = _write(tmp_path / "in" / "big.png", smooth_bgr(12, 10))
    small = _write(tmp_path / "in" / "small.png", smooth_bgr(5, 5))
    result = _upscale(big, small, "-o", tmp_path / "out", "--model", model, "--max-pixels", "100")
    assert result.exit_code == 1
    (line,) = _errors(result)
    # the user's limit refused it, not this machine's memory: the message says so
    assert "big.png: 10x12 (120 pixels) is over the 100-pixel limit set by --max-pixels or GANSUITE_MAX_PIXELS" in line
    assert "raise it if memory allows (its x4 output (40x48) needs about" in line and "taken" not in line
    assert _listing(tmp_path / "out") == ["small_x4.png"]
    raised = _upscale(big, "-o", tmp_path / "out", "--model", model, env={"GANSUITE_MAX_PIXELS": "1000"})
    assert raised.exit_code == 0 and "1 written" in raised.stdout


def test_a_100_megapixel_input_is_refused_from_its_header_with_the_memory_it_needs(tmp_path: Path) -> None:
    huge = tmp_path / "huge.png"
    huge.write_bytes(png_header_only(10_000, 10_000))  # 100,000,000 pixels: the reader's own limit
    plan = preflight.plan_batch([huge], scale=4, memory=16 * 10**9)
    ((path, message),) = plan.failed
    assert path == huge and not plan.jobs
    assert "its x4 output (40000x40000) needs about 51.7 GB of memory; about 16.0 GB is available here" in message
    allowed = preflight.plan_batch([huge], scale=4, memory=16 * 10**9, max_pixels=100_000_000)
    assert [job.source for job in allowed.jobs] == [huge]  # raised by the user: taken


def test_opaque_alpha_is_dropped_for_jpeg_and_real_alpha_is_kept_in_png(tmp_path: Path, identity: Path) -> None:
    screenshot = smooth_bgr(6, 7, channels=4)
    screenshot[..., 3] = 255
    source = _write(tmp_path / "in" / "screen.png", screenshot)
    result = _upscale(source, "-o", tmp_path / "out", "--ext", "jpg", "--model", identity)
    assert result.exit_code == 0, result.output
    assert cv2.imread(str(tmp_path / "out" / "screen_x4.jpg"), cv2.IMREAD_UNCHANGED).shape == (24, 28, 3)
    color = np.zeros((4, 4, 3), np.float32)
    write_image(tmp_path / "api.jpg", color, np.ones((4, 4), np.float32))  # the library drops it too


# ---------------------------------------------------------------------------- own outputs, temp files, no-clobber


def test_rerun_does_not_upscale_its_own_outputs_or_temp_files(tmp_path: Path, model: Path) -> None:
    folder = tmp_path / "photos"
    _write(folder / "a.png", smooth_bgr(5, 5))
    (folder / ".hidden.png").write_bytes(encoded(".png", smooth_bgr(4, 4)))
    (folder / f".a_x4.{os.getpid()}-0123abcd.tmp.png").write_bytes(b"half written")
    for _ in range(2):
        result = _upscale(folder, "--model", model)
        assert result.exit_code == 0, result.output
    assert "0 written, 1 skipped" in result.stdout
    assert [name for name in _listing(folder) if not name.startswith(".")] == ["a.png", "a_x4.png"]
    custom = _upscale(folder, "--suffix", "-big", "--model", model)
    again = _upscale(folder, "--suffix", "-big", "--model", model)
    assert "1 written" in custom.stdout and "0 written, 1 skipped" in again.stdout
    assert "a-big-big.png" not in _listing(folder) and "a_x4-big.png" not in _listing(folder)


def test_stale_temp_files_of_killed_runs_are_removed_and_live_ones_kept(tmp_path: Path, model: Path) -> None:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    stale = tmp_path / f".a_x4.{finished.pid}-0123abcd.tmp.png"
    live = tmp_path / f".b_x4.{os.getppid()}-89abcdef.tmp.png"  # a writer that still runs
    old_style = tmp_path / ".c_x4.fedcba98.tmp.png"
    for path in (stale, live, old_style):
        path.write_bytes(b"partial")
    assert all(is_temp_name(p.name) for p in (stale, live, old_style)) and not is_temp_name("a_x4.png")
    os.utime(old_style, (time.time() - 7200, time.time() - 7200))
    os.utime(stale, (time.time() - 120, time.time() - 120))
    fresh = tmp_path / f".d_x4.{finished.pid}-00112233.tmp.png"  # its writer may be on another machine: kept a while
    fresh.write_bytes(b"partial")
    _write(tmp_path / "a.png", smooth_bgr(5, 5))
    result = _upscale(tmp_path / "a.png", "--model", model)
    assert result.exit_code == 0 and "1 written" in result.stdout
    assert not stale.exists() and not old_style.exists() and live.exists() and fresh.exists()
    assert remove_stale_temps(tmp_path / "missing") == []


def test_a_file_appearing_during_the_run_is_not_replaced(
    tmp_path: Path, model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _write(tmp_path / "photo.png", smooth_bgr(5, 5))
    target = tmp_path / "photo_x4.png"
    original = Upscaler.__call__

    def racing(self: Upscaler, image, **kwargs):  # type: ignore[no-untyped-def]
        target.write_bytes(b"another program's file")  # appears after the existence check
        return original(self, image, **kwargs)

    monkeypatch.setattr(Upscaler, "__call__", racing)
    result = _upscale(source, "--model", model)
    assert result.exit_code == 1
    (line,) = _errors(result)
    assert "photo_x4.png: appeared while this batch ran and was not replaced" in line
    assert target.read_bytes() == b"another program's file"
    assert not [name for name in _listing(tmp_path) if is_temp_name(name)]
    replaced = _upscale(source, "--model", model, "--overwrite")
    assert replaced.exit_code == 0 and cv2.imread(str(target)).shape == (20, 20, 3)


def test_sigterm_removes_the_temporary_file_like_ctrl_c(tmp_path: Path) -> None:
    package = Path(__file__).resolve().parents[1] / "gansuite"
    script = textwrap.dedent(f"""
        import sys, time, types
        # the atomic-write module alone, without importing torch through the package's __init__
        for name, folder in (("gansuite", {str(package)!r}), ("gansuite.core", {str(package / "core")!r})):
            module = types.ModuleType(name)
            module.__path__ = [folder]
            sys.modules[name] = module
        from gansuite.core.atomic import atomic_path, terminate_like_interrupt
        terminate_like_interrupt()
        try:
            with atomic_path({str(tmp_path / 'out.png')!r}) as temp:
                temp.write_bytes(b"half")
                print("ready", flush=True)
                time.sleep(60)
        except KeyboardInterrupt:
            sys.exit(130)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    assert any(is_temp_name(name) for name in _listing(tmp_path))
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 130
    assert _listing(tmp_path) == []


def test_atomic_no_clobber_link_keeps_a_file_that_appeared(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    with pytest.raises(OSError, match="appeared while writing") as caught, atomic_path(target, overwrite=False) as temp:
        temp.write_bytes(b"mine")
        target.write_bytes(b"theirs")
    assert "overwrite=False" not in str(caught.value) and "pass --overwrite" in str(caught.value)
    assert target.read_bytes() == b"theirs" and _listing(tmp_path) == ["out.png"]


# ---------------------------------------------------------------------------- §3 faithful output


def test_gray_content_stays_gray_also_at_full_realism(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_shipped(monkeypatch, tmp_path / "weights", ("x4", "x4-gan"))
    gray = smooth_bgr(9, 8, seed=5, channels=1)
    arrays = {"gray8.png": np.dstack([gray] * 3), "gray16.png": np.dstack([gray.astype(np.uint16) * 257] * 3)}
    for name, array in arrays.items():
        source = _write(tmp_path / "in" / name, array)
        for realism in ("0", "0.5", "1"):
            result = _upscale(source, "-o", tmp_path / f"r{realism}", "--realism", realism)
            assert result.exit_code == 0, result.output
            out = cv2.imread(str(tmp_path / f"r{realism}" / name.replace(".png", "_x4.png")), cv2.IMREAD_UNCHANGED)
            assert out.shape[2] == 3 and out.dtype == array.dtype
            np.testing.assert_array_equal(out[..., 0], out[..., 1])
            np.testing.assert_array_equal(out[..., 0], out[..., 2])
    colour = Upscaler.from_pretrained("x4", realism=1.0, device="cpu")(smooth_bgr(9, 8, seed=6)).image.color
    assert np.abs(colour[..., 0] - colour[..., 1]).max() > 0  # colour content keeps its colour


def _exif_reference(path: Path) -> np.ndarray:
    from PIL import ImageOps

    with PIL.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"), dtype=np.float32) / 255


@pytest.mark.parametrize("orientation", range(1, 9))
def test_png_exif_orientation_is_applied_as_a_viewer_shows_it(tmp_path: Path, orientation: int) -> None:
    rgb = smooth_bgr(6, 9, seed=orientation)[..., ::-1].copy()
    path = pil_save(tmp_path / "o.png", rgb, exif=exif_blob(orientation))
    shown = read_image(path).color
    np.testing.assert_array_equal(shown, _exif_reference(path))
    assert shown.shape[:2] == ((9, 6) if orientation >= 5 else (6, 9))


@pytest.mark.parametrize(
    ("extension", "orientation"), [(".webp", 6), (".webp", 3), (".tif", 6), (".jpg", 6), (".tif", 8)]
)
def test_exif_orientation_is_applied_in_every_format(tmp_path: Path, extension: str, orientation: int) -> None:
    rgb = smooth_bgr(6, 10, seed=orientation)[..., ::-1].copy()
    path = tmp_path / f"o{extension}"
    if extension == ".tif":
        import tifffile

        tifffile.imwrite(path, rgb, photometric="rgb", extratags=[(274, "H", 1, orientation, True)])
    elif extension == ".webp":
        pil_save(path, rgb, exif=exif_blob(orientation), lossless=True)
    else:
        pil_save(path, rgb, exif=b"Exif\x00\x00" + exif_blob(orientation), quality=100)
    shown = read_image(path).color
    assert shown.shape[:2] == ((10, 6) if orientation in (6, 8) else (6, 10))
    reference = rgb.astype(np.float32) / 255
    reference = np.rot90(reference, k=-1 if orientation == 6 else 1) if orientation in (6, 8) else reference[::-1, ::-1]
    np.testing.assert_allclose(shown, reference, atol=0.1 if extension == ".jpg" else 0)


def test_exif_orientation_reaches_the_upscaled_file(tmp_path: Path, identity: Path) -> None:
    rgb = smooth_bgr(4, 6)[..., ::-1].copy()
    path = pil_save(tmp_path / "o.webp", rgb, exif=exif_blob(6), lossless=True)
    result = _upscale(path, "--model", identity)
    assert result.exit_code == 0, result.output
    assert cv2.imread(str(tmp_path / "o_x4.webp")).shape == (24, 16, 3)  # portrait, as shown


class _Bilinear(nn.Module):
    """An x4 upscaler that blends neighbours (bilinear): the colour under transparency leaks into edges."""

    scale, receptive_radius = 4, 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.interpolate(x, scale_factor=4, mode="bilinear", align_corners=False)


def _disc(size: int = 24) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    inside = (yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 3) ** 2
    bgra = np.zeros((size, size, 4), np.uint8)  # black under transparency, as editors store it
    bgra[inside] = 255
    return bgra


def test_alpha_edges_get_no_dark_fringe() -> None:
    out = Upscaler(_Bilinear(), device="cpu", tile=0)(_disc()).image
    visible = out.alpha > 0.02
    assert visible.sum() > 0 and (out.alpha[visible] < 0.98).any()  # there is a soft edge
    assert out.color[visible].min() >= 0.999  # white all the way to the edge: no grey ring
    composite = out.color * out.alpha[..., None] + (1 - out.alpha[..., None])
    assert composite.min() >= 0.999  # over white, the disc is invisible


def test_alpha_fringe_through_the_cli(tmp_path: Path, model: Path) -> None:
    source = _write(tmp_path / "logo.png", _disc())
    assert _upscale(source, "--model", model).exit_code == 0
    reference = _write(tmp_path / "ref" / "logo.png", np.dstack([np.full((24, 24, 3), 255, np.uint8), _disc()[..., 3]]))
    assert _upscale(reference, "--model", model).exit_code == 0
    out = cv2.imread(str(tmp_path / "logo_x4.png"), cv2.IMREAD_UNCHANGED)
    white_under = cv2.imread(str(tmp_path / "ref" / "logo_x4.png"), cv2.IMREAD_UNCHANGED)
    visible = out[..., 3] > 0
    np.testing.assert_array_equal(out[visible], white_under[visible])  # as if white were stored under it


@pytest.mark.parametrize(("dtype", "compression", "channels"), [
    (np.uint16, None, 3), (np.uint16, "lzw", 3), (np.uint8, None, 3), (np.uint16, None, 4),
])
def test_planar_tiff_decodes_like_chunky(tmp_path: Path, dtype: type, compression: str | None, channels: int) -> None:
    tifffile = pytest.importorskip("tifffile")
    if compression:
        pytest.importorskip("imagecodecs")
    rgb = smooth_bgr(7, 9, seed=2, channels=channels, dtype=dtype)
    extra = {"extrasamples": ["unassalpha"]} if channels == 4 else {}
    tifffile.imwrite(tmp_path / "chunky.tif", rgb, photometric="rgb", compression=compression, **extra)
    tifffile.imwrite(tmp_path / "planar.tif", np.moveaxis(rgb, -1, 0), photometric="rgb", planarconfig="separate",
                     compression=compression, **extra)
    chunky, planar = read_image(tmp_path / "chunky.tif"), read_image(tmp_path / "planar.tif")
    np.testing.assert_array_equal(planar.color, rgb[..., :3].astype(np.float32) / np.iinfo(dtype).max)
    np.testing.assert_array_equal(planar.color, chunky.color)
    assert planar.bit_depth == chunky.bit_depth == 8 * np.dtype(dtype).itemsize
    assert (planar.alpha is None) == (channels == 3)


@pytest.mark.parametrize("extension", [".gif", ".png", ".webp"])
def test_animated_inputs_keep_every_frame_and_delay(tmp_path: Path, identity: Path, extension: str) -> None:
    source = animated(tmp_path / f"anim{extension}")
    result = _upscale(source, "--model", identity)
    assert result.exit_code == 0, result.output
    with PIL.open(tmp_path / f"anim_x4{extension}") as out, PIL.open(source) as original:
        assert out.format == original.format and out.n_frames == original.n_frames == 3
        for index in range(3):
            out.seek(index)
            original.seek(index)
            out.load()
            original.load()
            assert out.info["duration"] == original.info["duration"] == (40, 120, 250)[index]
            expected = np.repeat(np.repeat(np.asarray(original.convert("RGB"), np.int16), 4, 0), 4, 1)
            got = np.asarray(out.convert("RGB"), np.int16)
            assert got.shape == expected.shape
            assert np.abs(got - expected).mean() < (8 if extension == ".webp" else 2)  # every frame, not the first


def test_animation_to_jpeg_is_refused_and_read_image_never_takes_a_silent_first_frame(
    tmp_path: Path, model: Path
) -> None:
    source = animated(tmp_path / "anim.gif")
    result = _upscale(source, "--ext", "jpg", "--model", model)
    assert result.exit_code == 1 and "is an animation of 3 frames and .jpg holds one picture" in result.output
    with pytest.raises(InputImageError, match=r"anim\.gif: is an animated GIF of 3 frames"):
        read_image(source)
    assert read_image(source, first_frame=True).color.shape == (8, 10, 3)


def test_a_single_frame_gif_is_a_still_image(tmp_path: Path, model: Path) -> None:
    source = animated(tmp_path / "still.gif", count=1, durations=(100,))
    result = _upscale(source, "--model", model)
    assert result.exit_code == 0 and _listing(tmp_path).count("still_x4.png") == 1


# ---------------------------------------------------------------------------- model files


def _model_file(path: Path, spec: str, card: str = "{}", tensors: dict[str, torch.Tensor] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors or {"x": torch.zeros(1)}, str(path), metadata={"gansuite_spec": spec, "gansuite_card": card})
    return path


_COMPACT = '{"kind": "generator", "name": "compact", "kwargs": {"channels": 8, "num_convs": 2, "scale": 4}}'
MODEL_FILES = {
    "spec_bomb": (_COMPACT.replace('"channels": 8', '"channels": 12000'), "{}",
                  "spec asks for a 'compact' generator of 2,597,580,048 parameters"),
    "huge_count": (_COMPACT.replace('"num_convs": 2', '"num_convs": 1000000000'), "{}", "num_convs=1000000000, beyond"),
    "spec_list": ("[1, 2, 3]", "{}", "network spec (gansuite_spec) is a JSON list where an object belongs"),
    "spec_not_json": ('{"kind": "generator", "name": ', "{}", "network spec (gansuite_spec) is not valid JSON"),
    "card_not_json": (_COMPACT, "{not json", "model card (gansuite_card) is not valid JSON"),
    "card_list": (_COMPACT, "[]", "model card (gansuite_card) is a JSON list"),
    "spec_no_name": ('{"kind": "generator", "kwargs": {}}', "{}", "needs a string 'kind', a string 'name'"),
    "predict_model": ('{"kind": "generator", "name": "unet-predictor", "kwargs": {}}', '{"task": "predict"}',
                      "holds a 'predict' model ('unet-predictor'), not an upscaler"),
    "unknown_net": ('{"kind": "generator", "name": "no-such-net", "kwargs": {}}', "{}", "cannot be built here"),
}


@pytest.mark.parametrize("case", sorted(MODEL_FILES))
def test_malformed_model_file_is_one_line_naming_the_file(tmp_path: Path, case: str) -> None:
    spec, card, reason = MODEL_FILES[case]
    path = _model_file(tmp_path / f"{case}.safetensors", spec, card)
    source = _write(tmp_path / "photo.png", smooth_bgr(4, 4))
    result = _upscale(source, "--model", path)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and reason in lines[0], result.output
    assert "internal error" not in result.output


def test_model_metadata_is_checked_for_the_predict_head_too(tmp_path: Path) -> None:
    from gansuite.tasks.predict.pretrained import load_model

    spec, card, _ = MODEL_FILES["spec_bomb"]
    path = _model_file(tmp_path / "bomb.safetensors", spec, card)
    with pytest.raises(CheckpointError, match=r"bomb\.safetensors: its spec asks for .* nothing was built"):
        load_model(path)


def test_pickled_code_is_refused_in_one_line(tmp_path: Path) -> None:
    class Payload:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (print, ("pickled code ran",))

    path = tmp_path / "evil.pth"
    torch.save({"step": 1, "weights": Payload()}, path)
    with pytest.raises(CheckpointError) as raised:
        load_checkpoint(path)
    message = str(raised.value)
    assert "\n" not in message and "weights_only" not in message and "never executes pickled code" in message
    source = _write(tmp_path / "photo.png", smooth_bgr(4, 4))
    result = _upscale(source, "--model", path)
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert "weights_only" not in result.output and "pickled code ran" not in result.output


def test_x4_gan_with_realism_is_refused_as_a_conflict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_shipped(monkeypatch, tmp_path / "weights", ("x4", "x4-gan"))
    source = _write(tmp_path / "photo.png", smooth_bgr(4, 4))
    result = _upscale(source, "--model", "x4-gan", "--realism", "0")
    assert result.exit_code == 1
    assert "--model x4-gan and --realism conflict" in result.output and "--model x4 --realism R" in result.output

