"""Checks of docker-compose.yml, docker-compose.test.yml and the Dockerfiles, without Docker."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from infra import compose_check as cc
from shared.services import SERVICES, built_services

# Host ports of the infrastructure, as the brief documents them.
INFRA_PORTS = {
    "postgres-models": {5432},
    "postgres-users": {5433},
    "postgres-experiments": {5434},
    "postgres-metrics": {5435},
    "redis": {6379},
    "kafka": {9092},
    "consul": {8500},
    "minio": {9000, 9001},
    "elasticsearch": {9200},
}
POSTGRES = {
    "postgres-models": ("models_db", 5432),
    "postgres-users": ("users_db", 5433),
    "postgres-experiments": ("experiments_db", 5434),
    "postgres-metrics": ("metrics_db", 5435),
}
POSTGRES_BY_DATABASE = {database: name for name, (database, _) in POSTGRES.items()}
# Initialiser -> (bootstrap target, the server it prepares).
INIT_SERVICES = {
    "kafka-init": ("kafka", "kafka"),
    "storage-init": ("storage", "minio"),
    "search-init": ("search", "elasticsearch"),
    "consul-init": ("consul", "consul"),
}
# Compose services that run only a Celery worker: the "<name>-worker" of a web service with a
# worker, or a Celery-only service under its own name.
WORKERS = {
    f"{spec.name}-worker" if spec.framework != "celery" else spec.name: spec.name
    for spec in built_services()
    if spec.celery_worker
}
# Compose service -> the platform service (shared.services) whose code it runs: every built
# service of the manifest plus the workers.
PLATFORM = {**{spec.name: spec.name for spec in built_services()}, **WORKERS}
# Settings variable of each built service that holds its SQLAlchemy or Django database URL.
DATABASE_URL_VARIABLES = {
    spec.name: (
        f"SYNAPSE_DB_{spec.database.upper()}_URL"
        if spec.framework == "django"
        else f"{spec.env_prefix}DATABASE_URL"
    )
    for spec in built_services()
    if spec.database
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return cc.load_compose(cc.COMPOSE_FILE)


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def test_services() -> dict:
    return cc.load_compose(cc.TEST_COMPOSE_FILE)["services"]


def infrastructure(services: dict) -> dict:
    return {name: svc for name, svc in services.items() if not cc.is_built(svc)}


def test_every_service_has_an_image_or_a_build(services: dict, test_services: dict) -> None:
    missing = [n for n, s in {**services, **test_services}.items() if not {"image", "build"} & {*s}]
    assert missing == []


def test_long_running_services_declare_healthchecks(services: dict) -> None:
    long_running = {name for name, svc in services.items() if not cc.is_one_shot(svc)}
    assert set(PLATFORM) | set(INFRA_PORTS) <= long_running
    unchecked = sorted(
        n for n in long_running if not services[n].get("healthcheck", {}).get("test")
    )
    assert unchecked == []


def test_compose_runs_exactly_the_built_services_of_the_manifest(services: dict) -> None:
    platform = {
        name for name, svc in services.items() if cc.is_built(svc) and name not in INIT_SERVICES
    }
    assert platform == set(PLATFORM)
    assert {"gateway", "models", "registry", "training", "training-worker", "inference"} <= platform


def test_documented_host_ports_are_published(services: dict) -> None:
    expected = dict(INFRA_PORTS)
    expected.update({name: {SERVICES[name].port} for name in set(PLATFORM) - set(WORKERS)})
    missing = {
        name: sorted(ports - set(cc.published_ports(services.get(name, {}))))
        for name, ports in expected.items()
    }
    assert {name: ports for name, ports in missing.items() if ports} == {}


def test_no_host_port_is_published_twice(services: dict) -> None:
    owners: dict[int, list[str]] = {}
    for name, svc in services.items():
        for host_port in cc.published_ports(svc):
            owners.setdefault(host_port, []).append(name)
    assert {port: names for port, names in owners.items() if len(names) > 1} == {}


@pytest.mark.parametrize("name", sorted(POSTGRES))
def test_postgres_service_serves_its_database_on_its_host_port(services: dict, name: str) -> None:
    database, host_port = POSTGRES[name]
    svc = services[name]
    env = cc.environment(svc)
    assert re.fullmatch(r"15([.-].*)?", cc.image_tag(svc["image"])[1])
    assert (env["POSTGRES_DB"], env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == (
        database,
        "synapse",
        "synapse",
    )
    assert cc.published_ports(svc) == {host_port: 5432}
    probe = svc["healthcheck"]["test"]
    assert "pg_isready" in " ".join(probe) and database in probe
    assert cc.named_volumes(svc).get(f"{name}-data") == "/var/lib/postgresql/data"


def test_platform_services_wait_for_healthy_infrastructure_and_finished_initialisers(
    services: dict,
) -> None:
    wrong = {}
    for name in PLATFORM:
        for target, condition in cc.dependencies(services[name]).items():
            one_shot = cc.is_one_shot(services.get(target, {}))
            expected = "service_completed_successfully" if one_shot else "service_healthy"
            if condition != expected:
                wrong[f"{name} -> {target}"] = condition
    assert wrong == {}


def test_dependencies_name_existing_services(services: dict, test_services: dict) -> None:
    for group in (services, test_services):
        unknown = {
            name: sorted(set(cc.dependencies(svc)) - set(group)) for name, svc in group.items()
        }
        assert {name: deps for name, deps in unknown.items() if deps} == {}


def test_dependency_graph_has_no_cycles(services: dict) -> None:
    graph = {name: set(cc.dependencies(svc)) for name, svc in services.items()}
    assert cc.find_cycle(graph) is None


def test_cycle_finder_reports_a_cycle_through_its_nodes() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    cycle = cc.find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    assert cc.find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
    assert cc.reachable(graph, "d") == {"a", "b", "c"}


def test_initialisers_run_their_bootstrap_target_once_after_their_server(services: dict) -> None:
    source = cc.bootstrap_source()
    for name, (target, server) in INIT_SERVICES.items():
        svc = services[name]
        assert cc.is_one_shot(svc) and cc.is_built(svc), name
        assert cc.command_argv(svc) == ["python", "-m", "shared.bootstrap", target]
        assert cc.dependencies(svc) == {server: "service_healthy"}
        assert f'"{target}"' in source, f"python -m shared.bootstrap has no target {target!r}"


def test_services_on_the_kafka_event_bus_start_after_topics_exist(services: dict) -> None:
    graph = {name: set(cc.dependencies(svc)) for name, svc in services.items()}
    on_kafka = [
        name
        for name in PLATFORM
        if cc.environment(services[name]).get("SYNAPSE_EVENTS_BACKEND") == "kafka"
    ]
    assert on_kafka
    assert [name for name in on_kafka if "kafka-init" not in cc.reachable(graph, name)] == []


def test_kafka_never_creates_topics_on_first_use(services: dict) -> None:
    kafka = services["kafka"]
    env = cc.environment(kafka)
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"].lower() == "false"
    assert cc.image_tag(kafka["image"])[0] == "confluentinc/cp-kafka"
    assert cc.dependencies(kafka) == {"zookeeper": "service_healthy"}
    assert "zookeeper:2181" in env["KAFKA_ZOOKEEPER_CONNECT"]


def test_platform_reaches_kafka_through_an_advertised_listener(services: dict) -> None:
    advertised = cc.environment(services["kafka"])["KAFKA_ADVERTISED_LISTENERS"]
    addresses = {entry.split("://", 1)[1] for entry in advertised.split(",")}
    for name in [*PLATFORM, *INIT_SERVICES]:
        env = cc.environment(services[name])
        for variable in ("SYNAPSE_KAFKA_BOOTSTRAP", "SYNAPSE_EVENTS_BOOTSTRAP_SERVERS"):
            if variable in env:
                assert set(env[variable].split(",")) <= addresses, (name, variable)


def test_server_versions_match_the_brief(services: dict) -> None:
    tags = {name: cc.image_tag(svc["image"]) for name, svc in infrastructure(services).items()}
    assert tags["elasticsearch"][0] == "docker.elastic.co/elasticsearch/elasticsearch"
    assert tags["elasticsearch"][1].split(".")[0] == "8"
    assert tags["consul"] == ("hashicorp/consul", "1.16")
    assert tags["redis"][1].split(".")[0] == "7"
    assert tags["minio"][0] == "minio/minio"
    unpinned = sorted(name for name, (_, tag) in tags.items() if tag in ("", "latest"))
    assert unpinned == []


def test_elasticsearch_runs_as_one_node_without_security(services: dict) -> None:
    env = cc.environment(services["elasticsearch"])
    assert env["discovery.type"] == "single-node"
    assert env["xpack.security.enabled"] == "false"
    assert "-Xmx" in env["ES_JAVA_OPTS"]


def test_consul_and_minio_listen_beyond_loopback(services: dict) -> None:
    assert cc.command_argv(services["consul"]) == ["agent", "-dev", "-client", "0.0.0.0"]
    minio = services["minio"]
    assert cc.command_argv(minio) == ["server", "/data", "--console-address", ":9001"]
    assert cc.published_ports(minio) == {9000: 9000, 9001: 9001}


def test_build_contexts_and_dockerfiles_exist(services: dict, test_services: dict) -> None:
    for name, svc in {**services, **test_services}.items():
        if not cc.is_built(svc):
            continue
        build = svc["build"] if isinstance(svc["build"], dict) else {"context": svc["build"]}
        context = (cc.REPO_ROOT / build.get("context", ".")).resolve()
        assert context.is_dir(), name
        assert (context / build.get("dockerfile", "Dockerfile")).is_file(), name


def test_platform_services_set_only_variables_the_platform_reads(services: dict) -> None:
    known = cc.known_variables()
    unknown = {
        name: sorted(v for v in cc.environment(services[name]) if v not in known)
        for name in [*PLATFORM, *INIT_SERVICES]
    }
    assert {name: names for name, names in unknown.items() if names} == {}


@pytest.mark.parametrize("name", sorted(DATABASE_URL_VARIABLES))
def test_database_urls_point_at_the_documented_postgres(services: dict, name: str) -> None:
    database = SERVICES[name].database
    url = urlsplit(cc.environment(services[name])[DATABASE_URL_VARIABLES[name]])
    host = POSTGRES_BY_DATABASE[database]
    assert (url.scheme, url.hostname, url.port, url.path) == (
        "postgresql",
        host,
        5432,
        f"/{database}",
    )
    assert cc.dependencies(services[name]).get(host) == "service_healthy"


def test_gateway_routes_to_compose_services_on_their_ports(services: dict) -> None:
    gateway = services["gateway"]
    upstreams = json.loads(cc.environment(gateway)["SYNAPSE_GATEWAY_UPSTREAMS"])
    assert set(upstreams) == set(PLATFORM.values()) - {"gateway"}
    for service, base_url in upstreams.items():
        parts = urlsplit(base_url)
        assert (parts.hostname, parts.port) == (service, SERVICES[service].port)
        assert cc.dependencies(gateway)[service] == "service_healthy"


def test_web_services_start_their_app_factory_on_the_documented_port(services: dict) -> None:
    for name, service in PLATFORM.items():
        argv = cc.command_argv(services[name])
        if name in WORKERS:
            assert argv[:4] == ["celery", "-A", f"services.{service}.worker", "worker"], name
            continue
        line = " ".join(argv)
        assert f"services.{service}." in line and "--factory" in line, name
        assert f"--port={SERVICES[service].port}" in line.replace("--port ", "--port="), name
        assert "--host=0.0.0.0" in line.replace("--host ", "--host="), name
        assert f"localhost:{SERVICES[service].port}/health" in str(services[name]["healthcheck"])


@pytest.mark.parametrize("name", sorted(WORKERS))
def test_celery_workers_keep_their_locks_on_the_shared_redis(services: dict, name: str) -> None:
    # A worker runs jobs in a pool of processes; it refuses in-memory locks at start-up.
    env = cc.environment(services[name])
    assert env["SYNAPSE_LOCKS_BACKEND"] == "redis"
    assert urlsplit(env["SYNAPSE_REDIS_URL"]).hostname == "redis"
    assert cc.dependencies(services[name]).get("redis") == "service_healthy"


def test_registry_migrates_models_db_before_serving(services: dict) -> None:
    line = " ".join(cc.command_argv(services["registry"]))
    migrate = line.index("services.django_project migrate --database models_db")
    assert migrate < line.index("uvicorn services.registry.asgi:create_app")


def test_training_and_inference_share_one_artifact_volume(services: dict) -> None:
    roots = {}
    for name, prefix in (
        ("training", "SYNAPSE_TRAINING_"),
        ("training-worker", "SYNAPSE_TRAINING_"),
        ("inference", "SYNAPSE_INFERENCE_"),
    ):
        root = cc.environment(services[name])[f"{prefix}ARTIFACT_ROOT"]
        mounted = {path: volume for volume, path in cc.named_volumes(services[name]).items()}
        roots[name] = (root, mounted.get(root))
    assert len(set(roots.values())) == 1 and None not in next(iter(roots.values()))


def test_named_volumes_are_declared(compose: dict) -> None:
    declared = set(compose.get("volumes") or {})
    used = {v for svc in compose["services"].values() for v in cc.named_volumes(svc)}
    assert used - declared == set()


def test_test_compose_runs_the_suite_without_infrastructure(test_services: dict) -> None:
    runners = [s for s in test_services.values() if "pytest" in cc.command_argv(s)]
    assert runners, "no service runs pytest"
    runner = runners[0]
    assert cc.command_argv(runner)[:4] == ["python", "-m", "pytest", "tests"]
    assert runner["build"]["dockerfile"] == "docker/Dockerfile.test"
    assert cc.dependencies(runner) == {}
    dockerfile = (cc.REPO_ROOT / "docker" / "Dockerfile.test").read_text(encoding="utf-8")
    assert "requirements-dev.txt" in dockerfile


def test_platform_image_installs_pinned_requirements_and_runs_unprivileged() -> None:
    lines = (cc.REPO_ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("RUN pip install -r requirements.txt") for line in lines)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")


def test_port_and_volume_parsers_read_both_compose_syntaxes() -> None:
    service = {
        "ports": ["127.0.0.1:5433:5432", "9000:9000/tcp", {"target": 80, "published": 8080}],
        "volumes": [
            "data:/var/data:ro",
            "./src:/src",
            {"type": "volume", "source": "x", "target": "/x"},
        ],
    }
    assert cc.published_ports(service) == {5433: 5432, 9000: 9000, 8080: 80}
    assert cc.named_volumes(service) == {"data": "/var/data", "x": "/x"}
    assert cc.image_tag("localhost:5000/img") == ("localhost:5000/img", "")
    assert cc.image_tag("docker.elastic.co/es:8.15.3@sha256:ab") == (
        "docker.elastic.co/es",
        "8.15.3",
    )
