"""Held-out: database URLs and keyless spreading on other credentials, hosts and partitions."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from services.django_project.databases import database_settings, env_var_for
from shared.infra_settings import sqlalchemy_url
from tests.utils.events import make_memory_bus

pytestmark = pytest.mark.registry


def test_experiments_database_credentials_match_what_sqlalchemy_reads(tmp_path):
    for url in [
        "postgres://svc+experiments:p%2Bw+x@10.0.0.7:6543/experiments_db",
        "pgsql://runs:a+b%20c+@db.internal:15432/experiments_db",
    ]:
        entry = database_settings({env_var_for("experiments_db"): url}, tmp_path)["experiments_db"]
        expected = make_url(sqlalchemy_url(url))
        got = (entry["USER"], entry["PASSWORD"], entry["HOST"], entry["PORT"], entry["NAME"])
        assert got == (
            expected.username,
            expected.password,
            expected.host,
            str(expected.port),
            expected.database,
        )


def test_keyless_records_cycle_through_five_partitions():
    bus = make_memory_bus()
    bus.create_topic("metrics", partitions=5)
    partitions = [bus.publish("metrics", {"i": i}).partition for i in range(11)]
    assert partitions == [i % 5 for i in range(11)]
