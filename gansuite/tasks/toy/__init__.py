"""The 2-D toy problem that shows what an adversarial loss buys over MSE."""

from gansuite.tasks.toy.demo import ToyHead, ToyResult, check_plot_path, plot_toy_result, run_toy_demo
from gansuite.tasks.toy.models import ToyDiscriminator, ToyGenerator

__all__ = [
    "ToyDiscriminator", "ToyGenerator", "ToyHead", "ToyResult", "check_plot_path", "plot_toy_result", "run_toy_demo",
]
