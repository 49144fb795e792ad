"""Video super-resolution benchmark: per-frame quality and temporal stability (flicker) on clips.

Protocol, per clip:

1. the first `max_frames` frames are decoded (`gansuite.io.iter_video_frames`), downscaled with
   MATLAB's antialiased bicubic so the short side is at most `max_short_side` (this is the HR
   ground truth), and cropped (bottom/right) to a multiple of the scale;
2. each LR frame is MATLAB's ``imresize(hr, 1/scale, 'bicubic')``, as in `gansuite.bench.sr`;
3. every method upscales every LR frame on its own (per-frame SR, as `gansuite upscale` does);
   outputs are quantised to 8 bit;
4. per-frame scores, averaged over the clip's frames: PSNR-Y (BT.601 Y of MATLAB's rgb2ycbcr,
   `scale` pixels cropped from each border) and LPIPS (v0.1, AlexNet) on RGB;
5. flicker: the warping error of Lai et al., "Learning Blind Video Temporal Consistency"
   (ECCV 2018), ``E_warp = mean_t  sum_x M_t(x) ||O_t(x) - warp(O_{t-1})(x)||^2 / sum_x M_t(x)``,
   where O are the method's output frames (RGB in [0, 1]), the warp follows the backward optical
   flow t → t-1 computed on the ground-truth frames with OpenCV's DIS (medium preset), and M_t
   keeps the pixels whose forward and backward flows agree (the occlusion test of Ruder et al.,
   2016: ``|w_b + w_f|^2 < 0.01 (|w_b|^2 + |w_f|^2) + 0.5``). The ground truth's own E_warp (flow
   error, lighting changes, motion blur) is reported beside it; lower is steadier. E_warp rewards
   blur (a blurry output changes less), so the table also gives the E_warp of the error
   ``O_t - G_t`` (G the ground truth): an error that stays in place (a consistent blur or bias)
   scores 0 there, an error that changes from frame to frame (flicker, boiling texture) does not.

The optional temporal blend (`temporal_blend`) is a cheap fix for flicker: each output frame is
blended with the previous blended output warped by flow computed on the bicubic upsampling of
the LR frames (what inference has), ``O'_t = (1 - a) O_t + a warp(O'_{t-1})`` where the flows
agree, ``O_t`` elsewhere; it adds a "<method>+blend" row.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from gansuite.bench._clip_checks import check_clip_lengths
from gansuite.bench._sr_methods import SRMethod, resolve_method
from gansuite.bench.manifest import build_manifest, report_json
from gansuite.errors import ConfigError
from gansuite.io.imresize import imresize
from gansuite.io.video import iter_video_frames
from gansuite.metrics import LPIPSMetric, psnr, quantize_8bit, resolve_device
from gansuite.metrics.video import PSNR_CEILING
from gansuite.tasks.upscale.temporal import TemporalBlend, check_blend_strength, flow_remap, gray8

__all__ = ["VideoSRReport", "VideoSRRow", "run_video_sr_benchmark", "warping_error"]


@dataclass(frozen=True)
class VideoSRRow:
    """Scores of one method on one clip (or, with clip "mean", averaged over the clips)."""

    method: str
    clip: str
    frames: int
    psnr_y: float
    lpips: float | None
    warp_error: float
    ground_truth_warp_error: float
    seconds_per_frame: float
    error_warp_error: float = 0.0


@dataclass
class VideoSRReport:
    """Rows per method and clip, plus the manifest of the run."""

    scale: int
    rows: list[VideoSRRow] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The rows and the manifest as JSON."""
        return report_json({"scale": self.scale, "rows": [asdict(r) for r in self.rows], "manifest": self.manifest})

    def to_markdown(self) -> str:
        """A table: clip, method, PSNR-Y, LPIPS, E_warp ×10³ and the ground truth's, s/frame."""
        lines = [
            f"| Clip | Method (x{self.scale}) | Frames | PSNR-Y (dB) | LPIPS | E_warp ×10³ (lower = steadier) "
            "| E_warp of ground truth ×10³ | E_warp of the error ×10³ | s/frame |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in self.rows:
            lpips = "–" if row.lpips is None else f"{row.lpips:.4f}"
            lines.append(
                f"| {row.clip} | {row.method} | {row.frames} | {row.psnr_y:.2f} | {lpips} | {row.warp_error * 1e3:.3f} "
                f"| {row.ground_truth_warp_error * 1e3:.3f} | {row.error_warp_error * 1e3:.3f} "
                f"| {row.seconds_per_frame:.3f} |"
            )
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- flow and warping


def warping_error(frames: Sequence[np.ndarray], flows: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> float:
    """Lai et al.'s E_warp of a sequence: mean over t >= 1 of the masked MSE between frame t and warped frame t-1.

    Args:
        frames: T `(H, W, 3)` float frames in [0, 1].
        flows: T - 1 `flow_remap` results, the one at index t-1 warping frame t-1 onto frame t.

    Returns:
        E_warp (mean squared error in [0, 1] units over reliable pixels), 0.0 for fewer than 2 frames.
    """
    errors = []
    for index in range(1, len(frames)):
        map_x, map_y, mask = flows[index - 1]
        warped = cv2.remap(frames[index - 1], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        squared = ((frames[index] - warped) ** 2).sum(axis=2)
        if mask.any():
            errors.append(float(squared[mask].mean()))
    return float(np.mean(errors)) if errors else 0.0


# ---------------------------------------------------------------------------- the run


def _to_8bit(images: torch.Tensor) -> torch.Tensor:
    """Float in [0, 1] rounded to the 8-bit grid, still in [0, 1] (as a saved frame would be)."""
    return quantize_8bit(images) / 255.0


def _load_clip(path: Path, max_frames: int, max_short_side: int, scale: int) -> list[np.ndarray]:
    frames = []
    for frame in iter_video_frames(path, max_frames=max_frames):
        tensor = torch.from_numpy(frame).permute(2, 0, 1)[None]
        short = min(tensor.shape[-2:])
        if short > max_short_side:
            size = (round(tensor.shape[-2] * max_short_side / short), round(tensor.shape[-1] * max_short_side / short))
            tensor = imresize(tensor, size=size).clamp(0, 1)
        height, width = (tensor.shape[-2] // scale) * scale, (tensor.shape[-1] // scale) * scale
        frames.append(_to_8bit(tensor[..., :height, :width])[0].permute(1, 2, 0).numpy())
    if len(frames) < 2:
        raise ConfigError(f"--clip {path}: needs at least 2 frames to measure flicker, has {len(frames)}")
    return frames


def _blend(outputs: list[np.ndarray], low_res: list[np.ndarray], alpha: float) -> list[np.ndarray]:
    """The outputs through a fresh `TemporalBlend(alpha)`, as `gansuite upscale --temporal-blend` does."""
    blend = TemporalBlend(alpha)
    return [blend(source, output) for source, output in zip(low_res, outputs, strict=True)]


def _scores(
    outputs: list[np.ndarray], truth: list[np.ndarray], scale: int, lpips: LPIPSMetric | None, device: torch.device
) -> tuple[float, float | None]:
    out = torch.from_numpy(np.stack(outputs)).permute(0, 3, 1, 2)
    ref = torch.from_numpy(np.stack(truth)).permute(0, 3, 1, 2)
    psnr_y = float(psnr(out, ref, channel="y", crop_border=scale).clamp(max=PSNR_CEILING).mean())
    lpips_value = None
    if lpips is not None:
        lpips_value = float(lpips(out.to(device), ref.to(device)).mean())
    return psnr_y, lpips_value


def run_video_sr_benchmark(
    methods: Sequence[str | SRMethod],
    clips: Sequence[str | os.PathLike[str]],
    *,
    scale: int = 4,
    max_frames: int = 30,
    max_short_side: int = 240,
    device: str = "auto",
    lpips: LPIPSMetric | None = None,
    temporal_blend: float | None = None,
    progress: Callable[[str], None] | None = None,
    command: str | None = None,
) -> VideoSRReport:
    """Runs every method on every clip (see the module docstring) and returns the table and manifest.

    Args:
        methods: "bicubic", shipped model names, gansuite weights files, spandrel model files, or
            `SRMethod`s; all must upscale by `scale`.
        clips: video files or frame folders.
        scale: the upscaling factor.
        max_frames: frames taken from the start of each clip (>= 2).
        max_short_side: ground-truth frames are downscaled to this short side at most.
        device: where the models and LPIPS run.
        lpips: an `LPIPSMetric`, or None to skip LPIPS.
        temporal_blend: blend weight a in (0, 1) of the flicker fix, or None for none.
        progress: called with one line per method and clip.
        command: the command line, recorded in the manifest.

    Raises:
        ConfigError: no methods or clips, bad settings, a method of another scale, a clip under 2 frames.
    """
    if not methods or not clips:
        raise ConfigError("benchmark video-sr needs at least one --method and one --clip")
    if max_frames < 2 or max_short_side < 8 * scale:
        raise ConfigError(f"--max-frames must be >= 2 and --max-short-side >= {8 * scale}")
    if temporal_blend is not None:
        check_blend_strength(temporal_blend)  # before any frame is computed
    check_clip_lengths([Path(c) for c in clips], 2, "--clip", "measuring flicker", "give clips of 2 frames or more")
    torch_device = resolve_device(device)
    torch.manual_seed(0)
    resolved = [resolve_method(m, scale, torch_device) for m in methods]
    report = VideoSRReport(scale=scale)
    per_method: dict[str, list[VideoSRRow]] = {}
    for clip in clips:
        path = Path(clip)
        truth = _load_clip(path, max_frames, max_short_side, scale)
        low_res = [
            imresize(torch.from_numpy(f).permute(2, 0, 1)[None], scale=1 / scale)
            .clamp(0, 1)[0]
            .permute(1, 2, 0)
            .numpy()
            for f in truth
        ]
        low_res = [_to_8bit(torch.from_numpy(f)).numpy() for f in low_res]
        flows = [flow_remap(gray8(truth[i - 1]), gray8(truth[i])) for i in range(1, len(truth))]
        truth_error = warping_error(truth, flows)
        for method in resolved:
            started = time.perf_counter()
            outputs = []
            with torch.no_grad():
                for frame in low_res:
                    tensor = torch.from_numpy(frame).permute(2, 0, 1)[None].to(torch_device)
                    result = _to_8bit(method(tensor).clamp(0, 1))[0].permute(1, 2, 0).cpu().numpy()
                    outputs.append(np.ascontiguousarray(result, dtype=np.float32))
            seconds = (time.perf_counter() - started) / len(outputs)
            variants = [(method.name, outputs)]
            if temporal_blend is not None and method.name != "bicubic":
                variants.append((f"{method.name}+blend", _blend(outputs, low_res, temporal_blend)))
            for name, frames in variants:
                psnr_y, lpips_value = _scores(frames, truth, scale, lpips, torch_device)
                residuals = [out - gt for out, gt in zip(frames, truth, strict=True)]
                row = VideoSRRow(
                    name,
                    path.name,
                    len(frames),
                    psnr_y,
                    lpips_value,
                    warping_error(frames, flows),
                    truth_error,
                    seconds,
                    warping_error(residuals, flows),
                )
                report.rows.append(row)
                per_method.setdefault(name, []).append(row)
                if progress is not None:
                    progress(
                        f"{path.name} {name}: PSNR-Y {psnr_y:.2f} dB, E_warp {row.warp_error * 1e3:.3f}e-3 "
                        f"(ground truth {truth_error * 1e3:.3f}e-3), {seconds:.3f} s/frame"
                    )
    if len(clips) > 1:
        for name, rows in per_method.items():
            lpips_values = [r.lpips for r in rows if r.lpips is not None]
            report.rows.append(
                VideoSRRow(
                    name,
                    "mean",
                    sum(r.frames for r in rows),
                    float(np.mean([r.psnr_y for r in rows])),
                    float(np.mean(lpips_values)) if len(lpips_values) == len(rows) else None,
                    float(np.mean([r.warp_error for r in rows])),
                    float(np.mean([r.ground_truth_warp_error for r in rows])),
                    float(np.mean([r.seconds_per_frame for r in rows])),
                    float(np.mean([r.error_warp_error for r in rows])),
                )
            )
    report.manifest = build_manifest(
        protocol={
            "ground_truth": f"first {max_frames} frames, MATLAB bicubic (antialiased) to short side <= "
            f"{max_short_side}, cropped to a multiple of {scale}",
            "low_res": "MATLAB imresize(hr, 1/scale, 'bicubic'), 8-bit",
            "psnr": f"BT.601 Y (MATLAB rgb2ycbcr), crop {scale}, 8-bit, each frame's capped at {PSNR_CEILING:g} dB, "
            "mean over frames",
            "lpips": "v0.1 alex on RGB, mean over frames" if lpips is not None else "not computed",
            "flicker": "E_warp (Lai et al. ECCV 2018): masked MSE of O_t vs O_{t-1} warped by DIS (medium) backward "
            "flow on the ground truth; mask = forward-backward consistency (Ruder et al. 2016)",
            "temporal_blend": temporal_blend,
        },
        device=torch_device,
        seed=0,
        model_files={m.name: m.source_file for m in resolved if m.source_file is not None},
        extra={"clips": [str(Path(c)) for c in clips], "command": command, "scale": scale},
    )
    return report
