"""Serving and storage benchmarks against a running platform (`make up`); numbers, not asserts.

    python -m benchmarks serving [--requests N]   # predict: loopback HTTP vs in-process
    python -m benchmarks storage [--mib N]        # upload/download through the storage service

`serving` trains a classifier through the gateway, promotes and deploys it, then times
sequential predictions at batch 1 and 64 straight to inference's port (one keep-alive
connection) and the same rows through the same model loaded in this process (matrix building
and prediction, no HTTP). `storage` times PUT and GET of one object through the storage service,
and, when `python -m infra env` is exported (an S3 server runs), the same bytes through the
minio client straight to that server.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np

from benchmarks import tracking
from services.inference.predictions import format_predictions
from shared.ml.feature_utils import records_to_matrix
from shared.ml.model_loader import load_model
from shared.services import SERVICES

N_FEATURES = 8
BATCHES = (1, 64)


@dataclass(frozen=True)
class Timing:
    """Latencies of one series of calls, in seconds."""

    label: str
    rows_per_call: int
    seconds: list[float]

    def line(self) -> str:
        """Return calls/s, rows/s, p50 and p99 in milliseconds."""
        calls = len(self.seconds) / sum(self.seconds)
        ordered = sorted(self.seconds)
        p50 = statistics.median(ordered) * 1e3
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3
        return (
            f"{self.label:<26} batch {self.rows_per_call:>3}: {calls:7.0f} calls/s "
            f"{calls * self.rows_per_call:9.0f} rows/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms"
        )


def timed(label: str, rows: int, calls: int, call: Callable[[], object]) -> Timing:
    """Run ``call`` ``calls`` times after five warm-up calls; return each call's latency."""
    for _ in range(5):
        call()
    seconds = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return Timing(label, rows, seconds)


def url(service: str) -> str:
    """Return the loopback address `make up` serves ``service`` on."""
    return f"http://127.0.0.1:{SERVICES[service].port}"


