import pytest

from shared.services import SERVICES

pytestmark = pytest.mark.training


def test_fifteen_services_have_unique_ports():
    assert len(SERVICES) == 15
    assert len({s.port for s in SERVICES.values()}) == 15
