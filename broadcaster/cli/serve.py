"""`broadcaster serve`: the web app and API under uvicorn; also started by `broadcaster run --web`."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Annotated

import typer

from broadcaster.cli.common import friendly, out, sessions, settings

if TYPE_CHECKING:
    import uvicorn

    from broadcaster.settings import Settings

HostOption = Annotated[str | None, typer.Option("--host", help="Address to listen on (default BROADCASTER_WEB_HOST).")]
PortOption = Annotated[
    int | None,
    typer.Option("--port", min=1, max=65535, help="Port to listen on, 1-65535 (default BROADCASTER_WEB_PORT)."),
]


ProxyHeadersOption = Annotated[
    bool,
    typer.Option(
        "--proxy-headers",
        help="Behind a reverse proxy: believe its X-Forwarded-For/-Proto, from BROADCASTER_TRUSTED_PROXIES only "
        "(default: this machine).",
    ),
]


def _web_settings(proxy_headers: bool) -> Settings:
    chosen = settings()
    return chosen.model_copy(update={"proxy_headers": True}) if proxy_headers else chosen


def web_server(host: str | None, port: int | None, proxy_headers: bool = False) -> uvicorn.Server:
    """A uvicorn server for the app, not yet started (its `run()` blocks; `should_exit` stops it)."""
    import uvicorn

    from broadcaster.web.app import create_app

    app = create_app(_web_settings(proxy_headers), sessions())
    config = uvicorn.Config(
        app,
        host=host or settings().web_host,
        port=port if port is not None else settings().web_port,
        proxy_headers=False,  # the app itself reads X-Forwarded-*, from trusted proxies only (web.auth)
        log_level="info",
    )
    return uvicorn.Server(config)


@friendly
def serve(
    host: HostOption = None,
    port: PortOption = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Serving processes (more answer more callbacks at once).")
    ] = 1,
    proxy_headers: ProxyHeadersOption = False,
) -> None:
    """The web app and the REST API (/api/v1, documented at /api/v1/docs). Stop with Ctrl-C or SIGTERM."""
    from broadcaster import processes

    if workers > 1:
        _serve_processes(host, port, workers, proxy_headers)
        return

    stop = threading.Event()
    with processes.stop_on_signals(stop):
        thread = serve_in_background(host, port, stop, proxy_headers)
        while thread.is_alive() and not stop.wait(0.5):
            pass
        stop.set()
        thread.join(timeout=30)
    out.print("stopped")


def _serve_processes(host: str | None, port: int | None, workers: int, proxy_headers: bool) -> None:
    """Several uvicorn processes on one socket, each building the app from the settings; uvicorn's own
    supervisor handles SIGTERM and Ctrl-C."""
    import uvicorn

    from broadcaster.db import make_engine, schema_is_current, shown_url
    from broadcaster.errors import UserError

    engine = make_engine(settings().database_url)
    current = schema_is_current(engine)
    engine.dispose()
    if not current:  # one sentence here, not one per process
        raise UserError(
            f"the database at {shown_url(settings().database_url)} is not set up or is out of date: "
            "run 'broadcaster db upgrade'"
        )
    chosen_host, chosen_port = host or settings().web_host, port if port is not None else settings().web_port
    out.print(f"serving on http://{chosen_host}:{chosen_port}/ (API at /api/v1) with {workers} processes")
    if proxy_headers:  # each process builds its settings from the environment
        os.environ["BROADCASTER_PROXY_HEADERS"] = "true"
    uvicorn.run(
        "broadcaster.web.app:create_app",
        factory=True,
        host=chosen_host,
        port=chosen_port,
        workers=workers,
        proxy_headers=False,
        log_level="info",
    )
    out.print("stopped")


def serve_in_background(
    host: str | None, port: int | None, stop: threading.Event, proxy_headers: bool = False
) -> threading.Thread:
    """Run the web server in a thread until `stop` is set (for `broadcaster run --web`)."""
    server = web_server(host, port, proxy_headers)
    out.print(f"serving on http://{server.config.host}:{server.config.port}/ (API at /api/v1)")

    def watch() -> None:
        stop.wait()
        server.should_exit = True

    threading.Thread(target=watch, name="web-stop", daemon=True).start()
    thread = threading.Thread(target=server.run, name="web", daemon=True)
    thread.start()
    return thread
