"""One check of a whole upscale batch before any compute: every problem reported at once.

`plan_batch` reads each input's header (never its pixels, except to tell a real alpha from an
opaque one when the output format has none) and decides each output's name. It finds:

- problems with the command as given, which stop the batch before any work, all listed in
  one `PreflightError`: a `--suffix` holding a path separator; an output folder that cannot be
  made or written (read-only, a file in the way); output names too long for the file system;
  outputs wider than the format allows (WebP 16383 px, JPEG 65500 px); `--outscale` results
  under one pixel; an output that would overwrite an input; a real alpha channel or an
  animation for a format that cannot hold it;
- problems with single inputs, which fail that file only, before any compute: not a regular
  file (a FIFO or device), unreadable, empty, not an image, too large for the memory the job
  needs (estimated from the output size, the tile and the model; `--max-pixels` raises it), or
  an output name a folder already holds;
- outputs that two inputs would share (``shot.png``, ``shot.jpg``, ``shot.tif`` → one
  ``shot_x4.png``): those outputs get the input's extension in their name
  (``shot_png_x4.png``, ``shot_tif_x4.png``), and a note says so.

Folder expansion itself (`gansuite.tasks.upscale.batch.expand_inputs`) never takes dot files,
temporary files or gansuite's own outputs (``*_x4.png``) as inputs.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gansuite.core.atomic import output_folder_problem
from gansuite.errors import ConfigError, GansuiteError, InputImageError
from gansuite.io._encode import ALPHA_FORMATS, FORMAT_MAX_SIDE, is_opaque
from gansuite.io.image import DEFAULT_MAX_PIXELS, ImageHeader, probe_image, read_image

__all__ = [
    "BYTES_PER_OUTPUT_PIXEL",
    "MAX_PIXELS_ENV",
    "Job",
    "Plan",
    "PreflightError",
    "available_memory",
    "estimate_memory",
    "looks_like_output",
    "memory_problem",
    "output_folder_problem",
    "plan_batch",
    "target_folder_problem",
]

MAX_PIXELS_ENV = "GANSUITE_MAX_PIXELS"
"""Environment variable that sets `--max-pixels` (the largest input image, in pixels)."""

BYTES_PER_OUTPUT_PIXEL = {False: 32, True: 44}
"""Peak host bytes per output pixel without / with alpha: float32 output, tile blending and
encoding buffers. Measured by `benchmarks/upscale_host_memory.py` (VmHWM, x4): 29.1 / 45.6 at
1000x1000 inputs, 25.0 / 35.4 at 1500x1500; large images are what the check is for, so the
1500x1500 values plus about 25%. Small images cost more per pixel, but they fit anyway: the
estimate adds the tile's working memory (512 MiB on the CPU)."""

_MEMORY_SHARE = 0.8
"""The share of the available memory one image may take by default (the rest is headroom)."""

_STILL_EXTENSIONS = ("png", "jpg", "webp")
_ANIMATED_AUTO = {"GIF": "gif", "PNG": "png", "WebP": "webp"}
_DEFAULT_SUFFIX = re.compile(r"_x\d+(?:\.\d+)?$")


