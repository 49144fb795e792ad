"""Training recipes shipped with gansuite, selectable by name (`gansuite train upscale --recipe`).

Two stages, as SRGAN (Ledig et al. 2017) and ESRGAN (Wang et al. 2018) train:
1. PSNR-oriented: the generator alone, L1 loss — the faithful model.
2. GAN fine-tuning from stage 1: L1 + VGG perceptual + adversarial loss against a U-Net
   discriminator with spectral norm (Real-ESRGAN's, Wang et al. 2021), generator EMA.

``x2-psnr`` starts from the x4 model's body (only the upsampler is new), as EDSR (Lim et al. 2017)
starts one scale's model from another's, so it needs far fewer steps than training from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gansuite.core.config import ContentLossConfig, TrainerConfig
from gansuite.core.networks import NetworkSpec
from gansuite.core.registry import Registry
from gansuite.tasks.upscale.realistic import RealisticDegradationConfig

__all__ = ["RECIPES", "UpscaleRecipe", "get_recipe"]


@dataclass(frozen=True)
class UpscaleRecipe:
    """Everything a super-resolution training run needs besides the data.

    Attributes:
        name: registry name.
        scale: upscaling factor.
        generator: the generator's spec.
        discriminator: the discriminator's spec (None for PSNR-oriented training).
        trainer: the trainer settings.
        patch_size: side of the HR training crops.
        scale_augment: extra downscaled copies of each training image.
        degradation: "bicubic" or "realistic".
        realistic: parameters of the realistic degradation (None: Real-ESRGAN's defaults).
        init_from: shipped weights name to start from (stage 2), or None.
        init_transfer: load only the tensors of `init_from` that fit (the body of another
            scale's model; the upsampler starts fresh) instead of the whole network.
        teacher_weight: None to learn HR images from `--data` folders; w in [0, 1] to distil a
            teacher from teacher-pairs shards (`gansuite.tasks.upscale.distill`), with target
            w·teacher + (1 − w)·HR.
        description: one line for `--help`.
    """

    name: str
    scale: int
    generator: NetworkSpec
    discriminator: NetworkSpec | None
    trainer: TrainerConfig
    patch_size: int
    scale_augment: tuple[float, ...] = (0.7, 0.5)
    degradation: str = "bicubic"
    realistic: RealisticDegradationConfig | None = None
    init_from: str | None = None
    init_transfer: bool = False
    teacher_weight: float | None = None
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)


RECIPES: Registry[UpscaleRecipe] = Registry("upscale recipe")


def _register(recipe: UpscaleRecipe) -> None:
    RECIPES.register(recipe.name)(recipe)


def get_recipe(name: str) -> UpscaleRecipe:
    """The shipped recipe `name`."""
    return RECIPES.get(name)


def _compact(scale: int) -> NetworkSpec:
    return NetworkSpec("generator", "compact", {"scale": scale, "channels": 48, "num_convs": 16, "activation": "lrelu"})


_PSNR_TRAINER = TrainerConfig(
    steps=30_000,
    batch_size=16,
    generator_lr=5e-4,
    betas=(0.9, 0.99),
    adversarial_loss="none",
    content_losses=(ContentLossConfig("l1"),),
    ema_decay=0.999,
    schedule="cosine",
    warmup_steps=500,
    checkpoint_every=500,
    log_every=50,
    sample_every=2000,
    validate_every=2000,
    num_workers=0,
)

_GAN_TRAINER = TrainerConfig(
    steps=20_000,
    batch_size=8,
    generator_lr=1e-4,
    discriminator_lr=1e-4,
    betas=(0.9, 0.99),
    adversarial_loss="bce",
    adversarial_weight=0.1,
    content_losses=(
        ContentLossConfig("l1", 1.0),
        ContentLossConfig(
            "perceptual",
            1.0,
            {"layers": {"relu1_2": 0.1, "relu2_2": 0.1, "relu3_3": 1.0, "relu4_3": 1.0, "relu5_3": 1.0}},
        ),
    ),
    ema_decay=0.999,
    schedule="constant",
    checkpoint_every=500,
    log_every=50,
    sample_every=1000,
    validate_every=1000,
    num_workers=0,
)

_register(
    UpscaleRecipe(
        name="x4-psnr",
        scale=4,
        generator=_compact(4),
        discriminator=None,
        trainer=_PSNR_TRAINER,
        patch_size=96,
        description="x4, PSNR-oriented (L1), compact generator for CPU users",
    )
)
_register(
    UpscaleRecipe(
        name="x2-psnr",
        scale=2,
        generator=_compact(2),
        discriminator=None,
        trainer=_PSNR_TRAINER.replace(steps=6_000),
        patch_size=64,
        init_from="x4",
        init_transfer=True,
        description="x2, PSNR-oriented (L1), compact generator for CPU users, started from the x4 model's body",
    )
)
_register(
    UpscaleRecipe(
        name="x4-gan",
        scale=4,
        generator=_compact(4),
        discriminator=NetworkSpec("discriminator", "unet", {"base_channels": 32}),
        # sized for a CPU: at batch 4 and 96x96 crops a step (VGG16 perceptual loss, three U-Net
        # discriminator passes) took ~3.7 s on one thread beside another run, ~1.2 s on 2 idle cores
        trainer=_GAN_TRAINER.replace(steps=5_000, batch_size=4),
        patch_size=96,
        init_from="x4",
        description="x4, GAN fine-tuning of x4-psnr (L1 + VGG perceptual + adversarial, U-Net discriminator)",
    )
)
_register(
    UpscaleRecipe(
        name="x4-psnr-srresnet",
        scale=4,
        generator=NetworkSpec("generator", "srresnet", {"scale": 4}),
        discriminator=None,
        trainer=_PSNR_TRAINER.replace(steps=300_000, generator_lr=2e-4),
        patch_size=96,
        description="x4, PSNR-oriented SRResNet (Ledig et al.), for GPU training",
    )
)
_register(
    UpscaleRecipe(
        name="x4-gan-rrdb",
        scale=4,
        generator=NetworkSpec("generator", "rrdbnet", {"scale": 4}),
        discriminator=NetworkSpec("discriminator", "unet", {"base_channels": 64}),
        trainer=_GAN_TRAINER.replace(steps=200_000, batch_size=16),
        patch_size=256,
        degradation="realistic",
        description="x4, RRDBNet GAN with realistic degradations (Real-ESRGAN style), for GPU training",
    )
)
# Real-world photos (Real-ESRGAN's recipe, Wang et al. 2021, sized for a CPU): the compact x4
# generator is first fine-tuned from the clean-protocol `x4` with L1 on second-order realistic
# degradations (Real-ESRNet), then trained as a GAN from that. Unlike Real-ESRGAN the targets are
# the plain HR crops, not unsharp-masked ones (`gt_usm`): a model trained on sharpened targets
# learns to over-amplify detail, and the sharpening alone costs 22.7 dB PSNR-Y on Set5's butterfly
# (USM(HR) against HR), which put the first `x4-real` 1.5 dB below bicubic on real-looking inputs.
_PLAIN_TARGETS = RealisticDegradationConfig(sharpen_target=False)
_register(
    UpscaleRecipe(
        name="x4-real-psnr",
        scale=4,
        generator=_compact(4),
        discriminator=None,
        trainer=_PSNR_TRAINER.replace(steps=4_000, batch_size=12, generator_lr=2e-4, warmup_steps=100),
        patch_size=128,
        degradation="realistic",
        realistic=_PLAIN_TARGETS,
        init_from="x4",
        description="x4 for real photos, L1 stage (Real-ESRNet): realistic degradations, fine-tuned from x4",
    )
)
# The GAN stage weights the VGG perceptual loss 0.01, not the 1.0 of `x4-gan` and Real-ESRGAN. At 1.0 its
# gradient on the output was ~100x the L1 term's and ~8x the adversarial term's, and on these realistic
# inputs it painted a fine grain over skin and flat areas: 250-step diagnostics from x4-real (raw generator,
# real-looking x4 of 20 BSD200 training images, LPIPS; x4-real 0.540) gave 0.620 with L1 + VGG 1.0 +
# adversarial, 0.678 without the adversarial term, 0.672 with the deep VGG layers only, 0.500 without VGG,
# and 0.506 with VGG at 0.01, where its gradient is about the L1 term's. LDL's artifact loss (Liang et al.
# 2022, `gansuite.core.losses.artifact`) at its published weight 1 had ~1e-4 of the step's gradient here,
# too little to matter in a few thousand steps, so it is not used.
_REAL_GAN_LOSSES = (
    ContentLossConfig("l1", 1.0),
    ContentLossConfig("perceptual", 0.01, _GAN_TRAINER.content_losses[1].options),
)
_register(
    UpscaleRecipe(
        name="x4-real-gan",
        scale=4,
        generator=_compact(4),
        discriminator=NetworkSpec("discriminator", "unet", {"base_channels": 32}),
        trainer=_GAN_TRAINER.replace(steps=4_000, batch_size=4, content_losses=_REAL_GAN_LOSSES),
        patch_size=128,
        degradation="realistic",
        realistic=_PLAIN_TARGETS,
        init_from="x4-real",
        description="x4 for real photos, GAN stage (Real-ESRGAN): L1 + VGG perceptual (0.01) + adversarial, "
        "from x4-real-psnr",
    )
)
# Distillation (Hinton et al. 2015): the compact generator learns a large teacher's outputs on
# realistic-degraded crops computed once by `gansuite train teacher-pairs` (Real-ESRGAN x4plus, 16.7 M
# parameters, ~60x x4-real's CPU time). The teacher's output has one answer per input, so in principle an L1
# student is not pulled towards the blurred mean of the plausible HR images. Measured (README, issue-14
# tries): after 2,500 of the 6,000 steps, real-looking LPIPS 0.534 on 20 held-out BSD200 images against
# x4-real-gan's 0.450 and x4plus's 0.322. The compact student cannot reproduce the teacher's texture, so L1
# averages what it cannot model. Not shipped; the recipe is kept for larger students and longer runs.
_register(
    UpscaleRecipe(
        name="x4-real-distill",
        scale=4,
        generator=_compact(4),
        discriminator=None,
        trainer=_PSNR_TRAINER.replace(steps=6_000, batch_size=12, generator_lr=2e-4, warmup_steps=100),
        patch_size=128,
        degradation="realistic",
        init_from="x4-real-gan",
        teacher_weight=1.0,
        description="x4 for real photos, distilled: L1 to a teacher's outputs (teacher-pairs shards as --data), "
        "from x4-real-gan",
    )
)
