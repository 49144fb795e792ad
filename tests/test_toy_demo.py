"""The toy demonstration: MSE collapses onto the line, the conditional GAN keeps the spread."""

from __future__ import annotations

from gansuite.tasks.toy import plot_toy_result, run_toy_demo


def test_mse_collapses_and_gan_reproduces_the_spread(tmp_path) -> None:
    result = run_toy_demo(steps=600, points=2048, seed=0)
    assert result.mse_spread < 0.1 * result.data_spread
    assert abs(result.gan_spread - result.data_spread) <= 0.2 * result.data_spread
    plot = plot_toy_result(result, tmp_path / "toy.png")
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
