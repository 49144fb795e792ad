"""Normal clips with seeded synthetic anomalies pasted in, and their evidence: the validation data of
the label-free selections (`gansuite.bench.anomaly_selection` for the causal protocol,
`gansuite.bench.anomaly_offline` for the offline one).

Evidence is cached per clip and setting (`cache_dir`): clean clips under the same key as
`gansuite.bench.anomaly_causal.clips_evidence`, synthetic clips under a key that also holds the
synthetic-anomaly settings and seed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gansuite.bench.anomaly import _read_clip
from gansuite.bench.anomaly_causal import _cache_file, _read_cached_evidence, _write_cached_evidence
from gansuite.bench.manifest import file_sha256
from gansuite.errors import ConfigError
from gansuite.io.video import iter_video_frames
from gansuite.tasks.predict.data import find_clips
from gansuite.tasks.predict.evidence import EvidenceConfig, FrameEvidence, clip_evidence_many
from gansuite.tasks.predict.predictor import FramePredictor
from gansuite.tasks.predict.synthetic_anomalies import SyntheticAnomalyConfig, synthesize

__all__ = ["SyntheticValidationSet", "synthetic_validation_set"]


def _cached_evidence(
    predictor: FramePredictor,
    clip: Path,
    configs: Sequence[EvidenceConfig],
    read: Callable[[], np.ndarray],
    cache: Path | None,
    salt: str,
) -> list[FrameEvidence]:
    """Evidence of one clip for each config, from the cache when all are there, else one pass."""
    model_key = (file_sha256(predictor.source) if predictor.source is not None else "") + salt
    files = [_cache_file(cache, clip, model_key, c) if cache is not None else None for c in configs]
    if all(file is not None and file.is_file() for file in files):
        return [_read_cached_evidence(file)[0] for file in files]
    frames = read()
    results = clip_evidence_many(predictor, frames, configs)
    for file, evidence in zip(files, results, strict=True):
        if file is not None:
            _write_cached_evidence(file, evidence, frames.shape[0])
    return results


def _native_frames(clip: Path, predictor: FramePredictor) -> np.ndarray:
    return np.stack(list(iter_video_frames(clip, grayscale=predictor.channels == 1)))


@dataclass(frozen=True)
class SyntheticValidationSet:
    """Normal clips, each also with seeded synthetic anomalies pasted in, and their evidence.

    Attributes:
        clips: the normal clips (sorted paths).
        clean: per clip, {EvidenceConfig: FrameEvidence} of the clip as it is.
        dirty: per clip, the same for the clip with synthetic anomalies.
        labels: per clip, (T - k,) 0/1 labels of the scored frames of the dirty clip.
        events: per clip name, the synthetic events as dicts.
    """

    clips: list[Path]
    clean: list[dict[EvidenceConfig, FrameEvidence]]
    dirty: list[dict[EvidenceConfig, FrameEvidence]]
    labels: list[np.ndarray]
    events: dict[str, list[dict[str, Any]]]

    def folds(self) -> tuple[list[int], list[int]]:
        """Clip indices of fold A (1st, 3rd, ...) and fold B (2nd, 4th, ...)."""
        n = len(self.clips)
        return [i for i in range(n) if i % 2 == 0], [i for i in range(n) if i % 2 == 1]

    def summary(self) -> dict[str, Any]:
        """Events per clip, their count, and the share of anomalous scored frames."""
        every = np.concatenate(self.labels)
        return {"per_clip": self.events, "events": sum(len(v) for v in self.events.values()),
                "anomalous_share_of_scored_frames": float(every.mean()), "scored_frames": int(every.size)}


def synthetic_validation_set(
    predictor: FramePredictor,
    normal_dir: str | os.PathLike[str],
    evidence_configs: Sequence[EvidenceConfig],
    *,
    synthetic: SyntheticAnomalyConfig | None = None,
    seed: int = 0,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> SyntheticValidationSet:
    """Steps 1-2 of the protocol: the normal clips, clean and with synthetic anomalies, and their evidence.

    Raises:
        ConfigError: fewer than two clips, or a clip of k frames or fewer.
    """
    synthetic = synthetic or SyntheticAnomalyConfig()
    clips = find_clips([normal_dir])
    if len(clips) < 2:
        raise ConfigError(f"label-free selection needs >= 2 normal clips; got {len(clips)} under {normal_dir}")
    configs = list(dict.fromkeys(evidence_configs))
    cache = Path(cache_dir) if cache_dir is not None and predictor.source is not None else None
    salt = "|synthetic/1|" + json.dumps([synthetic.to_dict(), seed], sort_keys=True)
    k = predictor.context_frames
    clean, dirty, labels, events = [], [], [], {}
    for index, clip in enumerate(clips):
        clean.append(dict(zip(configs, _cached_evidence(
            predictor, clip, configs, lambda clip=clip: _read_clip(clip, predictor), cache, ""), strict=True)))
        made = synthesize(_native_frames(clip, predictor), synthetic, [seed, index])
        dirty.append(dict(zip(configs, _cached_evidence(
            predictor, clip, configs, lambda made=made: made.frames, cache, salt), strict=True)))
        labels.append(made.labels[k:])
        events[clip.name] = [event.to_dict() for event in made.events]
        if progress is not None:
            progress(f"{clip.name}: {len(made.frames)} frames, {len(made.events)} synthetic events, "
                     f"{made.labels.mean():.0%} of frames anomalous")
    return SyntheticValidationSet(clips, clean, dirty, labels, events)
