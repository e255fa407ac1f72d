"""Object keys: one spelling per object, never outside the namespace, legitimate names intact.

The keys here are given exactly as the storage route receives them.
"""

from __future__ import annotations

import pytest

from services.storage.keys import InvalidKeyError, object_key

pytestmark = pytest.mark.storage

ENCODED_OR_LOOKALIKE = {
    "percent-encoded-dot-segment": "%2e%2e/secret.npz",
    "percent-encoded-dot-segment-inside": "runs/%2E%2E/%2E%2E/etc/passwd",
    "percent-encoded-backslash": "..%5cwindows%5csystem.ini",
    "percent-encoded-nul": "model.npz%00.txt",
    "fullwidth-dots": "runs/\uff0e\uff0e/secret.npz",
    "fullwidth-solidus": "reports\uff0fq1.csv",
    "two-dot-leader": "\u2025/escape.bin",
    "kelvin-sign": "\u212aelvin/readings.csv",
}


@pytest.mark.parametrize("raw", ENCODED_OR_LOOKALIKE.values(), ids=ENCODED_OR_LOOKALIKE.keys())
def test_lookalike_keys_are_refused(raw):
    with pytest.raises(InvalidKeyError):
        object_key(raw)


@pytest.mark.parametrize("raw", ["churn/model..v2.npz", "runs/a..b/c.npz"])
def test_names_with_dots_inside_a_segment_are_kept_exactly(raw):
    assert object_key(raw) == raw
