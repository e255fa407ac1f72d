"""Contract suites of the infrastructure ports, run against every implementation.

Subclass a suite and provide its fixtures: the scored suite does it with the in-memory
adapters, the infrastructure lane (infra/tests/live) with the real servers.
"""

from __future__ import annotations

import hashlib
import io

import pytest

from shared.clients.consul import ConsulDiscovery
from shared.errors import ServiceUnavailableError, ValidationError
from shared.search.base import DocumentNotFoundError, IndexNotFoundError, mapping_problems
from shared.search.bootstrap import ensure_index
from shared.search.mappings import EXPERIMENTS_INDEX, MODELS_INDEX
from shared.storage.base import MIN_PART_SIZE, BucketNotFoundError, ObjectNotFoundError
from tests.utils.infra import model_document, payload


class ObjectStoreContract:
    """Needs fixtures `store` (an ObjectStore) and `bucket` (an existing, empty bucket)."""

    def test_put_then_get_round_trips_bytes_and_records_sha256(self, store, bucket):
        data = payload(1000)
        info = store.put(bucket, "models/iris/model.npz", data)
        assert info.sha256 == hashlib.sha256(data).hexdigest()
        assert info.size == 1000
        assert store.get(bucket, "models/iris/model.npz") == data

    def test_stat_reports_size_etag_and_checksum(self, store, bucket):
        data = payload(2048, seed=3)
        store.put(bucket, "a.bin", data, content_type="application/x-npz")
        info = store.stat(bucket, "a.bin")
        assert (info.size, info.etag) == (2048, hashlib.md5(data).hexdigest())
        assert info.sha256 == hashlib.sha256(data).hexdigest()
        assert info.content_type == "application/x-npz"

    def test_large_object_is_uploaded_in_parts_and_verified_on_download(self, store, bucket):
        data = payload(2 * MIN_PART_SIZE + 1234)
        info = store.put(bucket, "datasets/big.bin", data, part_size=MIN_PART_SIZE)
        assert info.parts == 3 and info.etag.endswith("-3")
        assert store.stat(bucket, "datasets/big.bin").sha256 == hashlib.sha256(data).hexdigest()
        assert store.get(bucket, "datasets/big.bin") == data

    def test_object_of_exactly_one_part_is_uploaded_whole(self, store, bucket):
        info = store.put(bucket, "one.bin", payload(MIN_PART_SIZE), part_size=MIN_PART_SIZE)
        assert info.parts == 1 and "-" not in info.etag

    def test_file_objects_are_hashed_and_uploaded_from_their_position(self, store, bucket):
        stream = io.BytesIO(b"header|" + payload(300))
        stream.seek(7)
        info = store.put(bucket, "tail.bin", stream)
        assert info.size == 300
        assert store.get(bucket, "tail.bin") == payload(300)

    def test_list_returns_objects_under_a_prefix_sorted_by_name(self, store, bucket):
        for name in ("runs/b.json", "runs/a.json", "other/c.json"):
            store.put(bucket, name, name.encode())
        listed = store.list(bucket, prefix="runs/")
        assert [(o.name, o.size) for o in listed] == [("runs/a.json", 11), ("runs/b.json", 11)]

    def test_delete_removes_the_object_and_repeats_harmlessly(self, store, bucket):
        store.put(bucket, "gone.bin", b"x")
        store.delete(bucket, "gone.bin")
        store.delete(bucket, "gone.bin")
        with pytest.raises(ObjectNotFoundError):
            store.stat(bucket, "gone.bin")

    def test_missing_object_raises_not_found(self, store, bucket):
        with pytest.raises(ObjectNotFoundError) as info:
            store.get(bucket, "never/written.bin")
        assert info.value.status_code == 404

    def test_missing_bucket_raises_bucket_not_found(self, store, bucket):
        with pytest.raises(BucketNotFoundError):
            store.put(bucket + "-missing", "a.bin", b"x")

    def test_ensure_bucket_reports_creation_once(self, store, bucket):
        assert store.ensure_bucket(bucket) is False
        assert store.bucket_exists(bucket)


