"""Serve the Consul stand-in with uvicorn: `python -m infra.consul --port 8500`."""

import argparse

import uvicorn


def main() -> None:
    """Parse the address and serve the app until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m infra.consul")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8500)
    args = parser.parse_args()
    uvicorn.run(
        "infra.consul.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_level="warning",
    )


main()
