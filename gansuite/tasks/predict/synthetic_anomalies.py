"""Synthetic anomalies pasted into normal footage, to choose anomaly-scoring settings without test labels.

Test labels may not be used to choose how anomalies are scored (patch size, top-k, smoothing,
features). The anomalies of a surveillance set are defined before any test clip is seen; UCSD
Ped2's definition (Mahadevan et al., CVPR 2010) is "non-pedestrian entities or anomalous
pedestrian motion in the walkways": bicycles, skateboards, carts, moving faster than walking.
This module turns that definition into labelled validation footage made from *normal* clips
(patch pseudo-anomalies like those Astrid et al., BMVC 2021, train with; here they only validate):

- **the object**: a rectangle (`size` pixels a side, height and width drawn separately) cut
  from the clip itself at the start of the event, the most textured (largest standard
  deviation) of `candidates` random windows, pasted with a linear soft edge of `feather`
  pixels. It is rigid: the same pixels in every frame of the event.
- **the motion**: it appears suddenly, moves in a straight line at `speed` pixels per frame
  (the clip's own resolution; Ped2's pedestrians move about 1-2 px/frame at 360x240, so the
  default 2.5-6 px/frame is 1.5-4x walking speed, the range of bicycles and skateboards), in a
  direction within `max_angle_degrees` of horizontal (either way; Ped2's walkway runs across
  the frame), for `duration` frames, then vanishes. The path stays inside the frame.
- **the labels**: 1 on the frames that show the object, 0 elsewhere. Events of one clip do not
  overlap and are at least `gap` frames apart.

Everything is drawn from a seeded `numpy.random.Generator`, so a clip, a config and a seed give
the same events every time.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from gansuite.errors import ConfigError

__all__ = [
    "SyntheticAnomalyConfig",
    "SyntheticClip",
    "SyntheticEvent",
    "event_labels",
    "inject_events",
    "plan_events",
    "synthesize",
]


def _range(name: str, value: tuple[float, float], low: float) -> None:
    if len(value) != 2 or not low <= value[0] <= value[1]:
        raise ConfigError(f"{name} must be a (min, max) pair with {low} <= min <= max, got {value}")


@dataclass(frozen=True)
class SyntheticAnomalyConfig:
    """What synthetic anomalies look like.

    Attributes:
        events_per_clip: events planned in each clip (fewer when the clip has no room), >= 1.
        duration: (min, max) frames an event lasts, drawn uniformly (integers), min >= 1.
        speed: (min, max) pixels per frame at the clip's resolution, drawn uniformly, >= 0.
        size: (min, max) side of the object in pixels; height and width drawn separately, >= 2.
        max_angle_degrees: the direction is within this angle of horizontal, in [0, 90].
        candidates: random windows tried as the object's source; the most textured is kept, >= 1.
        feather: width of the soft edge in pixels (0 = hard edge), >= 0.
        gap: frames kept free between two events of a clip, >= 0.
    """

    events_per_clip: int = 2
    duration: tuple[int, int] = (15, 45)
    speed: tuple[float, float] = (2.5, 6.0)
    size: tuple[int, int] = (20, 48)
    max_angle_degrees: float = 30.0
    candidates: int = 8
    feather: int = 2
    gap: int = 10

    def __post_init__(self) -> None:
        for name in ("duration", "speed", "size"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        _range("duration", self.duration, 1)
        _range("speed", self.speed, 0.0)
        _range("size", self.size, 2)
        if self.events_per_clip < 1 or self.candidates < 1 or self.feather < 0 or self.gap < 0:
            raise ConfigError(f"events_per_clip and candidates must be >= 1, feather and gap >= 0; got {self}")
        if not 0.0 <= self.max_angle_degrees <= 90.0:
            raise ConfigError(f"max_angle_degrees must be in [0, 90], got {self.max_angle_degrees}")

    def to_dict(self) -> dict[str, object]:
        """The settings as a JSON-ready dict."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}


@dataclass(frozen=True)
class SyntheticEvent:
    """One pasted object.

    Attributes:
        start: first frame showing the object.
        stop: one past the last frame showing it.
        height: object height in pixels.
        width: object width in pixels.
        source: (row, col) of the object's top-left corner in frame `start`, where it is cut from.
        origin: (row, col) of its top-left corner in frame `start` when pasted (float, rounded on pasting).
        velocity: (rows, cols) it moves per frame.
    """

    start: int
    stop: int
    height: int
    width: int
    source: tuple[int, int]
    origin: tuple[float, float]
    velocity: tuple[float, float]

    def position(self, frame: int) -> tuple[int, int]:
        """Integer (row, col) of the object's top-left corner in `frame`."""
        steps = frame - self.start
        return (round(self.origin[0] + self.velocity[0] * steps), round(self.origin[1] + self.velocity[1] * steps))

    @property
    def speed(self) -> float:
        """Pixels per frame."""
        return math.hypot(*self.velocity)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}


def _free_start(
    rng: np.random.Generator, taken: list[tuple[int, int]], length: int, total: int, gap: int
) -> int | None:
    """A start for an event of `length` frames clear of `taken` intervals by `gap`, or None."""
    free = [
        start for start in range(0, total - length + 1)
        if all(start + length + gap <= a or b + gap <= start for a, b in taken)
    ]
    return int(rng.choice(free)) if free else None