class SearchIndexContract:
    """Needs fixtures `search` (a SearchIndex) and `prefix` (unique index-name prefix)."""

    @pytest.fixture
    def models(self, search, prefix):
        ensure_index(search, MODELS_INDEX, prefix)
        name = prefix + MODELS_INDEX.name
        search.index(name, "1", model_document("churn-model", tags=["retention"]))
        search.index(name, "2", model_document("fraud-model", created_at="2024-03-11T00:00:00Z"))
        search.index(
            name,
            "3",
            model_document(
                "Fraud-Model-v2", description="Card FRAUD scorer", created_at="2024-03-10T09:00:00Z"
            ),
        )
        yield name
        search.delete_index(name)

    def test_bootstrapped_index_has_the_strict_explicit_mapping(self, search, models):
        mapping = search.get_mapping(models)
        assert mapping_problems(MODELS_INDEX.mappings, mapping) == []
        assert mapping["dynamic"] == "strict"

    def test_keyword_field_matches_only_the_whole_value(self, search, models):
        assert search.search(models, {"term": {"name": "fraud-model"}}).ids == ["2"]
        assert search.search(models, {"match": {"name": "fraud"}}).total == 0

    def test_text_field_matches_words_in_any_case(self, search, models):
        found = search.search(models, {"match": {"description": "FRAUD scorer"}})
        assert sorted(found.ids) == ["1", "2", "3"]
        assert found.total == 3
        both = {"match": {"description": {"query": "fraud SCORER", "operator": "and"}}}
        assert search.search(models, both).ids == ["3"]

    def test_term_query_on_a_text_field_is_not_analysed(self, search, models):
        assert search.search(models, {"term": {"description": "Card"}}).total == 0
        assert search.search(models, {"term": {"description": "card"}}).total == 3

    def test_tags_match_any_element_exactly(self, search, models):
        found = search.search(models, {"term": {"tags": "fraud"}})
        assert sorted(found.ids) == ["2", "3"]
        assert search.search(models, {"term": {"tags": "Fraud"}}).total == 0

    def test_unknown_field_is_refused_by_the_strict_mapping(self, search, models):
        with pytest.raises(ValidationError):
            search.index(models, "9", model_document("x-model", stage="Production"))
        with pytest.raises(DocumentNotFoundError):
            search.get(models, "9")

    def test_malformed_date_is_refused(self, search, models):
        with pytest.raises(ValidationError):
            search.index(models, "9", model_document("x-model", created_at="last tuesday"))

    def test_date_range_and_sort_use_the_date_type(self, search, models):
        query = {"range": {"created_at": {"gte": "2024-03-10T12:00:00Z"}}}
        assert search.search(models, query).ids == ["2"]
        newest_first = search.search(models, sort=["-created_at"])
        assert newest_first.ids == ["2", "3", "1"]

    def test_documents_without_the_sort_field_come_last_in_either_direction(self, search, models):
        unowned = model_document("orphan-model")
        del unowned["owner"]
        search.index(models, "0", unowned)
        search.index(models, "1", model_document("churn-model", owner="growth"))
        assert search.search(models, sort=["owner"]).ids[-1] == "0"
        assert search.search(models, sort=["-owner"]).ids[-1] == "0"
        assert search.search(models, sort=["owner"]).ids[0] == "1"

    def test_should_clauses_alone_need_one_of_them_to_match(self, search, models):
        either = [{"term": {"name": "fraud-model"}}, {"term": {"owner": "nobody"}}]
        assert search.search(models, {"bool": {"should": either}}).ids == ["2"]
        only_exclusion = {"bool": {"must_not": [{"term": {"name": "fraud-model"}}]}}
        assert sorted(search.search(models, only_exclusion).ids) == ["1", "3"]

    def test_document_ids_are_accepted_up_to_512_bytes(self, search, models):
        longest = "d" * 512
        search.index(models, longest, model_document("long-id-model"))
        assert search.get(models, longest)["name"] == "long-id-model"
        with pytest.raises(ValidationError):
            search.index(models, longest + "d", model_document("too-long-id-model"))

    def test_bool_query_combines_filters_and_exclusions(self, search, models):
        query = {
            "bool": {
                "filter": [{"term": {"task": "classification"}}],
                "must": [{"match": {"description": "fraud"}}],
                "must_not": [{"term": {"name": "fraud-model"}}],
            }
        }
        assert sorted(search.search(models, query).ids) == ["1", "3"]

    def test_documents_are_fetched_replaced_and_deleted_by_id(self, search, models):
        search.index(models, "1", model_document("churn-model", owner="growth"))
        assert search.get(models, "1")["owner"] == "growth"
        assert search.delete(models, "1") is True
        assert search.delete(models, "1") is False
        assert search.search(models).total == 2

    def test_search_on_a_missing_index_raises_not_found(self, search, prefix):
        with pytest.raises(IndexNotFoundError):
            search.search(prefix + "nowhere")

    def test_numeric_fields_compare_as_numbers(self, search, prefix):
        ensure_index(search, EXPERIMENTS_INDEX, prefix)
        name = prefix + EXPERIMENTS_INDEX.name
        try:
            for run, score in (("r1", 9.5), ("r2", 10.25), ("r3", 100.0)):
                search.index(name, run, {"run_id": run, "score": score, "epochs": 3})
            found = search.search(name, {"range": {"score": {"gt": 9.75}}}, sort=["-score"])
            assert found.ids == ["r3", "r2"]
        finally:
            search.delete_index(name)

    def test_an_index_without_mapping_types_strings_as_text(self, search, prefix):
        name = prefix + "scratch"
        search.create_index(name)
        try:
            search.index(name, "1", {"name": "churn-model", "runs": 3})
            properties = search.get_mapping(name)["properties"]
            assert properties["name"]["type"] == "text"
            assert properties["name"]["fields"]["keyword"]["type"] == "keyword"
            assert properties["runs"]["type"] == "long"
            assert search.search(name, {"term": {"name": "churn-model"}}).total == 0
            assert search.search(name, {"term": {"name.keyword": "churn-model"}}).total == 1
        finally:
            search.delete_index(name)


