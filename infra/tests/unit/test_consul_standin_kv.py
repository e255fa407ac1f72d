"""The Consul stand-in's KV API, through raw HTTP and through py-consul."""

from __future__ import annotations

import base64

import pytest

from infra.consul.durations import parse_duration


def test_kv_put_then_get_round_trips_bytes_through_py_consul(client):
    assert client.kv.put("config/models/threshold", b"0.75") is True
    index, entry = client.kv.get("config/models/threshold")
    assert entry["Value"] == b"0.75"
    assert entry["Key"] == "config/models/threshold"
    assert int(index) >= entry["ModifyIndex"]


def test_kv_get_of_missing_key_is_none_with_an_index(client):
    index, entry = client.kv.get("absent/key")
    assert entry is None
    assert int(index) > 0


def test_kv_json_carries_base64_value_and_indexes(http):
    http.put("/v1/kv/a/b", content=b"\x00\xffbinary")
    response = http.get("/v1/kv/a/b")
    assert response.status_code == 200
    [entry] = response.json()
    assert base64.b64decode(entry["Value"]) == b"\x00\xffbinary"
    assert entry["CreateIndex"] == entry["ModifyIndex"]
    assert set(entry) == {"LockIndex", "Key", "Flags", "Value", "CreateIndex", "ModifyIndex"}
    assert int(response.headers["X-Consul-Index"]) >= entry["ModifyIndex"]


def test_kv_raw_answers_the_stored_bytes(http):
    http.put("/v1/kv/raw/key", content=b"plain value")
    response = http.get("/v1/kv/raw/key?raw")
    assert response.content == b"plain value"


def test_kv_empty_value_reads_back_as_null(client):
    client.kv.put("folder/", None)
    _, entry = client.kv.get("folder/")
    assert entry["Value"] is None


def test_kv_recurse_lists_every_key_under_the_prefix_in_order(client):
    for key in ("svc/b", "svc/a", "svc/c/d", "other/x"):
        client.kv.put(key, key.encode())
    _, entries = client.kv.get("svc/", recurse=True)
    assert [e["Key"] for e in entries] == ["svc/a", "svc/b", "svc/c/d"]
    assert entries[0]["Value"] == b"svc/a"


def test_kv_keys_with_separator_folds_sub_folders(client):
    for key in ("app/a", "app/b/x", "app/b/y", "app/c"):
        client.kv.put(key, b"1")
    _, keys = client.kv.get("app/", keys=True, separator="/")
    assert keys == ["app/a", "app/b/", "app/c"]


def test_kv_cas_zero_writes_only_when_the_key_is_absent(client):
    assert client.kv.put("lock/leader", b"one", cas=0) is True
    assert client.kv.put("lock/leader", b"two", cas=0) is False
    assert client.kv.get("lock/leader")[1]["Value"] == b"one"


def test_kv_cas_with_a_stale_index_is_refused(client):
    client.kv.put("counter", b"1")
    _, first = client.kv.get("counter")
    assert client.kv.put("counter", b"2", cas=first["ModifyIndex"]) is True
    assert client.kv.put("counter", b"3", cas=first["ModifyIndex"]) is False
    _, now = client.kv.get("counter")
    assert now["Value"] == b"2"
    assert now["CreateIndex"] == first["CreateIndex"] < now["ModifyIndex"]


def test_kv_flags_round_trip(client):
    client.kv.put("flagged", b"v", flags=42)
    assert client.kv.get("flagged")[1]["Flags"] == 42


def test_kv_delete_recurse_removes_only_the_prefix(client):
    for key in ("tmp/a", "tmp/b", "keep/c"):
        client.kv.put(key, b"1")
    assert client.kv.delete("tmp/", recurse=True) is True
    assert client.kv.get("tmp/", recurse=True)[1] is None
    assert client.kv.get("keep/c")[1]["Value"] == b"1"


def test_kv_delete_with_a_mismatched_cas_keeps_the_key(client):
    client.kv.put("guarded", b"1")
    _, entry = client.kv.get("guarded")
    assert client.kv.delete("guarded", cas=entry["ModifyIndex"] + 1) is False
    assert client.kv.get("guarded")[1] is not None
    assert client.kv.delete("guarded", cas=entry["ModifyIndex"]) is True
    assert client.kv.get("guarded")[1] is None


def test_blocking_query_behind_the_index_answers_at_once(client):
    client.kv.put("watched", b"1")
    index, entry = client.kv.get("watched", index=1, wait="5m")
    assert entry["Value"] == b"1" and int(index) > 1


def test_session_locks_are_refused_rather_than_ignored(http):
    response = http.put("/v1/kv/locked?acquire=abc", content=b"x")
    assert response.status_code == 400


def test_filter_expressions_are_refused_rather_than_ignored(http):
    assert http.get("/v1/catalog/services?filter=Service==web").status_code == 400


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10s", 10.0), ("1m30s", 90.0), ("250ms", 0.25), ("1h", 3600.0), (5_000_000_000, 5.0)],
)
def test_parse_duration_reads_go_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


def test_parse_duration_rejects_garbage():
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration("ten seconds")
