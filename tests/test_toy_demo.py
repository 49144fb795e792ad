"""The toy demonstration: MSE collapses onto the line, the conditional GAN keeps the spread."""

from __future__ import annotations

from gansuite.tasks.toy import plot_toy_result, run_toy_demo


def test_mse_collapses_and_gan_reproduces_the_spread(tmp_path) -> None:
    result = run_toy_demo(steps=600, points=2048, seed=0)
    assert result.mse_spread < 0.1 * result.data_spread
    assert abs(result.gan_spread - result.data_spread) <= 0.2 * result.data_spread
    plot = plot_toy_result(result, tmp_path / "toy.png")
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_same_seed_gives_the_same_spreads() -> None:
    import torch

    first = run_toy_demo(steps=50, points=256, seed=3)
    torch.rand(100)  # whatever ran before (another demo, a test) must not change the result
    second = run_toy_demo(steps=50, points=256, seed=3)
    assert first.as_dict() == second.as_dict()


def test_demo_toy_refuses_a_plot_path_before_training(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    import gansuite.tasks.toy as toy
    from gansuite.cli import main

    def no_training(**_: object) -> None:
        raise AssertionError("trained before the --plot path was checked")

    monkeypatch.setattr(toy, "run_toy_demo", no_training)
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"a user's picture")
    for plot, message in (
        (photo, f"--plot {photo} already exists: pass --overwrite"),
        (tmp_path / "toy.txt", "matplotlib cannot write .txt plots; use one of"),
        (tmp_path / "missing" / "toy.png", "output folder"),
    ):
        result = CliRunner().invoke(main, ["demo", "toy", "--steps", "50", "--plot", str(plot)])
        assert result.exit_code == 1, result.output
        (line,) = result.output.strip().splitlines()
        assert message in line
    assert photo.read_bytes() == b"a user's picture"
