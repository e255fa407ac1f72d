"""Serving and storage benchmarks against a running platform (`make up`); numbers, not asserts.

    python -m benchmarks serving [--requests N] [--clients C]  # predict: HTTP vs in-process,
                                                               # batching on vs off
    python -m benchmarks storage [--mib N]        # upload/download through the storage service

`serving` trains a classifier through the gateway, promotes and deploys it, then times
sequential predictions at batch 1 and 64 straight to inference's port (one keep-alive
connection) and the same rows through the same model loaded in this process (matrix building
and prediction, no HTTP). Then it starts two more inference replicas (uvicorn processes on
free loopback ports, on the platform's registry and storage), one batching concurrent
predictions (``batch_wait_ms`` 2, ``max_batch_rows`` 64) and one not (``batch_wait_ms`` 0),
deploys the model on both and sends each the same load: C client threads, each with its own
keep-alive connection, sending single-row predictions. `storage` times PUT and GET of one
object through the storage service, and, when `python -m infra env` is exported (an S3 server
runs), the same bytes through the minio client straight to that server; it removes what it
stored.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np

from benchmarks.timing import latencies
from services.inference.predictions import format_predictions
from shared.ml.feature_utils import records_to_matrix
from shared.ml.model_loader import load_model
from shared.services import SERVICES, env_prefix

N_FEATURES = 8
BATCHES = (1, 64)
REPO_ROOT = Path(__file__).resolve().parent.parent
# Inference settings of the two replicas the batching comparison starts.
BATCHING = {
    "batching on (wait 2 ms, <= 64 rows)": {"BATCH_WAIT_MS": "2", "MAX_BATCH_ROWS": "64"},
    "batching off (wait 0)": {"BATCH_WAIT_MS": "0", "MAX_BATCH_ROWS": "64"},
}


@dataclass(frozen=True)
class Timing:
    """Latencies of one series of calls, in seconds."""

    label: str
    rows_per_call: int
    seconds: list[float]

    def line(self) -> str:
        """Return calls/s, rows/s, p50 and p99 in milliseconds."""
        calls = len(self.seconds) / sum(self.seconds)
        p50, p99 = percentiles(self.seconds)
        return (
            f"{self.label:<26} batch {self.rows_per_call:>3}: {calls:7.0f} calls/s "
            f"{calls * self.rows_per_call:9.0f} rows/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms"
        )


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """Return p50 and p99 of latencies, in milliseconds."""
    ordered = sorted(seconds)
    return statistics.median(ordered) * 1e3, ordered[
        min(len(ordered) - 1, int(len(ordered) * 0.99))
    ] * 1e3


def timed(label: str, rows: int, calls: int, call: Callable[[], object]) -> Timing:
    """Run ``call`` ``calls`` times after five warm-up calls; return each call's latency."""
    return Timing(label, rows, latencies(calls, call))


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


def serving(requests: int, clients: int) -> None:
    """Print predict throughput and latency over loopback HTTP and in-process, then batching."""
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
    values = rng.normal(size=(clients, len(model.input_schema)))
    rows = [dict(zip(model.input_schema, map(float, row), strict=True)) for row in values]
    for label, settings in BATCHING.items():
        with inference_replica(settings) as base:
            with httpx.Client(base_url=base, timeout=30) as replica:
                body = {"version": job["model_version"]}
                checked(replica.post(f"/api/v1/deployments/{name}", json=body))
            print(concurrent(label, base, name, rows, requests).line())


def free_port() -> int:
    """Return a loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def inference_replica(settings: dict[str, str], within: float = 60.0) -> Iterator[str]:
    """Run one more inference process on the platform's registry and storage; yield its URL."""
    port, prefix = free_port(), env_prefix("inference")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        f"{prefix}REGISTRY_URL": url("registry"),
        f"{prefix}STORAGE_URL": url("storage"),
        **{prefix + key: value for key, value in settings.items()},
    }
    argv = [sys.executable, "-m", "uvicorn", "services.inference.main:create_app", "--factory"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
        try:
            await_ready(process, base, log, within)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def await_ready(process: subprocess.Popen[bytes], base: str, log: Any, within: float) -> None:
    """Wait until a started replica answers /ready with 200; stop with its log if it cannot."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    log.seek(0)
    sys.exit(f"inference replica at {base} did not become ready:\n{log.read().decode()[-2000:]}")


@dataclass(frozen=True)
class Load:
    """Latencies of requests sent by concurrent clients, and the wall time they took."""

    label: str
    clients: int
    seconds: list[float]
    wall: float

    def line(self) -> str:
        """Return requests/s over the wall time, p50 and p99 in milliseconds."""
        p50, p99 = percentiles(self.seconds)
        return (
            f"{self.label:<36} {self.clients:>2} clients x 1 row: "
            f"{len(self.seconds) / self.wall:7.0f} req/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms"
        )


def concurrent(
    label: str, base: str, name: str, rows: list[dict[str, float]], requests: int
) -> Load:
    """Send ``requests`` single-row predictions from each of ``len(rows)`` client threads."""
    clients = len(rows)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures: list[str] = []
    started: list[float] = []
    barrier = threading.Barrier(clients, action=lambda: started.append(time.perf_counter()))
    path = f"/api/v1/models/{name}/predict"

    def client(index: int) -> None:
        payload = {"instances": [rows[index]]}
        with httpx.Client(base_url=base, timeout=30) as http:
            for _ in range(5):
                http.post(path, json=payload)
            barrier.wait()
            for _ in range(requests):
                begin = time.perf_counter()
                response = http.post(path, json=payload)
                latencies[index].append(time.perf_counter() - begin)
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text}")
                    return

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started[0]
    if failures:
        sys.exit(f"{label}: a prediction failed: {failures[0]}")
    return Load(label, clients, [s for series in latencies for s in series], wall)


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
        client.delete(path)  # a tombstone: garbage collection removes the bytes later
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

    from shared.storage.bootstrap import ARTIFACTS_BUCKET

    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    client = Minio(
        parts.netloc,
        access_key=os.environ.get("SYNAPSE_S3_ACCESS_KEY", "minioadmin"),
        secret_key=os.environ.get("SYNAPSE_S3_SECRET_KEY", "minioadmin"),
        secure=parts.scheme == "https",
    )
    bucket = f"bench-{os.getpid()}"
    client.make_bucket(bucket)

    def get() -> bytes:
        response = client.get_object(bucket, key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    try:
        put = timed(
            "S3 direct PUT",
            1,
            5,
            lambda: client.put_object(bucket, key, io.BytesIO(data), len(data)),
        )
        print(rate(put, mib), rate(timed("S3 direct GET", 1, 5, get), mib), sep="\n")
    finally:
        client.remove_object(bucket, key)
        client.remove_bucket(bucket)
        # The storage service's copy, when that service stores on this server (tombstoned).
        client.remove_object(ARTIFACTS_BUCKET, key)


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
    serve.add_argument("--requests", type=int, default=300, help="calls per series and client")
    serve.add_argument("--clients", type=int, default=16, help="threads of the batching load")
    store = sub.add_parser("storage", help="upload/download rates")
    store.add_argument("--mib", type=int, default=16)
    args = parser.parse_args(argv)
    try:
        if args.command == "serving":
            serving(args.requests, args.clients)
        else:
            storage(args.mib)
    except httpx.ConnectError as exc:
        sys.exit(f"cannot reach the platform ({exc}); start it with `make up`")
    return 0