def plan_events(frames: np.ndarray, config: SyntheticAnomalyConfig, rng: np.random.Generator) -> list[SyntheticEvent]:
    """Draw the events of one clip.

    Args:
        frames: (T, H, W, C) float in [0, 1], the normal clip (read for the object's texture).
        config: the `SyntheticAnomalyConfig`.
        rng: the random generator (seed it for reproducible events).

    Returns:
        The events in time order, at most `config.events_per_clip`; fewer when the clip has no room.

    Raises:
        ConfigError: a wrong layout, or frames smaller than the largest object.
    """
    if frames.ndim != 4 or frames.shape[3] not in (1, 3):
        raise ConfigError(f"plan_events needs (T, H, W, 1 or 3) frames, got shape {frames.shape}")
    total, height, width = frames.shape[:3]
    if min(height, width) <= config.size[1]:
        raise ConfigError(f"frames of {height}x{width} are too small for objects of up to {config.size[1]} px")
    events: list[SyntheticEvent] = []
    taken: list[tuple[int, int]] = []
    for _ in range(config.events_per_clip):
        h, w = (int(rng.integers(config.size[0], config.size[1] + 1)) for _ in range(2))
        speed = float(rng.uniform(*config.speed))
        angle = math.radians(float(rng.uniform(-config.max_angle_degrees, config.max_angle_degrees)))
        direction = 1.0 if rng.random() < 0.5 else -1.0
        velocity = (speed * math.sin(angle), direction * speed * math.cos(angle))
        length = int(rng.integers(config.duration[0], config.duration[1] + 1))
        # shorten an event whose path would leave the frame
        room = [(height - h) / abs(velocity[0]) if velocity[0] else math.inf,
                (width - w) / abs(velocity[1]) if velocity[1] else math.inf]
        fits = min(room)
        length = max(1, min(length, total, math.floor(fits) + 1 if math.isfinite(fits) else total))
        start = _free_start(rng, taken, length, total, config.gap)
        if start is None:
            continue
        travel = (velocity[0] * (length - 1), velocity[1] * (length - 1))
        origin = tuple(
            float(rng.uniform(max(0.0, -move), min(limit, limit - move)))
            for move, limit in zip(travel, (height - h, width - w), strict=True)
        )
        windows = [(int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)))
                   for _ in range(config.candidates)]
        source = max(windows, key=lambda rc: float(frames[start, rc[0] : rc[0] + h, rc[1] : rc[1] + w].std()))
        events.append(SyntheticEvent(start=start, stop=start + length, height=h, width=w, source=source,
                                     origin=(origin[0], origin[1]), velocity=velocity))
        taken.append((start, start + length))
    return sorted(events, key=lambda event: event.start)


def _alpha(height: int, width: int, feather: int) -> np.ndarray:
    """(h, w, 1) float32 mask: 1 inside, a linear ramp over the outer `feather` pixels, > 0 everywhere."""
    def ramp(n: int) -> np.ndarray:
        distance = np.minimum(np.arange(n), np.arange(n)[::-1]) + 1.0  # 1 at the border
        return np.minimum(1.0, distance / (feather + 1.0))

    return (ramp(height)[:, None] * ramp(width)[None, :]).astype(np.float32)[..., None]


def inject_events(frames: np.ndarray, events: list[SyntheticEvent], *, feather: int = 2) -> np.ndarray:
    """Paste each event's object into the frames it spans.

    Args:
        frames: (T, H, W, C) float in [0, 1], the normal clip; not modified.
        events: from `plan_events` on these frames.
        feather: soft-edge width in pixels (the config's).

    Returns:
        A new (T, H, W, C) float32 array; frames outside every event are bit-identical to the input.

    Raises:
        ConfigError: an event that does not fit the clip.
    """
    out = np.array(frames, dtype=np.float32, copy=True)
    total, height, width = out.shape[:3]
    for event in events:
        r0, c0 = event.source
        if not (0 <= event.start < event.stop <= total and 0 <= r0 <= height - event.height
                and 0 <= c0 <= width - event.width):
            raise ConfigError(f"synthetic event {event} does not fit a clip of {total} frames of {height}x{width}")
        patch = np.asarray(frames[event.start, r0 : r0 + event.height, c0 : c0 + event.width], dtype=np.float32)
        alpha = _alpha(event.height, event.width, feather)
        for t in range(event.start, event.stop):
            r, c = event.position(t)
            if not (0 <= r <= height - event.height and 0 <= c <= width - event.width):
                raise ConfigError(f"synthetic event {event} leaves the {height}x{width} frame at frame {t}")
            region = out[t, r : r + event.height, c : c + event.width]
            out[t, r : r + event.height, c : c + event.width] = alpha * patch + (1.0 - alpha) * region
    return out


def event_labels(total: int, events: list[SyntheticEvent]) -> np.ndarray:
    """(total,) int64 frame labels: 1 on frames showing an object, else 0."""
    labels = np.zeros(total, dtype=np.int64)
    for event in events:
        labels[event.start : event.stop] = 1
    return labels


@dataclass(frozen=True)
class SyntheticClip:
    """A normal clip with synthetic anomalies.

    Attributes:
        frames: (T, H, W, C) float32 in [0, 1].
        labels: (T,) int64, 1 = a synthetic object is visible.
        events: the `SyntheticEvent`s, in time order.
    """

    frames: np.ndarray
    labels: np.ndarray
    events: tuple[SyntheticEvent, ...]


def synthesize(frames: np.ndarray, config: SyntheticAnomalyConfig, seed: int | list[int]) -> SyntheticClip:
    """Plan and paste the synthetic anomalies of one normal clip.

    Args:
        frames: (T, H, W, C) float in [0, 1].
        config: the `SyntheticAnomalyConfig`.
        seed: seeds `numpy.random.default_rng` (an int or a list of ints, e.g. [seed, clip index]).

    Returns:
        The `SyntheticClip`.

    Raises:
        ConfigError: as `plan_events`.
    """
    events = plan_events(frames, config, np.random.default_rng(seed))
    return SyntheticClip(frames=inject_events(frames, events, feather=config.feather),
                         labels=event_labels(frames.shape[0], events), events=tuple(events))
