"""The training Celery app: broker URL checks, explicit task names, no connection at build."""

import pytest

from services.training.celery_app import make_celery_app
from services.training.config import Settings
from services.training.tasks import RUN_JOB, dispatch_run_job
from shared.celery_apps import BrokerConfigError, validate_broker_url

pytestmark = pytest.mark.training


@pytest.mark.parametrize("url", ["reddis://localhost:6379/0", "http://localhost:6379/0", ""])
def test_broker_url_with_unknown_scheme_is_refused(url):
    with pytest.raises(BrokerConfigError, match="scheme"):
        validate_broker_url(url)


def test_broker_url_missing_a_slash_is_refused():
    with pytest.raises(BrokerConfigError):
        validate_broker_url("redis:/localhost:6379/0")


def test_default_settings_give_a_redis_broker_on_localhost():
    app = make_celery_app(Settings(_env_file=None))
    assert app.conf.broker_url == "redis://localhost:6379/0"
    assert validate_broker_url(app.conf.broker_url) == "redis://localhost:6379/0"


def test_broker_and_result_backend_are_not_confused():
    settings = Settings(broker_url="amqp://mq:5672//", result_backend="redis://cache:6379/1")
    app = make_celery_app(settings)
    assert app.conf.broker_url == "amqp://mq:5672//"
    assert app.conf.result_backend == "redis://cache:6379/1"


def test_each_app_keeps_the_result_backend_its_own_settings_name():
    first = make_celery_app(Settings(result_backend="redis://cache-a:6379/1"))
    second = make_celery_app(Settings(result_backend="redis://cache-b:6380/2"))
    memory = make_celery_app(Settings(result_backend="cache+memory://"))
    assert type(first.backend) is type(second.backend)
    assert (first.backend.connparams["host"], first.backend.connparams["port"]) == ("cache-a", 6379)
    assert (second.backend.connparams["host"], second.backend.connparams["db"]) == ("cache-b", 2)
    assert type(memory.backend).__name__ == "CacheBackend"
    assert first.backend.app is first and second.backend.app is second


def test_run_job_task_is_registered_under_its_explicit_name():
    app = make_celery_app(Settings(broker_url="memory://"))
    assert RUN_JOB == "training.run_job"
    assert app.tasks[RUN_JOB].name == "training.run_job"


def test_task_runs_the_configured_runner_with_the_job_id():
    seen = []
    settings = Settings(broker_url="memory://", task_always_eager=True)
    app = make_celery_app(settings, runner=lambda job_id: seen.append(job_id) or "succeeded")
    result = app.tasks[RUN_JOB].delay("job-1")
    assert result.get() == "succeeded"
    assert seen == ["job-1"]


def test_a_job_that_crashes_inline_fails_the_request_that_queued_it():
    # Run inline, a crash must reach the API, which marks the job failed and answers 503.
    def crash(job_id):
        raise RuntimeError(f"disk full while training {job_id}")

    app = make_celery_app(Settings(broker_url="memory://", task_always_eager=True), runner=crash)
    with pytest.raises(RuntimeError, match="disk full while training job-1"):
        dispatch_run_job(app, "job-1")
