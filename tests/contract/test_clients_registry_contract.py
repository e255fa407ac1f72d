"""The typed registry client: health probes and version records as its callers rely on them."""

from __future__ import annotations

import httpx
import pytest

from shared.clients.base import RetryPolicy, ServiceClient, StaticDiscovery
from shared.clients.registry import RegistryClient
from shared.errors import NotFoundError, UpstreamError
from tests.utils.inference import FakeRegistry

pytestmark = pytest.mark.inference


def client_answering(handler) -> RegistryClient:
    service = ServiceClient(
        "registry",
        discovery=StaticDiscovery({"registry": "http://registry"}),
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_attempts=1),
    )
    return RegistryClient(service)


def test_registry_answering_200_is_healthy():
    assert FakeRegistry(health=[200]).client().is_healthy() is True


@pytest.mark.parametrize("status", [404, 500, 503])
def test_registry_answering_an_error_status_is_not_healthy(status):
    assert FakeRegistry(health=[status]).client().is_healthy() is False


def test_unreachable_registry_is_not_healthy():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    assert client_answering(refuse).is_healthy() is False


def test_get_version_returns_the_registered_record():
    registry = FakeRegistry()
    registry.add("churn", 2, "churn/v2/model.npz", artifact_sha256="ab" * 32)
    record = registry.client().get_version("churn", 2)
    assert record["artifact_uri"] == "churn/v2/model.npz"
    assert record["artifact_sha256"] == "ab" * 32
    assert registry.requests == ["/api/v1/registered-models/churn/versions/2"]


def test_get_version_of_an_unknown_version_is_not_found():
    with pytest.raises(NotFoundError):
        FakeRegistry().client().get_version("churn", 9)


def test_get_version_refuses_a_body_that_is_not_a_record():
    client = client_answering(lambda request: httpx.Response(200, json=[1, 2]))
    with pytest.raises(UpstreamError):
        client.get_version("churn", 1)
