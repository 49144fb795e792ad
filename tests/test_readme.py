"""Every ```python snippet of README.md runs, as written, in a temporary folder with tiny inputs.

The inputs the snippets name are made here: ``photo.png`` (a 24x20 RGB image) and ``clip.mp4``
(12 frames of a moving square, 64x48). Each snippet runs in a fresh namespace with the folder
as the working directory; the shipped weights come with the package. Every `gansuite ...` line of
the ```bash blocks is parsed by the real CLI: its subcommands, flags and choice values must exist.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import click
import cv2
import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SNIPPETS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)


def _inputs(folder: Path) -> None:
    rng = np.random.default_rng(0)
    assert cv2.imwrite(str(folder / "photo.png"), rng.integers(0, 256, size=(20, 24, 3), dtype=np.uint8))
    from gansuite.io import write_video

    frames = np.zeros((12, 48, 64, 3), np.float32)
    for t in range(12):
        frames[t, 10:26, 4 + 3 * t : 20 + 3 * t] = 0.9
    write_video(folder / "clip.mp4", frames, fps=10.0)


def test_the_readme_has_the_library_snippets() -> None:
    assert len(SNIPPETS) >= 3
    code = "\n".join(SNIPPETS)
    assert "from gansuite import" in code
    assert "gansuite.tasks." not in code and "gansuite.core.trainer" not in code  # short imports only


@pytest.mark.parametrize("index", range(len(SNIPPETS)), ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_readme_snippet_runs(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    _inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GANSUITE_CACHE", str(tmp_path / "cache"))
    before = set(os.listdir(tmp_path))
    namespace = {"__name__": "__readme__"}
    exec(compile(SNIPPETS[index], f"README.md snippet {index}", "exec"), namespace)
    made = set(os.listdir(tmp_path)) - before
    if "photo_x4.png" in made:  # the upscaling snippet wrote its x4 output
        assert cv2.imread(str(tmp_path / "photo_x4.png")).shape == (80, 96, 3)
    if "CalibratedAnomalyScorer" in SNIPPETS[index]:
        printed = capsys.readouterr().out.split("\n")
        assert len([line for line in printed if line]) == 8 - 4  # one score per frame after the first k = 4
    if "FramePredictor.from_pretrained(\"natural\")" in SNIPPETS[index]:
        frames = namespace["result"].frames
        assert len(frames) == 4 and all(f.shape == (48, 64, 3) and f.dtype == np.uint8 for f in frames)
    if "trainer.fit" in SNIPPETS[index]:
        assert (tmp_path / "runs" / "my-run" / "checkpoints").is_dir()


def test_the_set_up_outputs_are_ignored_by_git() -> None:
    setup = re.search(r"^## Set up\n+```bash\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
    assert setup is not None
    photo = re.search(r"gansuite demo photo (\S+)", setup.group(1))
    assert photo is not None and f"gansuite upscale {photo.group(1)}" in setup.group(1)
    written = Path(photo.group(1))
    ignored = (README.parent / ".gitignore").read_text(encoding="utf-8").splitlines()
    for name in (written.name, f"{written.stem}_x4{written.suffix}"):  # the sample and its x4 output
        assert f"/{name}" in ignored or name in ignored


def _readme_command_lines() -> list[list[str]]:
    """The arguments of every `gansuite ...` command in the README's ```bash blocks (also after `-m gansuite`)."""
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            code = line.split(" #")[0].strip()
            if code.startswith("#"):
                continue
            for part in code.split("&&"):
                words = shlex.split(part)
                if "gansuite" not in words:
                    continue
                at = words.index("gansuite")
                if at > 0 and words[at - 1] != "-m":  # e.g. `python -m venv` or a path, not the command
                    continue
                arguments = words[at + 1 :]
                commands.append(arguments[: arguments.index(">")] if ">" in arguments else arguments)
    return commands


def test_every_readme_command_names_real_subcommands_flags_and_choices() -> None:
    """Each command line of the README parses: its subcommand, its flags and their Choice/range values exist."""
    from gansuite.cli import main

    commands = _readme_command_lines()
    assert len(commands) >= 25
    for arguments in commands:
        command: click.Command = main
        context = click.Context(main, info_name="gansuite")
        rest = list(arguments)
        while isinstance(command, click.Group):
            sub = command.get_command(context, rest[0])
            assert sub is not None, f"README: gansuite {' '.join(arguments)}: no command {rest[0]!r}"
            context, command, rest = click.Context(sub, info_name=rest[0], parent=context), sub, rest[1:]
        values, _, _ = command.make_parser(context).parse_args(rest)  # raises NoSuchOption on a wrong flag
        for param in command.params:
            value = values.get(param.name)
            if value is not None and isinstance(param.type, (click.Choice, click.IntRange, click.FloatRange)):
                for one in value if isinstance(value, list) else [value]:
                    param.type.convert(one, param, context)  # raises BadParameter on a value the CLI refuses
