"""The super-resolution benchmark's results: per-image scores, per-(method, dataset) rows, the report.

`SRBenchmarkReport` holds the rows with the manifest (protocol, versions, device, seed, model
hashes) and writes them as JSON or a markdown table; see `gansuite.bench.sr` for the protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from gansuite.bench.manifest import report_json

__all__ = ["ImageScore", "SRBenchmarkReport", "SRBenchmarkResult"]


@dataclass(frozen=True)
class ImageScore:
    """Scores of one image: PSNR-Y (dB), SSIM-Y, LPIPS (alex; None when skipped), model seconds,
    JPEG-grid strength (None when the image is too small) and output megapixels."""

    image: str
    psnr_y: float
    ssim_y: float
    lpips_alex: float | None
    seconds: float
    jpeg_grid: float | None = None
    megapixels: float = 0.0


@dataclass(frozen=True)
class SRBenchmarkResult:
    """One row of the table: a method on a dataset, averaged over its images."""

    method: str
    dataset: str
    scale: int
    n_images: int
    psnr_y: float
    ssim_y: float
    lpips_alex: float | None
    seconds_per_image: float
    jpeg_grid: float | None = None
    seconds_per_megapixel: float | None = None
    images: tuple[ImageScore, ...] = field(default=(), repr=False)

    @classmethod
    def from_scores(cls, method: str, dataset: str, scale: int, images: Sequence[ImageScore]) -> SRBenchmarkResult:
        """Average per-image scores into a row."""
        lpips_values = [s.lpips_alex for s in images if s.lpips_alex is not None]
        grid_values = [s.jpeg_grid for s in images if s.jpeg_grid is not None]
        megapixels = sum(s.megapixels for s in images)
        return cls(
            method=method,
            dataset=dataset,
            scale=scale,
            n_images=len(images),
            psnr_y=float(np.mean([s.psnr_y for s in images])),
            ssim_y=float(np.mean([s.ssim_y for s in images])),
            lpips_alex=float(np.mean(lpips_values)) if lpips_values else None,
            seconds_per_image=float(np.mean([s.seconds for s in images])),
            jpeg_grid=float(np.mean(grid_values)) if grid_values else None,
            seconds_per_megapixel=sum(s.seconds for s in images) / megapixels if megapixels > 0 else None,
            images=tuple(images),
        )


@dataclass(frozen=True)
class SRBenchmarkReport:
    """The results of a run with its manifest (protocol, versions, device, seed, model hashes)."""

    manifest: dict[str, Any]
    results: tuple[SRBenchmarkResult, ...]

    def to_dict(self, *, per_image: bool = False) -> dict[str, Any]:
        """``{"manifest": ..., "results": [...]}``; per-image scores under "images" if asked."""
        rows = []
        for result in self.results:
            row = asdict(result)
            images = row.pop("images")
            if per_image:
                row["images"] = images
            rows.append(row)
        return {"manifest": self.manifest, "results": rows}

    def to_json(self, *, per_image: bool = False, indent: int = 2) -> str:
        """The report as JSON text (see `to_dict`)."""
        return report_json(self.to_dict(per_image=per_image), indent=indent)

    def to_markdown(self) -> str:
        """A markdown table of the results, with the protocol and device under it."""
        lines = [
            "| Method | Dataset | Scale | Images | PSNR-Y (dB) | SSIM-Y | LPIPS (alex) | JPEG grid | s/image | s/MP |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in self.results:
            lpips_text = "n/a" if r.lpips_alex is None else f"{r.lpips_alex:.4f}"
            grid_text = "n/a" if r.jpeg_grid is None else f"{r.jpeg_grid:.3f}"
            per_mp = "n/a" if r.seconds_per_megapixel is None else f"{r.seconds_per_megapixel:.3f}"
            lines.append(
                f"| {r.method} | {r.dataset} | x{r.scale} | {r.n_images} | {r.psnr_y:.2f} | {r.ssim_y:.4f} | "
                f"{lpips_text} | {grid_text} | {r.seconds_per_image:.3f} | {per_mp} |"
            )
        protocol = self.manifest.get("protocol", {})
        lines += [
            "",
            f"Protocol: {protocol.get('summary', '')} Device: {self.manifest.get('device', '?')}; "
            f"gansuite {self.manifest.get('packages', {}).get('gansuite', '?')}.",
        ]
        return "\n".join(lines) + "\n"
