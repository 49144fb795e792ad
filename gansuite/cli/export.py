"""`gansuite export onnx`: a shipped model or a gansuite weights file as ONNX."""

from __future__ import annotations

from pathlib import Path

import click

from gansuite.cli._base import SHIPPED_UPSCALERS, Group, main


@main.group(cls=Group)
def export() -> None:
    """Export models for other runtimes."""


@export.command("onnx")
@click.option("--model", required=True,
              help=f"Shipped upscaler ({SHIPPED_UPSCALERS}) "
              "or predictor (natural, ped2, mmnist, ...), a gansuite "
              ".safetensors/.pt file, or a third-party SR model file (as upscale --model).")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path),
              help="The .onnx file to write (default: <model>.onnx in the current folder).")
@click.option("--realism", type=click.FloatRange(0, 1), help="Upscalers with a GAN twin: blend as `upscale --realism`.")
@click.option("--opset", type=click.IntRange(min=17), default=17, show_default=True,
              help="ONNX opset (17 to the highest this torch writes).")
@click.option("--no-verify", is_flag=True, help="Skip the onnxruntime-vs-torch check after export.")
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
def export_onnx_command(
    model: str, out: Path | None, realism: float | None, opset: int, no_verify: bool, overwrite: bool
) -> None:
    """Export an upscaler or next-frame predictor to ONNX: dynamic batch/height/width, card in the metadata."""
    from gansuite.core.atomic import check_output_path
    from gansuite.deploy.onnx import check_opset, export_onnx, load_exportable
    from gansuite.errors import ConfigError

    check_opset(opset)
    if out is not None:  # before the model loads; the default name needs the loaded model
        if out.suffix.lower() != ".onnx":
            raise ConfigError(f"-o {out}: an ONNX file name must end in .onnx")
        check_output_path(out, overwrite=overwrite, option="-o", writable=True)
    exportable = load_exportable(model, realism=realism)
    target = out if out is not None else Path(f"{exportable.name}.onnx")
    report = export_onnx(exportable, target, opset=opset, verify=not no_verify, overwrite=overwrite)
    line = f"wrote {report.path} ({exportable.kind}, opset {report.opset}, dynamic batch/height/width)"
    if report.max_abs_diff is not None:
        shape = "x".join(str(side) for side in report.input_shape or ())
        line += f"; max |onnxruntime - torch| = {report.max_abs_diff:.2e} on a {shape} input"
    click.echo(line)
