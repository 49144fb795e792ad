"""The `gansuite` command line: thin click commands that parse options and call the library.

One module per command group; each registers its commands on `main` when imported.
"""

from gansuite.cli import benchmark, demo, export, monitor, predict, serve, train, upscale  # noqa: F401  (register the commands)
from gansuite.cli._base import main

__all__ = ["main"]

# gansuite demo crypto / generate / sketch: the applications in gansuite/apps/, on the same `demo` group
from gansuite.cli import demo_apps  # noqa: F401
