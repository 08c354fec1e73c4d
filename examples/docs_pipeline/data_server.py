"""Serves the sample documents in `data/` over HTTP on 127.0.0.1 (the pipeline's "public" site).

python -m examples.docs_pipeline.data_server --port 0
serving http://127.0.0.1:54321/
"""

from __future__ import annotations

import argparse
import functools
import logging
import threading
from collections.abc import Callable, Sequence
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
HOST = "127.0.0.1"

logger = logging.getLogger(__name__)


class _QuietHandler(SimpleHTTPRequestHandler):
    """Request lines go to `logging` at DEBUG instead of one stderr line per request."""

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)


def make_server(port: int = 0, directory: Path = DATA_DIR) -> ThreadingHTTPServer:
    """A server for `directory` bound to the loopback interface (port 0 = a free port)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer((HOST, port), handler)
    server.daemon_threads = True
    return server


def server_url(server: ThreadingHTTPServer) -> str:
    return f"http://{HOST}:{server.server_address[1]}/"


def serve_in_thread(port: int = 0, directory: Path = DATA_DIR) -> tuple[str, Callable[[], None]]:
    """Start serving in a daemon thread; return the base URL and a function that stops it."""
    server = make_server(port, directory)
    thread = threading.Thread(target=server.serve_forever, name="docs-data-server", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return server_url(server), stop


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the docs pipeline sample data.")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0: a free one)")
    parser.add_argument("--directory", type=Path, default=DATA_DIR, help="what to serve")
    args = parser.parse_args(argv)
    with make_server(args.port, args.directory) as server:
        # First stdout line is the contract with whoever started us (it may have asked for 0).
        print(f"serving {server_url(server)}", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            # Ctrl-C is the normal way to stop a foreground server, not an error.
            return


if __name__ == "__main__":
    main()
