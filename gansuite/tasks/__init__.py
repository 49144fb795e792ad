"""Task heads built on the adversarial core; importing this registers their networks."""

from gansuite.tasks import predict, toy, upscale

__all__ = ["predict", "toy", "upscale"]
