"""gansuite: GAN applications on a shared adversarial core.

Importing the package registers every task head's networks, so a weights file or checkpoint
can be rebuilt by name from any entry point (`gansuite.core.load_weights` included).
"""

from gansuite import tasks as _tasks  # noqa: F401  (registers the task heads' networks)

__all__: list[str] = []