class CacheContract:
    """Needs fixtures `cache` (a Cache) and `wait(seconds)` (lets that much time pass)."""

    def test_missing_key_reads_as_none(self, cache):
        assert cache.get("never-set") is None

    def test_set_then_get_returns_the_string(self, cache):
        cache.set("model:iris", "v3")
        assert cache.get("model:iris") == "v3"
        assert isinstance(cache.get("model:iris"), str)

    def test_value_expires_after_its_ttl(self, cache, wait):
        cache.set("short", "1", ttl=0.2)
        assert cache.get("short") == "1"
        assert 0 < cache.ttl("short") <= 0.2
        wait(0.25)
        assert cache.get("short") is None

    def test_add_stores_only_when_the_key_is_absent(self, cache):
        assert cache.add("once", "first") is True
        assert cache.add("once", "second") is False
        assert cache.get("once") == "first"

    def test_incr_counts_from_zero_and_keeps_the_ttl(self, cache):
        assert cache.incr("hits") == 1
        assert cache.incr("hits", 5) == 6
        cache.set("window", "10", ttl=60)
        assert cache.incr("window") == 11
        assert cache.ttl("window") is not None

    def test_incr_on_a_non_integer_is_refused(self, cache):
        cache.set("name", "iris")
        with pytest.raises(ValidationError):
            cache.incr("name")
        assert cache.get("name") == "iris"

    def test_delete_reports_whether_the_key_existed(self, cache):
        cache.set("k", "v")
        assert cache.delete("k") is True
        assert cache.delete("k") is False
        assert cache.ttl("k") is None

    def test_many_keys_are_read_at_once_with_none_for_missing_and_expired_ones(self, cache, wait):
        cache.set("a", "1")
        cache.set("short", "2", ttl=0.2)
        cache.set_json("cfg", {"x": [1, 2]})
        wait(0.25)
        assert cache.get_many(["a", "never-set", "short", "a"]) == {
            "a": "1",
            "never-set": None,
            "short": None,
        }
        assert cache.get_many([]) == {}
        assert cache.get_many_json(["cfg", "gone"]) == {"cfg": {"x": [1, 2]}, "gone": None}
        with pytest.raises(ValidationError):
            cache.get_many(["a", "has space"])

    def test_json_values_round_trip(self, cache):
        cache.set_json("cfg", {"b": [1, 2.5], "a": None})
        assert cache.get_json("cfg") == {"a": None, "b": [1, 2.5]}

    def test_bad_keys_and_ttls_are_refused(self, cache):
        for call in (
            lambda: cache.set("has space", "v"),
            lambda: cache.set("k", "v", ttl=0),
            lambda: cache.set("k", 3),
        ):
            with pytest.raises(ValidationError):
                call()


