"""The speed benchmark's results: one row per measurement and the report with its tables.

`SpeedReport` holds the rows with the manifest (protocol, versions, devices, seed, model hashes)
and writes them as JSON or markdown tables; see `gansuite.bench.speed` for the protocol.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from gansuite.bench.manifest import report_json

__all__ = ["InferenceSpeed", "SpeedReport", "TrainingSpeed", "format_value"]


@dataclass(frozen=True)
class InferenceSpeed:
    """One model on one device at one precision; None where the combination was skipped (see `note`).

    Memory is "peak RSS" of a fresh process (CPU), "max allocated" by torch (CUDA), or "n/a".
    MACs are per output pixel, rates in GMAC/s; `peak_fraction` = achieved / conv peak.
    """

    model: str
    scale: int
    device: str
    precision: str
    input_size: int
    output_megapixels_per_s: float | None
    median_seconds: float | None
    seconds: tuple[float, ...]
    peak_memory_mib: float | None
    baseline_memory_mib: float | None
    memory_kind: str
    macs_per_pixel: float
    conv_peak_gmacs: float | None
    achieved_gmacs: float | None
    peak_fraction: float | None
    note: str = ""


@dataclass(frozen=True)
class TrainingSpeed:
    """GAN training steps of one generator (with the U-Net discriminator); None where skipped."""

    model: str
    device: str
    precision: str
    batch_size: int
    patch_size: int
    content_losses: str
    iterations_per_s: float | None
    images_per_s: float | None
    median_seconds: float | None
    seconds: tuple[float, ...]
    peak_memory_mib: float | None
    note: str = ""


def format_value(value: float | None, digits: int = 2) -> str:
    """A table cell: the value with thousands separators and `digits` decimals, "—" for None."""
    return "—" if value is None else f"{value:,.{digits}f}"


@dataclass(frozen=True)
class SpeedReport:
    """The speed tables of a run with their manifest (protocol, versions, devices, seed, model hashes)."""

    manifest: dict[str, Any]
    inference: tuple[InferenceSpeed, ...]
    training: tuple[TrainingSpeed, ...]

    def to_dict(self) -> dict[str, Any]:
        """``{"manifest": ..., "inference": [...], "training": [...]}``."""
        return {
            "manifest": self.manifest,
            "inference": [asdict(row) for row in self.inference],
            "training": [asdict(row) for row in self.training],
        }

    def to_json(self, *, indent: int = 2) -> str:
        """The report as JSON text (see `to_dict`)."""
        return report_json(self.to_dict(), indent=indent)

    def to_markdown(self) -> str:
        """Markdown tables (inference, then training) with the protocol and devices under them."""
        protocol = self.manifest.get("protocol", {})
        lines = [
            f"Inference: {protocol.get('inference', '')}",
            "",
            "| Model | Device | Precision | Output MP/s | ms/image | Peak memory (MiB) | Baseline (MiB) | Increment "
            "(MiB) | MACs/px | Conv peak (GMAC/s) | Achieved (GMAC/s) | Of peak | Note |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for r in self.inference:
            ms = None if r.median_seconds is None else 1000 * r.median_seconds
            fraction = "—" if r.peak_fraction is None else f"{100 * r.peak_fraction:.0f}%"
            memory = (r.peak_memory_mib, r.baseline_memory_mib)
            increment = None if None in memory else memory[0] - memory[1]  # type: ignore[operator]
            lines.append(
                f"| {r.model} | {r.device} | {r.precision} | {format_value(r.output_megapixels_per_s, 3)} "
                f"| {format_value(ms, 0)} | {format_value(r.peak_memory_mib, 0)} "
                f"| {format_value(r.baseline_memory_mib, 0)} | {format_value(increment, 0)} "
                f"| {format_value(r.macs_per_pixel, 0)} | {format_value(r.conv_peak_gmacs, 1)} "
                f"| {format_value(r.achieved_gmacs, 1)} | {fraction} | {r.note} |"
            )
        if self.training:
            lines += [
                "",
                f"Training: {protocol.get('training', '')}",
                "",
                "| Model | Device | Precision | it/s | images/s | s/step | Peak memory (MiB) | Content losses | Note |",
                "| --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
            ]
            for t in self.training:
                lines.append(
                    f"| {t.model} | {t.device} | {t.precision} | {format_value(t.iterations_per_s)} "
                    f"| {format_value(t.images_per_s)} | {format_value(t.median_seconds, 3)} "
                    f"| {format_value(t.peak_memory_mib, 0)} | {t.content_losses} | {t.note} |"
                )
        load = self.manifest.get("load_average_1m", {})
        lines += [
            "",
            f"Devices: {'; '.join(self.manifest.get('devices', []))}; {protocol.get('threads', '?')} torch threads; "
            f"1-minute load average {load.get('start', '?')} at the start, {load.get('end', '?')} at the end; "
            f"gansuite {self.manifest.get('packages', {}).get('gansuite', '?')}, "
            f"torch {self.manifest.get('packages', {}).get('torch', '?')}.",
        ]
        if self.manifest.get("note"):
            lines.append(f"Note: {self.manifest['note']}")
        return "\n".join(lines) + "\n"
