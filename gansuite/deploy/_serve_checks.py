"""`gansuite serve`'s settings checked before the page is built: the device and the address to listen on."""

from __future__ import annotations

from gansuite.errors import ConfigError

__all__ = ["check_serve_settings"]


def check_serve_settings(*, host: str, port: int, device: str) -> None:
    """Refuse a device torch cannot use and an address the page cannot listen on, before the app is built.

    Raises:
        ConfigError: naming ``--device``, ``--host`` or ``--port``.
    """
    import errno
    import socket

    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {device}: torch sees no CUDA device here; use --device cpu or auto")
    if ":" in host:  # Gradio builds its page URL as host:port, which an IPv6 literal breaks
        raise ConfigError(f"--host {host}: IPv6 addresses are not supported by the web page; use 127.0.0.1 or 0.0.0.0")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(f"--host {host}: not an address to listen on ({reason}); use 127.0.0.1 or 0.0.0.0") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server: a closed port may be reused
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"--port {port}: {host}:{port} is already in use (another gansuite serve?); choose another --port"
                ) from None
            raise ConfigError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})") from None
