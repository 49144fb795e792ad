"""Task heads built on the adversarial core; importing this registers their networks."""

from gansuite.tasks import toy, upscale

__all__ = ["toy", "upscale"]
