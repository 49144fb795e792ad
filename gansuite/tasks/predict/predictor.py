"""Inference: `FramePredictor` predicts the next frame(s) of a sequence of frames.

The model sees the last k frames (k = its `context_frames`) at its working resolution — the
exact frame size it was trained at (Ped2: 256x256, as Liu et al. 2018), or frames downscaled to
a maximum short side (natural clips) — and predicts frames one at a time, each fed back as the
newest context frame (Mathieu et al. 2016). Predictions are resized back to the input's size
and converted to its channels: a gray model on colour frames sees their BT.601 luma, a colour
model on gray frames sees them replicated.
"""

from __future__ import annotations

import copy
import os
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gansuite.core.arguments import check_setting_names
from gansuite.core.pixel_range import check_unit_range
from gansuite.errors import ConfigError, InputImageError, InputVideoError, count_of
from gansuite.io.image import decode_array, encode_array, rgb_to_gray
from gansuite.tasks.predict._predictor_checks import check_device, check_float_frames, check_future, check_settings
from gansuite.tasks.predict.data import target_shape
from gansuite.tasks.predict.models import rollout
from gansuite.tasks.predict.pretrained import load_model

__all__ = ["FramePredictor", "PredictionResult"]

_LUMA = (0.299, 0.587, 0.114)  # BT.601, as gansuite.io converts RGB to gray
# mean |channel - mean of the channels| above which frames count as colour: gray footage through a
# lossy codec keeps a little chroma noise (~1/255), ordinary colour footage has several times this
_COLOUR_DEVIATION = 2 / 255


@dataclass(frozen=True)
class PredictionResult:
    """The predicted frames of one call.

    Attributes:
        frames: the predictions as OpenCV arrays of the input's kind: same dtype (uint8 or
            uint16), (H, W) gray or (H, W, 3) BGR, step 1 first.
        float_frames: (future, H, W, C) float32 in [0, 1], RGB (C = 3) or gray (C = 1) as the input.
        context_frames: how many of the given frames the model used (the last k).
        seconds: wall time in seconds.
    """

    frames: list[np.ndarray]
    float_frames: np.ndarray
    context_frames: int
    seconds: float


_SETTINGS = ("device", "working_size", "max_short_side", "batch_size", "trained_frame_size")
"""The keyword settings `FramePredictor.from_pretrained` passes on to the constructor."""


def _to_channels(frames: torch.Tensor, channels: int) -> torch.Tensor:
    """(..., C, H, W) with C in {1, 3} → `channels` channels (luma or replication)."""
    if frames.shape[-3] == channels:
        return frames
    if channels == 1:
        weights = frames.new_tensor(_LUMA).view(3, 1, 1)
        return (frames * weights).sum(dim=-3, keepdim=True)
    return frames.expand(*frames.shape[:-3], 3, *frames.shape[-2:])


