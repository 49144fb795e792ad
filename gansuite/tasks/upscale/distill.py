"""Knowledge distillation of a large super-resolution model into a compact one.

A compact generator learns the outputs of a teacher (e.g. Real-ESRGAN x4plus, loaded through
spandrel) on realistic-degraded LR crops (Hinton et al. 2015, applied to SR as in e.g. Gao et
al. 2018). The teacher's output is a deterministic function of the LR crop, so unlike the HR
image it has one answer per input: an L1 student need not average plausible details into blur.
The teacher is too slow to run per training step on a CPU, so its outputs are computed once
(`write_teacher_pairs`) into safetensors shards of (LR, teacher output, HR) crops, which
`TeacherPairs` serves with random flips and 90° rotations and `DistillHead` turns into batches.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from gansuite.core.atomic import atomic_path
from gansuite.core.sampling import SeededIndex, sample_rng
from gansuite.core.trainer import Sample
from gansuite.errors import ConfigError
from gansuite.io.folders import list_images
from gansuite.tasks.upscale.data import load_training_images
from gansuite.tasks.upscale.realistic import RealisticDegradationConfig, realistic_degradation_batch

__all__ = ["DistillHead", "TeacherPairs", "load_teacher", "split_holdout", "write_teacher_pairs"]

_KEYS = ("low_res", "teacher", "high_res")


def load_teacher(path: str | os.PathLike[str], scale: int) -> nn.Module:
    """A third-party SR model file as an eval-mode module, through spandrel (no pickle is run).

    Args:
        path: a model file spandrel supports (.safetensors, .pth, ...).
        scale: the upscaling factor it must have.

    Returns:
        A module mapping (N, 3, h, w) float32 RGB in [0, 1] to (N, 3, h·scale, w·scale).

    Raises:
        NotAvailableError: spandrel is not installed (``pip install 'gansuite[peers]'``).
        CheckpointError: the file is not an RGB SR model spandrel can load.
        ConfigError: its scale is not `scale`.
    """
    from gansuite.tasks.upscale.model_files import load_spandrel, read_state_dict

    descriptor = load_spandrel(Path(path), read_state_dict(path), flag="--teacher")
    if int(descriptor.scale) != scale:
        raise ConfigError(f"--teacher {path}: a x{descriptor.scale} model; the pairs need a x{scale} one")
    return descriptor.model.eval()


def split_holdout(files: Sequence[Path], every: int) -> tuple[list[Path], list[Path]]:
    """(kept, held out): every `every`-th file (from the first) is held out; `every` = 0 holds none."""
    if every < 0:
        raise ConfigError(f"holdout_every must be >= 0, got {every}")
    kept: list[Path] = []
    held: list[Path] = []
    for i, f in enumerate(files):
        (held if every and i % every == 0 else kept).append(f)
    return kept, held


def _crops(images: list[np.ndarray], count: int, patch: int, rng: np.random.Generator) -> np.ndarray:
    areas = np.array([im.shape[0] * im.shape[1] for im in images], dtype=np.float64)
    picks = rng.choice(len(images), size=count, p=areas / areas.sum())
    out = np.empty((count, patch, patch, 3), np.uint8)
    for i, which in enumerate(picks):
        image = images[which]
        top = int(rng.integers(0, image.shape[0] - patch + 1))
        left = int(rng.integers(0, image.shape[1] - patch + 1))
        out[i] = image[top : top + patch, left : left + patch]
    return out


def _to_uint8(images: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) float in [0, 1] → (N, H, W, 3) uint8."""
    return images.clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def write_teacher_pairs(
    teacher_file: str | os.PathLike[str],
    folders: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    count: int,
    patch_size: int = 128,
    scale: int = 4,
    seed: int = 0,
    holdout_every: int = 10,
    batch_size: int = 12,
    realistic: RealisticDegradationConfig | None = None,
    save_every: int = 20,
) -> Path:
    """Degrade random HR crops realistically and record the teacher's output for each.

    Args:
        teacher_file: the teacher model file (see `load_teacher`); its scale must be `scale`.
        folders: folders of HR training images.
        out: the shard file to write (``.safetensors``); rewritten atomically every `save_every`
            batches, so an interrupted run leaves a valid shard of what was done.
        count: crops to write (rounded up to whole batches).
        patch_size: HR crop side in pixels, a multiple of `scale`.
        seed: crops and degradations are drawn from it: same seed → same shard.
        holdout_every: every n-th image of each folder (sorted) is left out, for validation.
        batch_size: crops per teacher call.
        realistic: the degradation's parameters (default: Real-ESRGAN's).

    Returns:
        `out`. Its tensors: ``low_res`` (n, p/s, p/s, 3), ``teacher`` and ``high_res``
        (n, p, p, 3), all uint8 RGB; its metadata names the teacher, data, seed and degradation.

    Raises:
        ConfigError: bad sizes, a teacher of another scale, or no image of at least `patch_size`.
        CheckpointError, NotAvailableError: the teacher cannot be loaded.
    """
    from safetensors.torch import save_file

    if patch_size % scale or count < 1 or batch_size < 1:
        raise ConfigError(f"patch_size {patch_size} must be a multiple of scale {scale}; count, batch_size >= 1")
    teacher = load_teacher(teacher_file, scale).to(memory_format=torch.channels_last)
    kept = [path for folder in folders for path in split_holdout(list_images(folder), holdout_every)[0]]
    images = load_training_images(kept, patch_size=patch_size)
    if not images:
        raise ConfigError(f"no training image is at least {patch_size}x{patch_size} pixels in {list(folders)}")
    metadata = {
        "teacher": Path(teacher_file).name, "data": json.dumps([Path(f).name for f in folders]), "seed": str(seed),
        "holdout_every": str(holdout_every), "patch_size": str(patch_size), "scale": str(scale),
        "realistic_degradation": json.dumps((realistic or RealisticDegradationConfig()).as_dict()),
    }
    rng = np.random.default_rng(seed)
    parts: dict[str, list[torch.Tensor]] = {k: [] for k in _KEYS}
    batches = -(-count // batch_size)
    out = Path(out)
    for b in range(batches):
        high_res = torch.from_numpy(_crops(images, batch_size, patch_size, rng)).permute(0, 3, 1, 2).float() / 255
        low_res = realistic_degradation_batch(high_res, scale, rng, realistic)
        with torch.no_grad():
            taught = teacher(low_res.contiguous(memory_format=torch.channels_last)).float()
        for key, value in zip(_KEYS, (low_res, taught, high_res), strict=True):
            parts[key].append(_to_uint8(value))
        if (b + 1) % save_every == 0 or b + 1 == batches:
            with atomic_path(out) as tmp:
                save_file({k: torch.cat(v) for k, v in parts.items()}, str(tmp), metadata=metadata)
    return out


class TeacherPairs(Dataset):
    """(LR, teacher output, HR) crops from `write_teacher_pairs` shards, randomly flipped and rotated.

    Items are dicts of uint8 tensors: ``low_res`` (h, w, 3), ``teacher`` and ``high_res``
    (h·s, w·s, 3), RGB, with the same flip and rotation applied to all three.

    Args:
        shards: ``.safetensors`` files written by `write_teacher_pairs`.

    Raises:
        ConfigError: no shard given, or a shard without the expected tensors.
    """

    seeded_keys = True

    def __init__(self, shards: Sequence[str | os.PathLike[str]]) -> None:
        from safetensors.torch import load_file

        if not shards:
            raise ConfigError("give at least one teacher-pairs shard")
        loaded = [load_file(str(s)) for s in shards]
        for path, part in zip(shards, loaded, strict=True):
            if set(part) != set(_KEYS):
                raise ConfigError(f"{path}: not a teacher-pairs shard (tensors {sorted(part)}, want {list(_KEYS)})")
        self.tensors = {k: torch.cat([part[k] for part in loaded]) for k in _KEYS}

    def __len__(self) -> int:
        return len(self.tensors["low_res"])

    def __getitem__(self, key: SeededIndex | int) -> dict[str, torch.Tensor]:
        index, rng = sample_rng(key)
        flip, turns = rng.random() < 0.5, int(rng.integers(0, 4))
        item = {}
        for name, tensor in self.tensors.items():
            crop = tensor[index]
            if flip:
                crop = crop.flip(1)
            item[name] = torch.rot90(crop, turns, dims=(0, 1)).contiguous()
        return item


@dataclass(frozen=True)
class DistillHead:
    """Batches of `TeacherPairs` as (LR input, target = w·teacher + (1 − w)·HR).

    Attributes:
        teacher_weight: w in [0, 1]; 1 learns the teacher alone.
    """

    teacher_weight: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.teacher_weight <= 1.0:
            raise ConfigError(f"teacher_weight must be in [0, 1], got {self.teacher_weight}")

    def prepare(self, batch: dict[str, torch.Tensor]) -> Sample:
        """batch: the collated dict → LR (N, 3, h, w) and target (N, 3, h·s, w·s) float32 in [0, 1]."""
        def planar(x: torch.Tensor) -> torch.Tensor:
            return x.permute(0, 3, 1, 2).float().div(255.0)

        w = self.teacher_weight
        target = w * planar(batch["teacher"]) + (1.0 - w) * planar(batch["high_res"])
        return Sample(inputs=planar(batch["low_res"]), target=target)

    def generate(self, generator: nn.Module, sample: Sample) -> torch.Tensor:
        return generator(sample.inputs)
