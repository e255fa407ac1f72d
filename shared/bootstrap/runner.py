"""Build each step's adapter from the settings, run the steps and report one line per step."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from shared.backends import create
from shared.bootstrap.steps import ALL_STEPS, STEPS
from shared.errors import SynapseError
from shared.infra_settings import InfraSettings, get_infra_settings

Builder = Callable[[InfraSettings], Any]


def build_kafka(settings: InfraSettings) -> Any:
    """Return an event bus on the configured Kafka brokers."""
    named = settings.model_copy(update={"kafka_client_id": "synapse-bootstrap"})
    return create("events", "kafka", named)


def build_storage(settings: InfraSettings) -> Any:
    """Return the object store on the configured S3 server."""
    return create("storage", "s3", settings)


def build_search(settings: InfraSettings) -> Any:
    """Return the search index on the configured Elasticsearch server."""
    return create("search", "elasticsearch", settings)


def build_consul(settings: InfraSettings) -> Any:
    """Return the service registry on the configured Consul agent."""
    return create("discovery", "consul", settings)


BUILDERS: dict[str, Builder] = {
    "kafka": build_kafka,
    "storage": build_storage,
    "search": build_search,
    "consul": build_consul,
}


# Where each step's server is, for failure messages.
TARGETS: dict[str, Callable[[InfraSettings], str]] = {
    "kafka": lambda s: f"Kafka at {s.kafka_bootstrap}",
    "storage": lambda s: f"S3 at {s.s3_endpoint}",
    "search": lambda s: f"Elasticsearch at {s.elasticsearch_url}",
    "consul": lambda s: f"Consul at {s.consul_host}:{s.consul_port}",
}


@dataclass(frozen=True)
class StepResult:
    """How one step went."""

    step: str
    ok: bool
    message: str

    def line(self) -> str:
        """Return the report line of this step."""
        return f"{self.step}: {'ok' if self.ok else 'FAILED'}: {self.message}"


def run_step(name: str, builder: Builder, settings: InfraSettings) -> StepResult:
    """Build the step's adapter, run the step and close the adapter, capturing any failure."""
    adapter = None
    try:
        adapter = builder(settings)
        return StepResult(name, True, STEPS[name](adapter))
    except SynapseError as exc:
        return StepResult(name, False, exc.message)
    except Exception as exc:  # a client library's own error: report it, keep going
        target = TARGETS[name](settings) if name in TARGETS else name
        return StepResult(name, False, f"{target}: {type(exc).__name__}: {exc}")
    finally:
        close = getattr(adapter, "close", None)
        if callable(close):
            close()


def run_steps(
    names: Sequence[str],
    *,
    settings: InfraSettings | None = None,
    builders: Mapping[str, Builder] | None = None,
) -> list[StepResult]:
    """Run the named steps ("all" expands to every step) and return their results in order."""
    settings = settings or get_infra_settings()
    table = {**BUILDERS, **(builders or {})}
    expanded = [step for name in names for step in (ALL_STEPS if name == "all" else (name,))]
    return [run_step(name, table[name], settings) for name in dict.fromkeys(expanded)]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line: one or more step names."""
    parser = argparse.ArgumentParser(
        prog="python -m shared.bootstrap",
        description="Create the platform's topics, buckets, index mappings and KV defaults.",
    )
    parser.add_argument("steps", nargs="+", choices=[*STEPS, "all"], metavar="STEP")
    return parser.parse_args(argv)


def main(
    argv: Sequence[str] | None = None,
    *,
    settings: InfraSettings | None = None,
    builders: Mapping[str, Builder] | None = None,
    out: TextIO | None = None,
) -> int:
    """Run the steps named on the command line; return 0 when all succeed, else 1."""
    args = parse_args(argv)
    results = run_steps(args.steps, settings=settings, builders=builders)
    for result in results:
        print(result.line(), file=(out or (sys.stdout if result.ok else sys.stderr)))
    return 0 if all(r.ok for r in results) else 1