def checked(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """Return a response's JSON, or stop with its problem when the status differs."""
    if response.status_code != status:
        request = response.request
        sys.exit(f"{request.method} {request.url}: {response.status_code} {response.text}")
    body: dict[str, Any] = response.json()
    return body


def train_and_deploy(gateway: httpx.Client, name: str) -> dict[str, Any]:
    """Train ``name`` through the gateway, promote it to Production, deploy it; return the job."""
    body = {
        "model_name": name,
        "dataset": {
            "kind": "classification",
            "n_samples": 2000,
            "n_features": N_FEATURES,
            "seed": 0,
        },
        "hyperparams": {"lr": 0.1, "epochs": 5, "batch_size": 64, "seed": 0},
    }
    job = checked(gateway.post("/api/training/api/v1/jobs", json=body), 202)
    deadline = time.monotonic() + 120
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = checked(gateway.get(f"/api/training/api/v1/jobs/{job['id']}"))
    if job["status"] != "succeeded":
        sys.exit(f"training job did not succeed: {job}")
    version = job["model_version"]
    transition = f"/api/registry/api/v1/registered-models/{name}/versions/{version}/transition"
    for stage in ("Staging", "Production"):
        checked(gateway.post(transition, json={"stage": stage}))
    checked(gateway.post(f"/api/inference/api/v1/deployments/{name}", json={"version": version}))
    return job


def serving(requests: int) -> None:
    """Print predict throughput and latency over loopback HTTP and in-process."""
    name = f"bench-{int(time.time())}"
    rng = np.random.default_rng(0)
    with httpx.Client(base_url=url("gateway"), timeout=30) as gateway:
        job = train_and_deploy(gateway, name)
    model = load_model(Path(urlsplit(job["artifact_uri"]).path))
    print(f"model {name} v{job['model_version']} ({model.kind}, {N_FEATURES} features)")
    with httpx.Client(base_url=url("inference"), timeout=30) as inference:
        for batch in BATCHES:
            values = rng.normal(size=(batch, len(model.input_schema)))
            rows = [dict(zip(model.input_schema, map(float, row), strict=True)) for row in values]
            for timing in compare(inference, name, model, rows, requests):
                print(timing.line())


def compare(
    inference: httpx.Client, name: str, model: Any, rows: list[dict[str, float]], requests: int
) -> tuple[Timing, Timing]:
    """Time ``rows`` through inference's HTTP API and through ``model`` in this process."""
    path, payload = f"/api/v1/models/{name}/predict", {"instances": rows}
    http = timed(
        "HTTP (uvicorn, loopback)",
        len(rows),
        requests,
        lambda: checked(inference.post(path, json=payload)),
    )
    local = timed(
        "in-process (same model)",
        len(rows),
        requests,
        lambda: format_predictions(model, records_to_matrix(rows, model.input_schema)),
    )
    return http, local


def storage(mib: int) -> None:
    """Print upload and download MB/s through the storage service (and S3 directly if up)."""
    data = os.urandom(mib * 2**20)
    key = f"bench/{int(time.time())}.bin"
    headers = {"content-type": "application/octet-stream"}
    with httpx.Client(base_url=url("storage"), timeout=120) as client:
        path = f"/api/v1/objects/artifacts/{key}"
        put = timed(
            "storage service PUT",
            1,
            5,
            lambda: checked(client.put(path, content=data, headers=headers), 201),
        )
        get = timed("storage service GET", 1, 5, lambda: client.get(path).content)
    print(rate(put, mib), rate(get, mib), sep="\n")
    endpoint = os.environ.get("SYNAPSE_S3_ENDPOINT")
    if endpoint:
        s3_direct(endpoint, key, data, mib)
    else:
        print("S3 direct: skipped (export `python -m infra env` and run `make infra-up` first)")


def s3_direct(endpoint: str, key: str, data: bytes, mib: int) -> None:
    """Time the same object through the minio client straight to the S3 server."""
    import io

    from minio import Minio

    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    client = Minio(
        parts.netloc,
        access_key=os.environ.get("SYNAPSE_S3_ACCESS_KEY", "minioadmin"),
        secret_key=os.environ.get("SYNAPSE_S3_SECRET_KEY", "minioadmin"),
        secure=parts.scheme == "https",
    )
    bucket = "bench"
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)

    def get() -> bytes:
        response = client.get_object(bucket, key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    put = timed(
        "S3 direct PUT", 1, 5, lambda: client.put_object(bucket, key, io.BytesIO(data), len(data))
    )
    print(rate(put, mib), rate(timed("S3 direct GET", 1, 5, get), mib), sep="\n")


def rate(timing: Timing, mib: int) -> str:
    """Return a transfer series as MB/s (median call)."""
    megabytes = mib * 2**20 / 1e6
    return (
        f"{timing.label:<24} {mib} MiB: {megabytes / statistics.median(timing.seconds):8.1f} MB/s"
    )


def main(argv: list[str] | None = None) -> int:
    """Run one benchmark."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serving", help="predict throughput and latency")
    serve.add_argument("--requests", type=int, default=300)
    store = sub.add_parser("storage", help="upload/download rates")
    store.add_argument("--mib", type=int, default=16)
    monitor = sub.add_parser("monitoring", help="metric points ingested per second")
    monitor.add_argument("--events", type=int, default=2000)
    monitor.add_argument("--metrics", type=int, default=10)
    runs = sub.add_parser("experiments", help="run-search latency over many runs")
    runs.add_argument("--runs", type=int, default=10_000)
    runs.add_argument("--queries", type=int, default=20)
    args = parser.parse_args(argv)
    try:
        if args.command == "serving":
            serving(args.requests)
        elif args.command == "storage":
            storage(args.mib)
        elif args.command == "monitoring":
            tracking.monitoring(args.events, args.metrics)
        else:
            tracking.experiments(args.runs, args.queries)
    except httpx.ConnectError as exc:
        sys.exit(f"cannot reach the platform ({exc}); start it with `make up`")
    return 0
