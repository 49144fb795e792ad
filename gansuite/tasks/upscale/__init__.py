"""The super-resolution head: generators, degradations, data, recipes, training and inference."""

from gansuite.tasks.upscale import models as _models  # noqa: F401  (registers the generators)
from gansuite.tasks.upscale.recipes import RECIPES, UpscaleRecipe, get_recipe
from gansuite.tasks.upscale.training import train_upscale

__all__ = ["RECIPES", "UpscaleRecipe", "get_recipe", "train_upscale"]
