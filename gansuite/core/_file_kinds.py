"""What a file given as a model, weights or checkpoint is, when it is not what was asked for.

A folder, an empty file, a `torch.save` file where safetensors weights belong (never unpickled
here), safetensors weights where a training checkpoint belongs, or other content (an image,
text): each is named as what it is, with what to give instead.
"""

from __future__ import annotations

from pathlib import Path

from gansuite.errors import CheckpointError

__all__ = ["describe_load_error", "missing_file_error", "not_a_torch_file", "unreadable_weights_message"]


def describe_load_error(error: BaseException) -> str:
    """One line on why a model file could not be loaded: "Type: first line", or the type alone when the
    text is empty. For ``torch.load(weights_only=True)`` it leaves out torch's advice to load the file
    with ``weights_only=False`` (which would execute the file's code)."""
    import pickle
    import re

    text = str(error)
    if isinstance(error, pickle.UnpicklingError):
        found = re.search(r"Unsupported global: GLOBAL (\S+)", text) or re.search(r"global '?([\w.]+)'?", text)
        what = f" ({found.group(1)})" if found else ""
        return f"it holds pickled Python objects{what} beyond plain tensors, and gansuite never executes pickled code"
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{type(error).__name__}: {first[:200]}" if first else type(error).__name__


def missing_file_error(path: Path, what: str, *, advice: str = "") -> CheckpointError:
    """The error for a model/weights/checkpoint `path` that is not a regular file: a folder, or missing.

    A folder is named as one (a common slip: the run or download folder instead of the file in it)
    rather than reported as missing, and never reaches a reader that would raise IsADirectoryError.

    Args:
        path: the path given.
        what: what it should have been, e.g. "weights file".
        advice: appended to the "does not exist" message (e.g. the shipped names).

    Returns:
        A `CheckpointError` to raise.
    """
    if path.is_dir():
        files = sorted(p.name for p in path.glob("*") if p.suffix.lower() in _MODEL_SUFFIXES and p.is_file())[:4]
        inside = f" (it holds {', '.join(files)})" if files else ""
        return CheckpointError(f"{what} {path} is a folder, not a file{inside}; give the {what} itself")
    return CheckpointError(f"{what} {path} does not exist{advice}")


_MODEL_SUFFIXES = (".safetensors", ".pth", ".pt", ".ckpt", ".bin", ".onnx")


def not_a_torch_file(path: Path) -> str | None:
    """What `path` is instead, when its first bytes are no `torch.save` file's (a zip, or a pickle of
    protocol 2 or later); None when they are, or cannot be read (the loader then says why)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return None
    if head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
        return None
    if not head:
        return "the file is empty (0 bytes)"
    if len(head) > 8 and head[8:9] == b"{":
        return (
            "it is a .safetensors file (model weights); a run's checkpoints are the step_*.pt files in its "
            "checkpoints folder"
        )
    return f"a torch.save file starts with a zip or pickle header, this one with {head[:8]!r}"


def unreadable_weights_message(
    path: Path, error: BaseException, *,
    advice: str = "give gansuite .safetensors weights (a shipped model's, or `gansuite train export`'s)",
) -> str:
    """Why `path` is no safetensors file; a `torch.save` file (zip or bare pickle, never unpickled here) is named
    as such, with the command that turns a training checkpoint into weights; an empty file and other content
    (an image, text) are named too, with `advice`."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError:
        head = None
    if head is not None and (head[:4] == b"PK\x03\x04" or head[:1] == b"\x80"):
        return (
            f"{path} is a PyTorch (torch.save) file, not gansuite .safetensors weights; a gansuite training checkpoint "
            f"is exported with `gansuite train export {path} -o {path.stem}.safetensors`"
        )
    if head == b"":
        return f"{path}: the file is empty (0 bytes), not model weights; {advice}"
    if head is not None and len(head) == 8 and int.from_bytes(head, "little") > path.stat().st_size:
        # a safetensors file starts with its header's length; other content (an image, text) reads as a huge one
        return f"{path} is not a readable safetensors file (it starts with {head!r}); {advice}"
    return f"{path} is not a readable safetensors file ({error}); {advice}"
