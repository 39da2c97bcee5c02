"""`broadcaster serve`: the web app and API under uvicorn; also started by `broadcaster run --web`."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Annotated

import typer

from broadcaster.cli.common import friendly, out, sessions, settings

if TYPE_CHECKING:
    import uvicorn

HostOption = Annotated[str | None, typer.Option("--host", help="Address to listen on (default BROADCASTER_WEB_HOST).")]
PortOption = Annotated[int | None, typer.Option("--port", help="Port to listen on (default BROADCASTER_WEB_PORT).")]


def web_server(host: str | None, port: int | None) -> uvicorn.Server:
    """A uvicorn server for the app, not yet started (its `run()` blocks; `should_exit` stops it)."""
    import uvicorn

    from broadcaster.web.app import create_app

    app = create_app(settings(), sessions())
    config = uvicorn.Config(
        app,
        host=host or settings().web_host,
        port=port if port is not None else settings().web_port,
        proxy_headers=False,  # the client address in the audit log is the peer's, unless a proxy is configured
        log_level="info",
    )
    return uvicorn.Server(config)


@friendly
def serve(host: HostOption = None, port: PortOption = None) -> None:
    """The web app and the REST API (/api/v1, documented at /api/v1/docs). Stop with Ctrl-C or SIGTERM."""
    from broadcaster import service

    stop = threading.Event()
    with service.stop_on_signals(stop):
        thread = serve_in_background(host, port, stop)
        while thread.is_alive() and not stop.wait(0.5):
            pass
        stop.set()
        thread.join(timeout=30)
    out.print("stopped")


def serve_in_background(host: str | None, port: int | None, stop: threading.Event) -> threading.Thread:
    """Run the web server in a thread until `stop` is set (for `broadcaster run --web`)."""
    server = web_server(host, port)
    out.print(f"serving on http://{server.config.host}:{server.config.port}/ (API at /api/v1)")

    def watch() -> None:
        stop.wait()
        server.should_exit = True

    threading.Thread(target=watch, name="web-stop", daemon=True).start()
    thread = threading.Thread(target=server.run, name="web", daemon=True)
    thread.start()
    return thread