class ServiceRegistryContract:
    """Needs fixtures `registry` and `instance(n)` → the n-th healthy instance of one service."""

    def test_registered_instance_is_discovered_with_its_address(self, registry, instance):
        first = instance(0)
        registry.register(first)
        [found] = registry.healthy_instances(first.service)
        assert (found.service_id, found.address, found.port) == (
            first.service_id,
            first.host,
            first.port,
        )

    def test_two_instances_on_one_host_are_both_listed(self, registry, instance):
        first, second = instance(0), instance(1)
        registry.register(first)
        registry.register(second)
        found = registry.healthy_instances(first.service)
        assert sorted(i.port for i in found) == sorted([first.port, second.port])

    def test_deregistered_instance_disappears(self, registry, instance):
        first, second = instance(0), instance(1)
        registry.register(first)
        registry.register(second)
        registry.deregister(first.service_id)
        assert [i.port for i in registry.healthy_instances(first.service)] == [second.port]

    def test_tags_filter_the_instances(self, registry, instance):
        canary = instance(0, tags=("canary", "v2"))
        registry.register(canary)
        registry.register(instance(1, tags=("v1",)))
        assert [i.port for i in registry.healthy_instances(canary.service, tag="canary")] == [
            canary.port
        ]

    def test_discovery_rotates_between_healthy_instances(self, registry, instance):
        first, second = instance(0), instance(1)
        registry.register(first)
        registry.register(second)
        discovery = ConsulDiscovery(registry)
        urls = {discovery.resolve(first.service) for _ in range(4)}
        assert urls == {f"http://{first.host}:{first.port}", f"http://{second.host}:{second.port}"}

    def test_discovery_without_instances_is_unavailable(self, registry, instance):
        with pytest.raises(ServiceUnavailableError):
            ConsulDiscovery(registry).resolve(instance(0).service)

    def test_kv_values_are_written_read_and_deleted(self, registry, kv_prefix):
        key = kv_prefix + "flags/shadow-mode"
        assert registry.kv_get(key) is None
        assert registry.kv_put(key, "on") is True
        assert registry.kv_get(key) == "on"
        registry.kv_delete(key)
        assert registry.kv_get(key) is None

    def test_kv_put_only_if_absent_keeps_the_existing_value(self, registry, kv_prefix):
        key = kv_prefix + "defaults/batch"
        assert registry.kv_put(key, "32", only_if_absent=True) is True
        assert registry.kv_put(key, "64", only_if_absent=True) is False
        assert registry.kv_get(key) == "32"