def _resize(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(N, C, H, W) → (N, C, *size), bilinear with antialiasing when shrinking."""
    if tuple(frames.shape[-2:]) == tuple(size):
        return frames
    shrink = size[0] <= frames.shape[-2] and size[1] <= frames.shape[-1]
    return F.interpolate(frames, size=size, mode="bilinear", align_corners=False, antialias=shrink)


class FramePredictor:
    """Predicts future frames with a next-frame generator; reentrant (holds model and settings only).

    Frames are predicted one at a time, each fed back as context (Mathieu et al. 2016; Liu et
    al. 2018), at the model's working resolution and resized back (bilinear).

    Args:
        model: a generator with `context_frames` and `channels` attributes (``unet-predictor``).
        device: "auto", "cpu", "cuda", "cuda:N" or a `torch.device`.
        working_size: run the model at this exact (height, width), e.g. (256, 256) for Ped2.
        max_short_side: run the model on frames downscaled to this short side at most.
        batch_size: windows per forward pass in `predict_batch`, >= 1.
        copy_model: work on a copy of `model` (the default), so the caller's module is never
            changed (no eval(), requires_grad or device change); False hands it over.
        trained_frame_size: the (height, width) of every frame the model was trained on, when
            that was fixed (from the model card; see `input_mismatch`), or None.

    Raises:
        ConfigError: a model without those attributes; a setting of the wrong type or value, named
            with the value seen: `device` not a str or `torch.device`, an unknown device or CUDA
            asked for but absent, `working_size` or `trained_frame_size` not None or a (height,
            width) pair of positive integers, `max_short_side` not None or a positive integer,
            `batch_size` not a positive integer, `copy_model` not a bool; or both `working_size`
            and `max_short_side`.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        device: str | torch.device = "auto",
        working_size: tuple[int, int] | None = None,
        max_short_side: int | None = None,
        batch_size: int = 8,
        copy_model: bool = True,
        trained_frame_size: tuple[int, int] | None = None,
    ) -> None:
        if not (hasattr(model, "context_frames") and hasattr(model, "channels")):
            raise ConfigError(f"{type(model).__name__} is not a next-frame predictor (no context_frames/channels)")
        size, trained, max_short_side = check_settings(
            working_size=working_size, max_short_side=max_short_side, batch_size=batch_size, copy_model=copy_model,
            trained_frame_size=trained_frame_size,
        )
        self.device = check_device(device, "FramePredictor")
        self.model = self._place(copy.deepcopy(model) if copy_model else model)
        self.working_size = size
        self.max_short_side = None if max_short_side is None else int(max_short_side)
        self.batch_size = int(batch_size)
        self.trained_frame_size = trained
        self.name = ""
        self.source: Path | None = None

    @classmethod
    def from_pretrained(cls, name: str | os.PathLike[str] = "natural", **settings: object) -> FramePredictor:
        """Load a shipped model by name, or a gansuite weights (.safetensors) or checkpoint (.pt) file.

        The working resolution comes from the model card (the recipe's frame size) unless
        `working_size` or `max_short_side` is given, and so does `trained_frame_size`.

        Args:
            name: a shipped name (`SHIPPED_MODELS`) or the path of a file (str or `os.PathLike`).
            **settings: `FramePredictor` keyword arguments: device, working_size, max_short_side,
                batch_size, trained_frame_size.

        Raises:
            CheckpointError: `name` is not a str or path, neither a shipped name nor an existing
                file (the message lists the shipped names), a shipped model missing from this
                build, or a file that is unreadable or not a next-frame predictor.
            ConfigError: an unknown setting name, or a bad setting value (see `FramePredictor`).
        """
        check_setting_names(
            settings, _SETTINGS, "FramePredictor.from_pretrained",
            note=" (the loaded model is the predictor's own, so copy_model does not apply)",
        )
        loaded = load_model(name)
        if "working_size" not in settings and "max_short_side" not in settings:
            frame_size = loaded.card.get("frame_size")
            settings["working_size"] = tuple(frame_size) if frame_size else None
            settings["max_short_side"] = loaded.card.get("max_short_side")
        settings.setdefault("trained_frame_size", loaded.trained_frame_size)
        predictor = cls(loaded.module, copy_model=False, **settings)  # type: ignore[arg-type]
        predictor.name, predictor.source = loaded.name, loaded.path
        return predictor

    def _place(self, model: nn.Module) -> nn.Module:
        """Eval mode, frozen, on `self.device`."""
        model = model.eval().to(self.device)
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        return model

    def to(self, device: str | torch.device) -> FramePredictor:
        """Move the model to `device` in place and return self.

        Raises:
            ConfigError: `device` not a str or `torch.device`, an unknown device, or CUDA asked for
                but absent.
        """
        self.device = check_device(device, "FramePredictor.to")
        self.model = self._place(self.model)
        return self

    @property
    def context_frames(self) -> int:
        """k: how many of the latest frames the model sees."""
        return int(self.model.context_frames)

    @property
    def channels(self) -> int:
        """The model's channels: 1 (gray) or 3 (RGB)."""
        return int(self.model.channels)

    def working_shape(self, height: int, width: int) -> tuple[int, int]:
        """The (height, width) the model runs at for frames of this size."""
        return target_shape(height, width, frame_size=self.working_size, max_short_side=self.max_short_side)

    def input_mismatch(self, frames: np.ndarray) -> str | None:
        """One line saying how `frames` differ from what the model was trained on, or None.

        Two differences make a prediction poor without failing it: a gray model (C = 1) given
        colour frames sees only their luma and predicts gray frames; a model trained on frames of
        one fixed size (`trained_frame_size`, e.g. Moving MNIST's 64x64) run at another working
        size sees objects at scales and motions it never learned. A model that resizes every
        input to its training size (Ped2's 256x256) is not flagged for the size.

        Args:
            frames: (..., H, W, C) float in [0, 1], RGB (C = 3) or gray (C = 1), e.g. the context.

        Returns:
            The line, naming the model, what it was trained on and what it is given; None when
            nothing differs.
        """
        height, width, channels = frames.shape[-3:]
        working, size = self.working_shape(height, width), self.trained_frame_size
        trained: list[str] = []
        given: list[str] = []
        effects: list[str] = []
        if size is not None and working != tuple(size):
            trained.append(f"{size[1]}x{size[0]}")
            given.append(f"{width}x{height}")
            effects.append(f"it runs at {working[1]}x{working[0]}")
        gray_model_on_colour = self.channels == 1 and channels == 3 and (
            float(np.abs(frames - frames.mean(axis=-1, keepdims=True)).mean()) > _COLOUR_DEVIATION
        )
        if gray_model_on_colour:
            trained.append("gray")
            given.append("colour")
            effects.append("it sees only their luma and predicts gray frames")
        if not effects:
            return None
        model = f"model {self.name}" if self.name else "the model"
        return (
            f"{model} was trained on {' '.join(trained)} frames, these are {' '.join(given)}: {' and '.join(effects)}; "
            "expect a poor prediction (the shipped natural model is trained on ordinary colour footage)"
        )

    @torch.no_grad()
    def predict_batch(self, context: torch.Tensor, future: int = 1) -> torch.Tensor:
        """Predict `future` frames after each clip of a batch.

        Args:
            context: (N, T, C, H, W) float tensor in [0, 1] (within 0.5/255), C = 1 or 3, T >= k;
                the last k frames are used.
            future: frames to predict, a positive int.

        Returns:
            (N, future, C, H, W) float32 in [0, 1] on the CPU, same C, H, W as the input; empty
            for N = 0.

        Raises:
            ConfigError: `context` not a torch tensor, of an integer or bool dtype (uint8 frames
                must be converted, x.float() / 255), of the wrong layout (H or W of 0 included) or
                with too few frames, or with values outside [0, 1] by more than 0.5/255 (0..255
                frames must be divided by 255); `future` not a positive int.
        """
        future = check_future(future, "predict_batch")
        k = self.context_frames
        if not isinstance(context, torch.Tensor):
            raise ConfigError(
                f"predict_batch: context must be a torch tensor (N, T, C, H, W), got {type(context).__name__}; "
                "for a (T, H, W, C) numpy clip use predict_frames"
            )
        check_float_frames(context, "predict_batch: context")
        if context.dim() != 5 or context.shape[2] not in (1, 3) or context.shape[1] < k or min(context.shape[-2:]) < 1:
            raise ConfigError(
                f"predict_batch expects (N, >= {k}, 1 or 3, H >= 1, W >= 1) frames, got {tuple(context.shape)}"
            )
        check_unit_range(context[:, -k:], "predict_batch: context")
        if context.shape[0] == 0:  # an empty batch (a filtered one, say) predicts nothing
            return torch.zeros(0, future, *context.shape[2:], dtype=torch.float32)
        return self._predict_batch(context, future)

    def _predict_batch(self, context: torch.Tensor, future: int) -> torch.Tensor:
        """`predict_batch` on frames already checked (layout, length and [0, 1] range)."""
        k = self.context_frames
        n, _, c, height, width = context.shape
        size = self.working_shape(height, width)
        outputs = []
        for start in range(0, n, self.batch_size):
            x = context[start : start + self.batch_size, -k:].to(self.device, torch.float32)
            b = x.shape[0]
            x = _to_channels(x, self.channels).flatten(0, 1)  # (b·k, Cm, H, W)
            x = _resize(x, size).reshape(b, k * self.channels, *size)
            y = rollout(self.model, x, future, self.channels, clamp=True)  # (b, future·Cm, h, w)
            y = _resize(y.reshape(b * future, self.channels, *size), (height, width))
            y = _to_channels(y.reshape(b, future, self.channels, height, width), c)
            outputs.append(y.clamp(0.0, 1.0).float().cpu())
        return torch.cat(outputs)

    def predict_frames(self, context: np.ndarray, future: int = 1) -> np.ndarray:
        """Predict `future` frames after a clip.

        Args:
            context: (T, H, W, C) float numpy array in [0, 1] (within 0.5/255), RGB (C = 3) or
                gray (C = 1), T >= k, e.g. `gansuite.io.read_video(path).frames`.
            future: frames to predict, a positive int.

        Returns:
            (future, H, W, C) float32 in [0, 1], same channels as `context`.

        Raises:
            InputVideoError: fewer than k frames.
            ConfigError: `context` not a numpy array, of an integer or bool dtype (uint8 frames must
                be converted, x.astype(np.float32) / 255), of the wrong layout (H or W of 0
                included), or with values outside [0, 1] by more than 0.5/255 (0..255 frames must
                be divided by 255); `future` not a positive int.
        """
        future = check_future(future, "predict_frames")
        if not isinstance(context, np.ndarray):
            hint = "for an (N, T, C, H, W) tensor use predict_batch" if isinstance(context, torch.Tensor) else (
                "stack a list of (H, W, C) frames with np.stack(frames)"
            )
            raise ConfigError(
                f"predict_frames: context must be a (T, H, W, C) numpy array, got {type(context).__name__}: {hint}"
            )
        check_float_frames(context, "predict_frames: context")
        if context.ndim != 4 or context.shape[3] not in (1, 3) or min(context.shape[1:3], default=0) < 1:
            raise ConfigError(
                f"predict_frames expects (T, H >= 1, W >= 1, 1 or 3) frames, got shape {context.shape}"
            )
        if context.shape[0] < self.context_frames:
            raise InputVideoError(
                f"got {count_of(context.shape[0], 'frame')}; this model needs at least "
                f"{self.context_frames} context frames"
            )
        check_unit_range(context[-self.context_frames :], "predict_frames: context")
        clip = torch.from_numpy(np.ascontiguousarray(context.transpose(0, 3, 1, 2), dtype=np.float32))
        predicted = self._predict_batch(clip[None], future)[0]  # (future, C, H, W)
        return predicted.permute(0, 2, 3, 1).contiguous().numpy()

    def __call__(self, frames: Iterable[np.ndarray], *, future: int = 1) -> PredictionResult:
        """Predict the frames that follow `frames`.

        Args:
            frames: a sequence of frames as OpenCV reads them, oldest first (a list, tuple,
                generator or other iterable, or a (T, H, W, C) array): uint8 or uint16, (H, W) or
                (H, W, 1) gray, or (H, W, 3) BGR (an alpha channel is ignored); at least k of them,
                of which the last k are used and must have one size. Only the last k are kept while
                iterating.
            future: frames to predict, a positive int.

        Returns:
            A `PredictionResult` whose `frames` have the dtype (bit depth) and gray/colour layout
            of the first of the k frames used.

        Raises:
            InputVideoError: a single image or path instead of a sequence of frames, something
                that is not iterable, fewer than k frames, or frames of different sizes.
            InputImageError: a frame of an unsupported dtype or shape, or of too many pixels.
            ConfigError: `future` not a positive int.
        """
        started = time.perf_counter()
        future = check_future(future, "FramePredictor")
        k = self.context_frames
        need = f"give a sequence (list, tuple or iterable) of at least {k} frames, oldest first"
        if isinstance(frames, str | bytes | os.PathLike):
            raise InputVideoError(
                f"FramePredictor got a single path {frames!r}, not frames: {need}, e.g. "
                "[cv2.imread(p, cv2.IMREAD_UNCHANGED) for p in paths]; for a video file use "
                "predict_frames(gansuite.io.read_video(path).frames)"
            )
        if isinstance(frames, torch.Tensor):
            raise InputVideoError(
                f"FramePredictor takes OpenCV frames (numpy arrays), got a tensor of shape {tuple(frames.shape)}: "
                "for (N, T, C, H, W) float tensors in [0, 1] use predict_batch"
            )
        if isinstance(frames, np.ndarray) and frames.ndim < 4:
            raise InputVideoError(
                f"FramePredictor got one array of shape {frames.shape}, which is a single image, not frames: {need} "
                "(a (T, H, W) stack of gray frames: pass list(array))"
            )
        if not isinstance(frames, Iterable):
            raise InputVideoError(f"FramePredictor got {type(frames).__name__}, not frames: {need}")
        last: deque[np.ndarray] = deque(maxlen=k)
        count = 0
        for frame in frames:
            last.append(frame)
            count += 1
        if count < k:
            raise InputVideoError(f"got {count_of(count, 'frame')}; this model needs at least {k} context frames")
        floating = next((f for f in last if isinstance(f, np.ndarray) and np.issubdtype(f.dtype, np.floating)), None)
        if floating is not None:
            raise InputImageError(
                f"FramePredictor takes uint8 or uint16 OpenCV frames, got {floating.dtype} frames: for float RGB "
                "frames in [0, 1] use predict_frames(np.stack(frames))"
            )
        loaded = [decode_array(frame) for frame in last]
        first = loaded[0]
        if any(image.color.shape != first.color.shape for image in loaded):
            sizes = sorted({f"{image.width}x{image.height}" for image in loaded})
            raise InputVideoError(f"the frames differ in size ({', '.join(sizes)}); give frames of one size")
        colour = np.stack([image.color for image in loaded])  # (k, H, W, 3) RGB
        context = rgb_to_gray(colour)[..., None] if first.grayscale else colour
        predicted = self.predict_frames(context, future)
        arrays = [
            encode_array(frame[..., 0] if first.grayscale else frame, bit_depth=first.bit_depth,
                         grayscale=first.grayscale)
            for frame in predicted
        ]
        return PredictionResult(
            frames=arrays, float_frames=predicted, context_frames=k, seconds=time.perf_counter() - started,
        )
