"""The plan of `python -m devstack up`: processes, environment and setup steps per mode."""

from __future__ import annotations

import pytest

from devstack.plan import PlanError, build_plan, detect_mode
from shared.services import built_services

INFRA_ENV = {
    "SYNAPSE_REDIS_URL": "redis://localhost:6379/0",
    "SYNAPSE_DB_MODELS_DB_URL": "postgresql://synapse:synapse@localhost:5432/models_db",
    "SYNAPSE_DB_USERS_DB_URL": "postgresql://synapse:synapse@localhost:5433/users_db",
}


def test_every_built_service_gets_a_server_on_its_manifest_port():
    plan = build_plan({}, python="py")
    ports = {spec.name: spec.port for spec in plan.processes if spec.port is not None}
    assert ports == {spec.name: spec.port for spec in built_services()}


def test_servers_are_uvicorn_factories_chosen_by_framework():
    argv = {spec.name: spec.argv for spec in build_plan({}, python="py").processes}
    assert argv["registry"][:5] == (
        "py",
        "-m",
        "uvicorn",
        "services.registry.asgi:create_app",
        "--factory",
    )
    assert argv["models"][3] == "services.models.main:create_app"
    assert argv["models"][-2:] == ("--port", "8002")


def test_gateway_starts_last_because_its_readiness_asks_the_others():
    assert build_plan({}, python="py").names()[-1] == "gateway"


def test_without_infrastructure_jobs_run_in_process_and_no_worker_starts():
    plan = build_plan({}, python="py")
    assert plan.mode == "embedded"
    assert plan.env["SYNAPSE_TRAINING_TASK_ALWAYS_EAGER"] == "true"
    assert not any("BROKER" in name for name in plan.env)
    assert "training-worker" not in plan.names()


def test_without_infrastructure_only_migrations_run_first():
    assert [name for name, _ in build_plan({}, python="py").setup] == ["migrate"]


def test_infra_env_is_detected_from_a_database_url_or_redis():
    assert detect_mode({"SYNAPSE_DB_METRICS_DB_URL": "postgresql://h/metrics_db"}) == "infra"
    assert detect_mode({"SYNAPSE_REDIS_URL": "redis://h:6379/0"}) == "infra"
    assert detect_mode({"SYNAPSE_REDIS_URL": "  "}) == "embedded"


def test_infra_env_exports_the_logical_database_to_sqlalchemy_services():
    env = build_plan(INFRA_ENV, python="py").env
    url = INFRA_ENV["SYNAPSE_DB_MODELS_DB_URL"]
    assert env["SYNAPSE_MODELS_DATABASE_URL"] == url
    assert env["SYNAPSE_TRAINING_DATABASE_URL"] == url


def test_infra_env_runs_the_worker_on_the_redis_broker():
    plan = build_plan(INFRA_ENV, python="py")
    assert plan.env["SYNAPSE_TRAINING_BROKER_URL"] == INFRA_ENV["SYNAPSE_REDIS_URL"]
    assert "SYNAPSE_TRAINING_TASK_ALWAYS_EAGER" not in plan.env
    worker = next(spec for spec in plan.processes if spec.name == "training-worker")
    assert worker.port is None
    assert worker.ready_url is None
    assert worker.argv[1:5] == ("-m", "celery", "-A", "services.training.worker")


def test_infra_env_bootstraps_before_migrating():
    assert [name for name, _ in build_plan(INFRA_ENV, python="py").setup] == [
        "bootstrap",
        "migrate",
    ]


def test_variables_the_caller_set_are_never_overridden():
    environ = {**INFRA_ENV, "SYNAPSE_MODELS_DATABASE_URL": "sqlite:///mine.db"}
    assert "SYNAPSE_MODELS_DATABASE_URL" not in build_plan(environ, python="py").env
    eager = build_plan({"SYNAPSE_TRAINING_TASK_ALWAYS_EAGER": "false"}, python="py")
    assert "SYNAPSE_TRAINING_TASK_ALWAYS_EAGER" not in eager.env


def test_an_explicit_broker_without_other_infrastructure_still_gets_a_worker():
    plan = build_plan({"SYNAPSE_TRAINING_BROKER_URL": "redis://q:6379/2"}, python="py")
    assert plan.mode == "embedded"
    assert "training-worker" in plan.names()
    assert "SYNAPSE_TRAINING_TASK_ALWAYS_EAGER" not in plan.env


def test_a_worker_gets_its_locks_on_redis_when_the_caller_named_no_lock_backend():
    plan = build_plan(INFRA_ENV, python="py")
    assert plan.env["SYNAPSE_LOCKS_BACKEND"] == "redis"
    # The caller's Redis stays the one the locks use.
    assert "SYNAPSE_REDIS_URL" not in plan.env


def test_an_explicit_redis_broker_also_serves_the_workers_locks():
    plan = build_plan({"SYNAPSE_TRAINING_BROKER_URL": "redis://q:6379/2"}, python="py")
    assert plan.env["SYNAPSE_LOCKS_BACKEND"] == "redis"
    assert plan.env["SYNAPSE_REDIS_URL"] == "redis://q:6379/2"


def test_an_amqp_broker_leaves_the_lock_server_to_the_caller():
    plan = build_plan({"SYNAPSE_TRAINING_BROKER_URL": "amqp://u:p@q:5672//"}, python="py")
    assert plan.env["SYNAPSE_LOCKS_BACKEND"] == "redis"
    assert "SYNAPSE_REDIS_URL" not in plan.env


def test_in_process_jobs_keep_the_in_memory_locks():
    plan = build_plan({}, python="py")
    assert "SYNAPSE_LOCKS_BACKEND" not in plan.env


def test_in_memory_locks_next_to_a_worker_are_refused_before_anything_starts():
    environ = {**INFRA_ENV, "SYNAPSE_LOCKS_BACKEND": "memory"}
    with pytest.raises(PlanError, match="SYNAPSE_LOCKS_BACKEND=memory") as refused:
        build_plan(environ, python="py")
    assert "redis://localhost:6379" in str(refused.value)


def test_the_refusal_names_the_broker_without_its_credentials():
    environ = {"SYNAPSE_TRAINING_BROKER_URL": "redis://user:s3cret@q:6379/2"}
    with pytest.raises(PlanError) as refused:
        build_plan({**environ, "SYNAPSE_LOCKS_BACKEND": "memory"}, python="py")
    assert "s3cret" not in str(refused.value)
    assert "redis://q:6379" in str(refused.value)


def test_in_memory_locks_without_a_worker_are_left_alone():
    plan = build_plan({"SYNAPSE_LOCKS_BACKEND": "memory"}, python="py")
    assert "training-worker" not in plan.names()


def test_training_and_inference_reach_storage_and_experiments_through_their_services():
    env = build_plan({}).env
    assert env["SYNAPSE_TRAINING_STORAGE_URL"] == "http://localhost:8012"
    assert env["SYNAPSE_INFERENCE_STORAGE_URL"] == "http://localhost:8012"
    assert env["SYNAPSE_TRAINING_EXPERIMENTS_URL"] == "http://localhost:8008"


def test_a_link_the_caller_set_is_kept():
    env = build_plan({"SYNAPSE_TRAINING_STORAGE_URL": "http://storage.internal:8012"}).env
    assert "SYNAPSE_TRAINING_STORAGE_URL" not in env
    assert env["SYNAPSE_INFERENCE_STORAGE_URL"] == "http://localhost:8012"
