"""Why GANs exist: an MSE regressor collapses onto the mean, a conditional GAN keeps the spread.

Points lie around a line, y = a·x + b + noise. A network trained with MSE to map x → y learns
E[y | x], the line itself: its outputs have no spread around the line, which a discriminator
would call fake at once. A conditional GAN G(x, z) trained with the same core reproduces the
conditional distribution, spread included (Goodfellow et al. 2014; Mirza & Osindero 2014).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gansuite.core.config import ContentLossConfig, TrainerConfig
from gansuite.core.networks import NetworkSpec, build_network
from gansuite.core.rng import seed_everything
from gansuite.core.trainer import Sample, Trainer
from gansuite.errors import ConfigError
from gansuite.tasks.toy.data import LineData, LinePointsDataset

__all__ = ["ToyHead", "ToyResult", "check_plot_path", "plot_toy_result", "run_toy_demo"]


class ToyHead:
    """Batches of (x, y): the generator sees x (and draws its own noise), D sees y given x."""

    def prepare(self, batch: tuple[torch.Tensor, torch.Tensor]) -> Sample:
        x, y = batch
        return Sample(inputs=x, target=y, condition=x)

    def generate(self, generator: nn.Module, sample: Sample) -> torch.Tensor:
        return generator(sample.inputs)


@dataclass(frozen=True)
class ToyResult:
    """Spreads (standard deviations around the true line) of the data, the MSE model and the GAN."""

    data_spread: float
    mse_spread: float
    gan_spread: float
    x: np.ndarray
    y: np.ndarray
    mse_y: np.ndarray
    gan_y: np.ndarray

    def as_dict(self) -> dict[str, float]:
        return {"data_spread": self.data_spread, "mse_spread": self.mse_spread, "gan_spread": self.gan_spread}


def _already_batched(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return batch  # LinePointsDataset.__getitems__ returns whole batches


def _train(
    generator_spec: NetworkSpec, config: TrainerConfig, dataset: LinePointsDataset, run_dir: Path
) -> nn.Module:
    seed_everything(config.seed)  # before the networks are built: the same --seed gives the same spreads
    discriminator = build_network(NetworkSpec("discriminator", "toy-mlp")) if config.uses_discriminator else None
    trainer = Trainer(
        generator=build_network(generator_spec),
        discriminator=discriminator,
        head=ToyHead(),
        config=config,
        run_dir=run_dir,
    )
    trainer.fit(dataset, collate_fn=_already_batched)
    return trainer.eval_generator()


def run_toy_demo(
    *, steps: int = 2000, points: int = 4096, seed: int = 0, run_dir: str | Path | None = None, progress: bool = False
) -> ToyResult:
    """Train an MSE regressor and a conditional GAN on the same points and measure their spreads.

    Args:
        steps: training steps of each model (batch 256).
        points: number of data points.
        seed: seed of data and training.
        run_dir: where the two runs' logs and checkpoints go (a temporary folder by default).
        progress: show progress bars.
    """
    data = LineData(size=points, seed=seed)
    dataset = LinePointsDataset(data)
    common = {
        "steps": steps,
        "batch_size": 256,
        "device": "cpu",
        "seed": seed,
        "progress": progress,
        "tensorboard": False,
        "checkpoint_every": steps,
        "keep_checkpoints": 1,
        "log_every": 100,
        "channels_last": False,
        "betas": (0.5, 0.999),
        "schedule": "cosine",
        "ema_decay": 0.99,
    }
    mse_config = TrainerConfig(
        **common,
        generator_lr=2e-3,
        adversarial_loss="none",
        content_losses=(ContentLossConfig("mse"),),
    )
    gan_config = TrainerConfig(
        **common, generator_lr=1e-3, discriminator_lr=1e-3, adversarial_loss="bce", r1_gamma=0.1
    )
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(run_dir) if run_dir is not None else Path(scratch)
        regressor = _train(NetworkSpec("generator", "toy-mlp", {"noise_dim": 0}), mse_config, dataset, root / "mse")
        gan = _train(NetworkSpec("generator", "toy-mlp", {"noise_dim": 4}), gan_config, dataset, root / "gan")

    generator = torch.Generator().manual_seed(seed + 1)
    x = torch.rand(points, 1, generator=generator) * 2 - 1
    with torch.no_grad():
        mse_y = regressor(x).numpy()
        gan_y = gan(x, torch.randn(points, 4, generator=generator)).numpy()
    line = data.line(x.numpy())
    return ToyResult(
        data_spread=dataset.residual_spread(),
        mse_spread=float(np.std(mse_y - line)),
        gan_spread=float(np.std(gan_y - line)),
        x=x.numpy()[:, 0],
        y=dataset.y[:, 0],
        mse_y=mse_y[:, 0],
        gan_y=gan_y[:, 0],
    )


def check_plot_path(path: str | Path, *, overwrite: bool = True, option: str | None = "--plot") -> Path:
    """Check, before any training, that the scatter plot can be written to `path`.

    Args:
        path: the plot file; its extension picks the format (none: PNG).
        overwrite: whether an existing file at `path` may be replaced.
        option: the command-line flag that named `path`, for the messages (None: a library call).

    Raises:
        MissingExtraError: matplotlib (extra ``[bench]``) is not installed.
        ConfigError: matplotlib cannot write the format the extension names.
        OutputError: the folder is missing or not writable, or `path` is a folder.
        OutputExistsError: `path` exists and `overwrite` is False.
    """
    from gansuite._extras import require_extra
    from gansuite.core.atomic import check_output_path

    require_extra("bench", "matplotlib", feature=option or "plot_toy_result")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    target = Path(path)
    extension = target.suffix.lower().lstrip(".")
    formats = FigureCanvasAgg.get_supported_filetypes()
    if extension and extension not in formats:
        raise ConfigError(
            f"{option or 'plot'} {target}: matplotlib cannot write .{extension} plots; use one of "
            f"{', '.join('.' + name for name in sorted(formats))}"
        )
    return check_output_path(target, overwrite=overwrite, option=option, writable=True)


def plot_toy_result(
    result: ToyResult, path: str | Path, *, data_x: np.ndarray | None = None, overwrite: bool = True
) -> Path:
    """Scatter plot of the data, the MSE model's outputs and the GAN's samples, written to `path`.

    Raises:
        ConfigError, OutputError, OutputExistsError: as `check_plot_path`.
    """
    from gansuite._extras import require_extra

    check_plot_path(path, overwrite=overwrite, option=None)
    matplotlib = require_extra("bench", "matplotlib", feature="--plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gansuite.core.atomic import atomic_path

    figure, axis = plt.subplots(figsize=(7, 5), dpi=110)
    xs = data_x if data_x is not None else result.x
    axis.scatter(xs[: len(result.y)], result.y, s=4, alpha=0.35, label=f"data (spread {result.data_spread:.3f})")
    axis.scatter(result.x, result.mse_y, s=4, alpha=0.6, label=f"MSE model (spread {result.mse_spread:.3f})")
    axis.scatter(result.x, result.gan_y, s=4, alpha=0.35, label=f"conditional GAN (spread {result.gan_spread:.3f})")
    axis.set_xlabel("x")
    axis.set_ylabel("y")
    axis.set_title("MSE collapses onto the mean; the GAN keeps the spread")
    axis.legend(markerscale=3)
    target = Path(path)
    with atomic_path(target, overwrite=overwrite) as tmp:
        figure.savefig(tmp, format=target.suffix.lower().lstrip(".") or "png")
    plt.close(figure)
    return target
