"""`gansuite demo crypto | generate | sketch`: the applications in `gansuite/apps/` (built on the public API)."""

from __future__ import annotations

from pathlib import Path

import click

from gansuite.cli._base import SEED, json_line
from gansuite.cli.demo import demo


@demo.command("crypto")
@click.option("--seeds", type=click.IntRange(1, 100), default=5, show_default=True, help="Independent runs.")
@click.option("--first-seed", type=SEED, default=0, show_default=True)
@click.option("--steps", type=click.IntRange(min=100), default=6000, show_default=True,
              help="Trainer steps per seed (Eve updates every step, Alice/Bob every second).")
@click.option("--fresh-eve-steps", type=click.IntRange(min=0), default=1000, show_default=True,
              help="Steps of the fresh Eve trained against each frozen Alice (0 skips this test).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def demo_crypto(seeds: int, first_seed: int, steps: int, fresh_eve_steps: int, as_json: bool) -> None:
    """Adversarial neural cryptography (Abadi & Andersen 2016): Alice and Bob learn to hide 16-bit messages from Eve."""
    from gansuite.apps.crypto import SUCCESS_BOB_BITS, SUCCESS_EVE_BITS, run_crypto_demo

    result = run_crypto_demo(seeds=seeds, first_seed=first_seed, steps=steps, fresh_eve_steps=fresh_eve_steps)
    if as_json:
        click.echo(json_line(result.as_dict()))
        return
    click.echo(f"{result.bits}-bit messages and keys; errors in bits wrong (chance: {result.bits // 2}).")
    for run in result.runs:
        verdict = "success" if run.success else "not converged"
        click.echo(f"  seed {run.seed}: Bob {run.bob_bits_wrong:.3f}  Eve {run.eve_bits_wrong:.2f}  "
                   f"({verdict}, {run.seconds:.0f} s, {run.cpu_seconds:.0f} s of CPU)")
    click.echo(f"success (Bob < {SUCCESS_BOB_BITS}, Eve > {SUCCESS_EVE_BITS}) in {result.success_rate:.0%} "
               f"of {len(result.runs)} seeds; best seed {result.best.seed}")


@demo.command("generate")
@click.option("--n", "count", type=click.IntRange(1, 10_000), default=64, show_default=True, help="Digits to draw.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default="grid.png",
              show_default=True, help="Grid image to write (PNG).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the noise.")
@click.option("--interpolate", type=click.IntRange(2, 10_000), default=None,
              help="Write latent interpolation strips of this many digits instead (n // this many rows, at least one).")
@click.option("--model", default="digits_dcgan", show_default=True, help="Shipped model name or weights file.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
def demo_generate(count: int, output: Path, seed: int, interpolate: int | None, model: str, overwrite: bool) -> None:
    """Digits from random noise with the shipped DCGAN (Radford et al. 2016, trained on MNIST)."""
    from gansuite.apps.digits.generate import DigitGenerator, grid_size, image_grid, interpolation_strip
    from gansuite.io import check_image_target, check_output_path, write_image

    rows = max(1, count // interpolate) if interpolate is not None else 0
    height, width = grid_size(rows * interpolate, columns=interpolate) if interpolate else grid_size(count)
    # before any digit is drawn
    check_image_target(output, height=height, width=width, remedy="use a smaller --n or --interpolate")
    check_output_path(output, overwrite=overwrite)
    generator = DigitGenerator.from_pretrained(model)
    if interpolate is not None:
        grid = interpolation_strip(generator, steps=interpolate, rows=rows, seed=seed)
    else:
        grid = image_grid(generator.sample(count, seed=seed))
    write_image(output, grid[..., 0], grayscale=True, overwrite=overwrite)
    click.echo(f"wrote {output} ({grid.shape[1]}x{grid.shape[0]})")


@demo.command("sketch")
@click.argument("drawing", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default="sketch.png",
              show_default=True, help="Photo to write.")
@click.option("--edges", "as_edges", is_flag=True,
              help="DRAWING is already an edge map (white 1-pixel lines on black, e.g. Canny), used as is.")
@click.option("--from-photo", is_flag=True,
              help="DRAWING is a photo: its Canny edges (as the model was trained on) are drawn back as a photo.")
@click.option("--model", default="sketch_pix2pix", show_default=True, help="Shipped model name or weights file.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file (never DRAWING itself).")
def demo_sketch(drawing: Path, output: Path, as_edges: bool, from_photo: bool, model: str, overwrite: bool) -> None:
    """Turn a line drawing into a photo-like image with the shipped pix2pix (Isola et al. 2017) generator."""
    from gansuite.apps.sketch import SketchToPhoto, edges_of
    from gansuite.apps.sketch.inference import MAX_SIDE
    from gansuite.errors import ConfigError
    from gansuite.io import (
        check_image_target,
        check_not_input,
        check_output_path,
        composite_over,
        probe_image,
        read_image,
        rgb_to_gray,
        write_image,
    )

    if as_edges and from_photo:
        raise ConfigError("--edges and --from-photo conflict: DRAWING is either an edge map or a photo; give one")
    check_not_input(output, drawing, option="-o", what="drawing")  # not even with --overwrite
    check_image_target(output)
    check_output_path(output, overwrite=overwrite)
    header = probe_image(drawing)  # its size, before the pixels are decoded and the strokes traced
    if header.width is not None and header.height is not None and max(header.width, header.height) > MAX_SIDE:
        raise ConfigError(
            f"{drawing}: {header.width}x{header.height} pixels; the sketch model takes drawings up to {MAX_SIDE} "
            "pixels a side; downscale it"
        )
    image = read_image(drawing, first_frame=True)
    # a transparent background shows as in an editor: white behind a drawing, black behind an edge map
    color = composite_over(image.color, image.alpha, background=0.0 if as_edges else 1.0)
    generator = SketchToPhoto.from_pretrained(model)
    try:
        if as_edges:
            photo = generator.from_edges((rgb_to_gray(color) > 0.5).astype("float32"))
        elif from_photo:
            photo = generator.from_edges(edges_of(color))
        else:
            photo = generator.from_drawing(color)
    except ConfigError as exc:  # no strokes, or too large: name the file
        raise ConfigError(f"{drawing}: {exc}") from None
    write_image(output, photo, overwrite=overwrite)
    click.echo(f"wrote {output} ({photo.shape[1]}x{photo.shape[0]})")
