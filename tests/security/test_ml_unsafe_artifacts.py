"""Hostile model artifacts: embedded code, paths outside the root and tampering are refused."""

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from shared.errors import UnsafeArtifactError, ValidationError
from shared.ml.model_loader import load_model, save_model
from tests.utils.ml import (
    fake_fsync,  # noqa: F401
    logistic_artifact,
)

pytestmark = [pytest.mark.inference, pytest.mark.usefixtures("fake_fsync")]


class Payload:
    """Writes a marker file when unpickled, standing in for arbitrary code execution."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "executed"))


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rewrite(path: Path, entries: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def header_of(entries: dict[str, bytes]) -> dict:
    raw = np.load(io.BytesIO(entries["header.npy"]), allow_pickle=False)
    return json.loads(raw.tobytes())


def with_header(entries: dict[str, bytes], header: dict) -> dict[str, bytes]:
    raw = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    return {**entries, "header.npy": npy_bytes(raw)}


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.npz"
    save_model(logistic_artifact(), path)
    return path


@pytest.fixture
def hostile(tmp_path, saved):
    """A real artifact whose weight entry was replaced by a pickled object array."""
    marker = tmp_path / "pwned.txt"
    header = header_of(members(saved))
    evil = np.empty(1, dtype=object)
    evil[0] = Payload(marker)
    path = tmp_path / "hostile.npz"
    raw = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, header=raw, **{"w/W": evil, "w/b": np.float32(0.25)})
    return path, marker


def test_hostile_payload_is_live_when_unpickled(hostile):
    path, marker = hostile
    with np.load(path, allow_pickle=True) as npz:
        npz["w/W"]
    assert marker.read_text() == "executed"


def test_an_artifact_carrying_code_is_refused_and_the_code_never_runs(hostile):
    path, marker = hostile
    with pytest.raises(UnsafeArtifactError):
        load_model(path)
    assert not marker.exists()


def test_raw_pickle_file_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned.txt"
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(UnsafeArtifactError, match="not an npz"):
        load_model(path)
    assert not marker.exists()


def test_relative_traversal_outside_root_is_refused(tmp_path, saved):
    root = tmp_path / "models"
    root.mkdir()
    with pytest.raises(UnsafeArtifactError, match="outside the allowed root"):
        load_model("../model.npz", root=root)


def test_absolute_path_outside_root_is_refused(tmp_path, saved):
    (tmp_path / "models").mkdir()
    with pytest.raises(UnsafeArtifactError, match="outside the allowed root"):
        load_model(saved, root=tmp_path / "models")


def test_an_artifact_living_outside_the_root_is_refused_however_it_is_reached(tmp_path, saved):
    root = tmp_path / "models"
    root.mkdir()
    (root / "link.npz").symlink_to(saved)
    with pytest.raises(UnsafeArtifactError, match="outside the allowed root"):
        load_model("link.npz", root=root)


def test_save_outside_root_writes_nothing(tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    with pytest.raises(UnsafeArtifactError):
        save_model(logistic_artifact(), "../../escape.npz", root=root)
    assert not (tmp_path.parent / "escape.npz").exists()
    assert list(tmp_path.rglob("*.npz")) == []


def test_path_inside_root_loads(tmp_path):
    root = tmp_path / "models"
    digest = save_model(logistic_artifact(), "team/m.npz", root=root)
    assert load_model("team/m.npz", digest, root=root).kind == "logistic"


def test_tampered_file_fails_the_expected_checksum(saved):
    digest = save_model(logistic_artifact(), saved)
    data = bytearray(saved.read_bytes())
    data[-30] ^= 0xFF
    saved.write_bytes(bytes(data))
    with pytest.raises(UnsafeArtifactError):
        load_model(saved, expected_sha256=digest)


def test_weights_swapped_after_saving_are_refused(saved):
    entries = members(saved)
    entries["w/W.npy"] = npy_bytes(np.ones(3, dtype=np.float32))
    rewrite(saved, entries)
    with pytest.raises(UnsafeArtifactError, match="does not match its header"):
        load_model(saved)


def test_array_shape_differing_from_header_is_refused(saved):
    entries = members(saved)
    header = header_of(entries)
    header["arrays"]["w/W"]["shape"] = [3, 1]
    rewrite(saved, with_header(entries, header))
    with pytest.raises(UnsafeArtifactError, match="does not match its header"):
        load_model(saved)


def test_entry_missing_from_header_is_refused(saved):
    entries = members(saved)
    entries["extra.npy"] = npy_bytes(np.zeros(2, dtype=np.float32))
    rewrite(saved, entries)
    with pytest.raises(UnsafeArtifactError, match="entries do not match"):
        load_model(saved)


def test_string_arrays_are_refused(saved):
    entries = members(saved)
    entries["w/W.npy"] = npy_bytes(np.array(["a", "b", "c"]))
    rewrite(saved, entries)
    with pytest.raises(UnsafeArtifactError, match="disallowed dtype"):
        load_model(saved)


def test_unknown_kind_in_header_is_refused(saved):
    entries = members(saved)
    header = header_of(entries)
    header["kind"] = "forest"
    rewrite(saved, with_header(entries, header))
    with pytest.raises(ValidationError, match="unknown model kind"):
        load_model(saved)


def test_missing_header_is_refused(saved):
    entries = members(saved)
    del entries["header.npy"]
    rewrite(saved, entries)
    with pytest.raises(UnsafeArtifactError, match="no valid header"):
        load_model(saved)