class PreflightError(ConfigError):
    """The batch was refused before any compute; `problems` lists every reason, one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            listed = "\n".join(f"  - {problem}" for problem in self.problems)
            message = f"{len(self.problems)} problems found before any compute; nothing was written:\n{listed}"
        super().__init__(message)


@dataclass(frozen=True)
class Job:
    """One input and the output it will write.

    Attributes:
        source: the input file.
        target: the output file.
        frames: frames of an animated input (1 for a still image).
        drop_alpha: the input's alpha is opaque everywhere and the output format has none.
    """

    source: Path
    target: Path
    frames: int = 1
    drop_alpha: bool = False


@dataclass
class Plan:
    """What a batch will do: jobs to run, inputs already failed, notes for the user."""

    jobs: list[Job] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def available_memory() -> int | None:
    """Bytes of memory this process can still use: MemAvailable, bounded by a cgroup v2 limit; None if unknown."""
    values: list[int] = []
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    values.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit != "max":
            values.append(max(0, int(limit) - used))
    except (OSError, ValueError):
        pass
    return min(values) if values else None


def estimate_memory(
    out_pixels: int,
    *,
    alpha: bool,
    frames: int = 1,
    tile_bytes: int = 512 * 2**20,
    extra_bytes_per_output_pixel: int = 0,
) -> int:
    """Peak host bytes to upscale and write one image with `out_pixels` output pixels.

    Args:
        out_pixels: output width × height.
        alpha: whether the image has an alpha channel (upscaled too).
        frames: frames of an animation (all are held until it is written).
        tile_bytes: working memory of one tile in the network (the `Upscaler`'s tile budget).
        extra_bytes_per_output_pixel: what the caller holds beside the result (the web page's previews).
    """
    return out_pixels * (BYTES_PER_OUTPUT_PIXEL[alpha] + extra_bytes_per_output_pixel) * frames + tile_bytes


def memory_problem(
    header: ImageHeader,
    *,
    final_scale: float,
    max_pixels: int | None,
    memory: int | None,
    tile_bytes: int = 512 * 2**20,
    extra_bytes_per_output_pixel: int = 0,
    raise_hint: str = f"--max-pixels or {MAX_PIXELS_ENV}",
) -> str | None:
    """Why an image is too large to upscale here, or None: the one rule `plan_batch` and the web page share.

    Args:
        header: from `probe_image` (an image whose header gives no size passes).
        final_scale: the output size over the input size.
        max_pixels: the caller's own limit on input pixels; None: what 80% of `memory` allows,
            at most `DEFAULT_MAX_PIXELS`.
        memory: bytes available (`available_memory`); None: unknown.
        tile_bytes: the network's working memory for one tile.
        extra_bytes_per_output_pixel: what the caller holds beside the result (the web page's previews).
        raise_hint: how this caller raises the limit, for the message.
    """
    if header.height is None or header.width is None:
        return None
    source = header.path
    out_height, out_width = round(header.height * final_scale), round(header.width * final_scale)
    pixels = header.height * header.width
    per_output_pixel = BYTES_PER_OUTPUT_PIXEL[header.alpha] + extra_bytes_per_output_pixel
    needed = estimate_memory(out_height * out_width, alpha=header.alpha, frames=header.frames, tile_bytes=tile_bytes,
                             extra_bytes_per_output_pixel=extra_bytes_per_output_pixel)
    limit = max_pixels
    if limit is None:
        limit = DEFAULT_MAX_PIXELS
        if memory is not None:
            per_input_pixel = per_output_pixel * final_scale**2 * header.frames
            usable = memory * _MEMORY_SHARE - tile_bytes  # what other programs free or take meanwhile
            limit = min(limit, max(1, int(usable / per_input_pixel)))
    if pixels <= limit:
        return None
    size = (
        f"{source}: {header.width}x{header.height} ({pixels:,} pixels"
        f"{f' x {header.frames} frames' if header.frames > 1 else ''})"
    )
    output = f"its x{final_scale:g} output ({out_width}x{out_height}) needs about {_gigabytes(needed)} of memory"
    if max_pixels is not None:  # the user's own limit, not this machine's memory, refuses it
        available = f"; about {_gigabytes(memory)} is available here" if memory is not None else ""
        return (
            f"{size} is over the {limit:,}-pixel limit set by {raise_hint}; raise it if "
            f"memory allows ({output}{available}), or downscale the input"
        )
    available = f"about {_gigabytes(memory)} is available here, " if memory is not None else ""
    return (
        f"{size}: {output}; {available}so at most {limit:,} input pixels are taken; raise the limit with "
        f"{raise_hint} if it fits, or downscale the input"
    )


def _gigabytes(count: int) -> str:
    return f"{count / 1e9:.1f} GB"


def _target_extension(ext: str, kind: str, source: Path, frames: int) -> str:
    if ext != "auto":
        return ext
    if frames > 1:
        return _ANIMATED_AUTO.get(kind, "png")
    own = {"jpeg": "jpg"}.get(source.suffix.lower().lstrip("."), source.suffix.lower().lstrip("."))
    return own if own in _STILL_EXTENSIONS else "png"


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return path.absolute()


def _name_max(folder: Path) -> int:
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return int(os.pathconf(probe, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def plan_batch(
    files: Sequence[Path],
    *,
    scale: int,
    outscale: float | None = None,
    out_dir: Path | None = None,
    suffix: str = "_x4",
    ext: str = "auto",
    max_pixels: int | None = None,
    tile_bytes: int = 512 * 2**20,
    memory: int | None = None,
) -> Plan:
    """Checks a batch and names its outputs, before any compute.

    Args:
        files: input image files.
        scale: the network's scale.
        outscale: the final scale after the network, if any.
        out_dir: output folder; None writes beside each input.
        suffix: added to each output's stem.
        ext: "auto", "png", "jpg" or "webp".
        max_pixels: the largest input, in pixels; None takes it from `GANSUITE_MAX_PIXELS`, else
            the largest whose estimated memory fits in 80% of `memory` (at most `DEFAULT_MAX_PIXELS`).
        tile_bytes: the network's working memory for one tile.
        memory: bytes of memory available; None measures it (`available_memory`).

    Returns:
        The `Plan`: jobs in input order, inputs that fail already, and notes.

    Raises:
        PreflightError: problems with the command as given, all of them in one error.
    """
    problems: list[str] = []
    if ext not in ("auto", *_STILL_EXTENSIONS):
        problems.append(f"--ext must be auto, png, jpg or webp, got {ext!r}")
    if any(separator in suffix for separator in {os.sep, "/", "\\", "\0"} if separator):
        problems.append(f"--suffix {suffix!r} contains a path separator; it is added to file names, use -o for folders")
    final_scale = outscale or scale
    limit_from_env = os.environ.get(MAX_PIXELS_ENV)
    if max_pixels is None and limit_from_env:
        try:
            max_pixels = int(limit_from_env.replace("_", ""))
        except ValueError:
            problems.append(f"{MAX_PIXELS_ENV}={limit_from_env!r} is not a whole number of pixels")
    if max_pixels is not None and max_pixels < 1:
        problems.append(f"--max-pixels must be a positive number of pixels, got {max_pixels}")
    if problems:
        raise PreflightError(problems)
    memory = available_memory() if memory is None else memory
    plan = Plan()
    headers = []
    for source in files:
        try:
            headers.append(probe_image(source))
        except GansuiteError as error:
            plan.failed.append((source, str(error)))
    # output names, and outputs that two inputs would share
    wanted: dict[Path, list[tuple[Path, str, int]]] = defaultdict(list)
    for header in headers:
        extension = _target_extension(ext, header.kind, header.path, header.frames)
        target = (out_dir or header.path.parent) / f"{header.path.stem}{suffix}.{extension}"
        wanted[target].append((header.path, extension, header.frames))
    targets: dict[Path, Path] = {}
    for target, sources in wanted.items():
        if len(sources) == 1:
            targets[sources[0][0]] = target
            continue
        renamed = []
        for source, extension, _ in sources:
            own = source.suffix.lower().lstrip(".") or "noext"
            targets[source] = target.with_name(f"{source.stem}_{own}{suffix}.{extension}")
            renamed.append(f"{source.name} → {targets[source].name}")
        plan.notes.append(
            f"{', '.join(s.name for s, _, _ in sources)} would {'both' if len(sources) == 2 else 'all'} write "
            f"{target.name}; writing {'; '.join(renamed)}"
        )
    seen: dict[Path, Path] = {}
    for source, target in targets.items():  # a renamed output may still meet another input's output
        if target in seen:
            problems.append(f"{seen[target]} and {source} would both write {target}; rename one or use --suffix")
        seen.setdefault(target, source)
    inputs = {_resolved(path) for path in files}
    for folder in sorted({target.parent for target in targets.values()}):
        problem = output_folder_problem(folder)
        if problem:
            problems.append(problem)
    for header in headers:
        source = header.path
        target = targets[source]
        taken = target_folder_problem(target)
        if taken:  # this file fails; the others go on
            plan.failed.append((source, taken))
            continue
        extension = target.suffix
        name_max = _name_max(target.parent)  # temporary names are shortened to fit (gansuite.core.atomic)
        if len(target.name.encode()) > name_max:
            problems.append(
                f"{target}: the output name is {len(target.name.encode())} bytes, longer than the {name_max} this file "
                "system allows; rename the input or shorten --suffix"
            )
        if _resolved(target) in inputs:
            problems.append(f"{target} is one of the inputs and is never overwritten: change --suffix or -o")
        if header.frames > 1 and extension == ".jpg":
            problems.append(
                f"{source}: is an animation of {header.frames} frames and .jpg holds one picture; use --ext auto, png "
                "or webp to keep every frame (or upscale it as a video)"
            )
        if header.height is None or header.width is None:
            plan.jobs.append(Job(source, target, header.frames))
            continue
        out_height, out_width = round(header.height * final_scale), round(header.width * final_scale)
        if min(out_height, out_width) < 1:
            problems.append(
                f"{source}: --outscale {outscale:g} makes its {header.width}x{header.height} pixels "
                f"{out_width}x{out_height}: under one pixel; use a larger --outscale"
            )
            continue
        side_limit = FORMAT_MAX_SIDE.get(extension)
        if side_limit is not None and max(out_height, out_width) > side_limit:
            problems.append(
                f"{source}: its x{final_scale:g} output is {out_width}x{out_height}, but {extension} images are at "
                f"most {side_limit} pixels a side; "
                + ("use --ext png" if extension != ".png" else "split the input or use a smaller --outscale")
            )
        problem = memory_problem(header, final_scale=final_scale, max_pixels=max_pixels, memory=memory,
                                 tile_bytes=tile_bytes)
        if problem:
            plan.failed.append((source, problem))
            continue
        pixels = header.height * header.width
        drop_alpha = False
        if extension not in ALPHA_FORMATS and header.kind in ("PNG", "WebP", "TIFF", "GIF", "BMP"):
            try:
                image = read_image(source, max_pixels=max(pixels, 1), first_frame=True)
            except InputImageError as error:
                plan.failed.append((source, str(error)))
                continue
            if image.alpha is not None and not is_opaque(image.alpha):
                problems.append(
                    f"{source}: has a real alpha channel (transparency) and {extension} cannot store it; use --ext png "
                    "or --ext webp to keep it"
                )
                continue
            drop_alpha = image.alpha is not None
        plan.jobs.append(Job(source, target, header.frames, drop_alpha))
    if problems:
        raise PreflightError(problems)
    return plan


def target_folder_problem(target: Path) -> str | None:
    """The failure line of an output name a folder already holds (-o names the output folder, so the
    usual advice to give a file name inside it does not apply), or None."""
    if os.path.isdir(target):  # False, not an error, for a name too long (reported on its own)
        return f"{target} is a folder; remove it or choose another -o / --suffix"
    return None


def looks_like_output(path: Path, suffixes: Sequence[str] = ()) -> bool:
    """Whether a file's name is one gansuite's upscale would write (`<stem>_x4.<ext>`, or a given suffix)."""
    stem = path.stem
    return bool(_DEFAULT_SUFFIX.search(stem)) or any(suffix and stem.endswith(suffix) for suffix in suffixes)

