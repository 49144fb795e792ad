"""Saying at once that an ImageNet backbone cannot be had, instead of waiting on a download that cannot work.

`gansuite.core.backbones` takes a backbone from a local file (`--backbones`, ``GANSUITE_BACKBONES``)
or else from torchvision, which downloads it on first use. On a machine without network access
and without a local file, that path first imports torchvision and lpips and tries the download;
`backbone_unreachable` answers before any of it, from the environment, torch's hub cache and one
name lookup of the download host (which fails within milliseconds offline).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from gansuite.core.backbones import BACKBONE_ENV, BACKBONE_FILES

__all__ = ["backbone_unreachable"]

_DOWNLOAD_HOST = "download.pytorch.org"


def backbone_unreachable(name: str, source: str | os.PathLike[str] | None) -> str | None:
    """Why the `name` backbone ("alexnet", "vgg16") cannot be obtained, or None when it may be.

    None whenever a local source is named (its loader reports problems with it), torchvision's
    weights are in torch's hub cache, or the download host resolves.
    """
    if source is not None or os.environ.get(BACKBONE_ENV):
        return None
    import torch.hub

    cache = Path(torch.hub.get_dir()) / "checkpoints"
    if cache.is_dir() and any(cache.glob(f"{name}-*.pth")):
        return None
    try:
        socket.getaddrinfo(_DOWNLOAD_HOST, 443)
    except OSError as error:
        return (
            f"no local {name} backbone and torchvision cannot download one (this machine cannot reach "
            f"{_DOWNLOAD_HOST}: {error.strerror or error}); give a file or folder holding "
            f"{BACKBONE_FILES.get(name, name)} with the {BACKBONE_ENV} environment variable (or --backbones DIR "
            "where a command takes it)"
        )
    return None
