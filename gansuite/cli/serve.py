"""`gansuite serve`: the local web page."""

from __future__ import annotations

import click

from gansuite.cli._base import main


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: the network).")
@click.option("--port", type=click.IntRange(1, 65535), default=7860, show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
def serve(host: str, port: int, device: str, open_browser: bool) -> None:
    """A local web page: upscale an image (before/after slider) or predict the frames of a clip (pip extra [web])."""
    from gansuite.deploy.web import serve as run

    run(host=host, port=port, device=device, open_browser=open_browser)
