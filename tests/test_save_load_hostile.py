"""Loading a corrupt or hostile file is a ``ValueError`` naming the path and what is wrong,
before any large allocation: not a zip, truncated, members that disagree with the document,
pickles, forged ``.npy`` headers, zip bombs, huge or deep JSON, future versions, and specs
that would not build (wrong weight shapes, NaN weights, hostile geometry, unknown kinds)."""

from __future__ import annotations

import copy
import io
import json
import math
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassbox as gb
from conftest import ARCH_BY_NAME, make_data, make_spec
from glassbox import saving

DOC = saving.DOCUMENT


def npy(array: Any, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def saved_model(path: Path) -> Path:
    gb.build_network(make_spec(ARCH_BY_NAME["relu"]), feature_names=list("abcde")).save(path)
    return path


def parts(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The document and the raw members of a saved file."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(members.pop(DOC)), members


def write_zip(
    path: Path,
    document: Any,
    members: dict[str, bytes],
    compression: int = zipfile.ZIP_STORED,
) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        if document is not None:
            text = document if isinstance(document, bytes) else json.dumps(document).encode()
            archive.writestr(DOC, text)
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def load_error(path: Path, match: str) -> str:
    """The ValueError of loading ``path``: it names the path and matches ``match``."""
    with pytest.raises(ValueError, match=match) as info:
        gb.load(path)
    assert str(path) in str(info.value)
    return str(info.value)


@pytest.fixture
def model_file(tmp_path: Path) -> tuple[Path, dict[str, Any], dict[str, bytes]]:
    path = saved_model(tmp_path / "good")
    document, members = parts(path)
    return tmp_path / "bad", document, members


def test_missing_not_a_zip_and_truncated(tmp_path: Path) -> None:
    load_error(tmp_path / "nothing", "no glassbox file .* does not exist")
    load_error(tmp_path, r"no glassbox file .*\(not a regular file\)")
    os.mkfifo(tmp_path / "fifo")  # would block a reader
    load_error(tmp_path / "fifo", "not a regular file")
    (tmp_path / "text").write_bytes(b"hello, not a zip")
    load_error(tmp_path / "text", "not a readable zip archive")
    full = saved_model(tmp_path / "good").read_bytes()
    for cut in (len(full) // 2, len(full) - 10, 30):
        (tmp_path / "cut").write_bytes(full[:cut])
        load_error(tmp_path / "cut", "not a valid glassbox file")


def test_a_plain_npz_has_no_document(tmp_path: Path) -> None:
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    load_error(tmp_path / "plain.npz", "no 'glassbox.json' member .*plain .npz")


def test_bad_documents(model_file: tuple[Path, dict[str, Any], dict[str, bytes]]) -> None:
    path, document, members = model_file
    write_zip(path, b"[1, 2]", members)
    load_error(path, "must be a JSON object")
    write_zip(path, b"\xff\xfe{", members)
    load_error(path, "not UTF-8")
    write_zip(path, b"{not json", members)
    load_error(path, "not a valid glassbox file")
    write_zip(path, {**document, "format": "numpy.thing"}, members)
    load_error(path, "'numpy.thing' is not a glassbox format")
    write_zip(path, {**document, "version": 2}, members)
    load_error(path, "newer glassbox \\(format version 2\\); this glassbox reads version 1")
    for version in (0, "1", 1.0, None):
        write_zip(path, {**document, "version": version}, members)
        load_error(path, "version must be a positive int")
    write_zip(path, {**document, "extra": 1}, members)
    load_error(path, "keys")


def test_members_must_match_the_document(
    model_file: tuple[Path, dict[str, Any], dict[str, bytes]],
) -> None:
    path, document, members = model_file
    write_zip(path, document, {**members, "evil.npy": npy(np.zeros(2))})
    load_error(path, r"extra: \['evil.npy'\]")
    write_zip(path, document, {k: v for k, v in members.items() if k != "arrays/1.npy"})
    load_error(path, r"missing: \['arrays/1.npy'\]")
    write_zip(path, {**document, "arrays": 10**9}, members)
    load_error(path, "arrays must be the number of array members")
    write_zip(path, document, {**members, "arrays/0.npy": b"not an npy file"})
    load_error(path, "not a valid glassbox file")
    twice = json.loads(json.dumps(document))
    weights = twice["content"]["spec"]["layers"][0]["weights"]
    weights["bias"] = weights["weight"]
    write_zip(path, twice, members)
    load_error(path, "referred to twice")


def test_a_pickled_object_array_is_refused(
    model_file: tuple[Path, dict[str, Any], dict[str, bytes]],
) -> None:
    path, document, members = model_file
    evil = np.array([{"a": 1}, None], dtype=object)
    write_zip(path, document, {**members, "arrays/0.npy": npy(evil, allow_pickle=True)})
    load_error(path, "holds object values .*pickle")


def test_a_forged_header_is_refused_before_reading(
    model_file: tuple[Path, dict[str, Any], dict[str, bytes]],
) -> None:
    path, document, members = model_file
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (2**40,)}
    )
    write_zip(path, document, {**members, "arrays/0.npy": header.getvalue() + b"\0" * 64})
    load_error(path, r"declares \(1099511627776,\) float32 .* holds \d+ bytes")
    short = npy(np.zeros((16, 5), np.float32))[:-8]
    write_zip(path, document, {**members, "arrays/0.npy": short})
    load_error(path, "declares .* holds")


def test_a_zip_bomb_is_refused_from_the_sizes_alone(
    model_file: tuple[Path, dict[str, Any], dict[str, bytes]],
) -> None:
    path, document, members = model_file
    n = 100 << 20  # 100 MB of zeros deflate to ~100 kB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(DOC, json.dumps(document))
        for name, data in members.items():
            if name != "arrays/0.npy":
                archive.writestr(name, data)
        with archive.open("arrays/0.npy", "w") as member:
            np.lib.format.write_array_header_1_0(
                member, {"descr": "<f4", "fortran_order": False, "shape": (n // 4,)}
            )
            for _ in range(n >> 20):
                member.write(bytes(1 << 20))
    assert path.stat().st_size < n // 100
    load_error(path, r"would inflate to \d+ bytes from \d+ bytes on disk \(more than 16x\)")


def test_huge_or_deep_json_is_refused(
    model_file: tuple[Path, dict[str, Any], dict[str, bytes]],
) -> None:
    path, document, members = model_file
    deep = b'{"format": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    write_zip(path, deep, members)
    load_error(path, "nests too deep")
    nested: Any = 1
    for _ in range(200):
        nested = [nested]
    write_zip(path, {**document, "content": {**document["content"], "x": nested}}, members)
    load_error(path, "nests deeper than 64 levels")
    padded = json.dumps(document).encode() + b" " * (40 << 20)  # 40 MB: under the zip-bomb rule
    write_zip(path, padded, members, zipfile.ZIP_DEFLATED)
    load_error(path, "glassbox.json member is over")


def _edit(document: dict[str, Any], layer: int, key: str, value: Any) -> dict[str, Any]:
    edited = json.loads(json.dumps(document))
    edited["content"]["spec"]["layers"][layer][key] = value
    return edited


def test_specs_that_would_not_build(
    model_file: tuple[Path, dict[str, Any], dict[str, bytes]],
) -> None:
    path, document, members = model_file
    write_zip(path, document, {**members, "arrays/0.npy": npy(np.ones((16, 6), np.float32))})
    load_error(
        path, r"layer 'fc0': dense: expects 6 input features on the last axis, got shape \(5,\)"
    )
    nan = np.ones((16, 5), np.float32)
    nan[3, 2] = np.nan
    write_zip(path, document, {**members, "arrays/0.npy": npy(nan)})
    load_error(path, "holds NaN or infinite values")
    write_zip(path, document, {**members, "arrays/0.npy": npy(np.array(["a"] * 80))})
    load_error(path, "must be a numeric NumPy array")
    write_zip(path, _edit(document, 1, "kind", "teleport"), members)
    load_error(path, "unknown kind 'teleport'")
    write_zip(path, _edit(document, 1, "inputs", [5]), members)
    load_error(path, "inputs must be a non-empty list")
    write_zip(path, _edit(document, 1, "params", {"slope": {"x": 1}}), members)
    load_error(path, "params must map names to numbers")
    huge = json.loads(json.dumps(document))
    huge["content"]["spec"]["input_shape"] = [2**40]
    write_zip(path, huge, members)
    load_error(path, "input_shape")
    names = json.loads(json.dumps(document))
    names["content"]["state"]["feature_names"] = ["a"]
    write_zip(path, names, members)
    load_error(path, "feature_names: expected 5 names, got 1")
    names["content"]["state"]["factory"] = "os.system"
    write_zip(path, names, members)
    load_error(path, "must not hold 'spec' or 'factory'")


def test_hostile_conv_geometry(tmp_path: Path) -> None:
    spec = gb.NetworkSpec(input_shape=(1, 4, 4))
    spec.add("conv2d", "conv", weight=np.ones((1, 1, 2, 2)), bias=None)
    gb.build_network(spec).save(tmp_path / "good")
    document, members = parts(tmp_path / "good")
    for params in (
        {"stride": [0, 0]},
        {"padding": [2**40, 0, 0, 0]},
        {"dilation": [-(2**63), 1]},
        {"padding": [2**14, 2**14, 2**14, 2**14]},
    ):
        path = write_zip(tmp_path / "bad", _edit(document, 0, "params", params), members)
        load_error(path, "layer 'conv'")


def test_explanations_are_checked_too(tmp_path: Path) -> None:
    exp = gb.Explanation(values=np.ones((2, 3)), data=np.zeros((2, 3)), feature_names=list("abc"))
    exp.save(tmp_path / "good")
    document, members = parts(tmp_path / "good")
    for key, value in [("feature_names", [[1], 2]), ("method", 3), ("single_row", "yes")]:
        edited = json.loads(json.dumps(document))
        edited["content"][key] = value
        path = write_zip(tmp_path / "bad", edited, members)
        load_error(path, f"field '{key}' has an invalid value")
    edited = json.loads(json.dumps(document))
    edited["content"]["__class__"] = "os.system"
    load_error(write_zip(tmp_path / "bad", edited, members), "unknown field")
    edited = json.loads(json.dumps(document))
    edited["content"]["options"] = {"x": {"__glassbox__": "eval", "text": "1"}}
    load_error(write_zip(tmp_path / "bad", edited, members), "unknown or malformed tagged value")
    edited["content"]["options"] = {"x": {"__glassbox__": "scalar", "dtype": "O", "value": 1}}
    load_error(write_zip(tmp_path / "bad", edited, members), "expected a numeric or text dtype")


NASTY = st.sampled_from(
    [None, -1, 0, 2**31, 2**40, 2**63, -(2**63), 1e308, math.nan, "x", [], {}, [2**40], [-1, -1]]
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a JSON document."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@pytest.fixture(scope="module")
def saved_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A residual CNN and an LRP Explanation of it (layer relevance, a composite in options)."""
    from cnn_nets import resnet_spec

    folder = tmp_path_factory.mktemp("fuzz")
    model = gb.build_network(resnet_spec(input_hw=6))
    model.save(folder / "resnet")
    X = make_data(model.input_shape, n_rows=2)
    gb.LRP(model, "EpsilonPlus")(X, target=1, layers=["add"]).save(folder / "lrp")
    return [folder / "resnet", folder / "lrp"]


def _loads_or_raises(path: Path) -> None:
    """Loading ``path`` gives a working model / an Explanation, or a ValueError naming it."""
    try:
        loaded = gb.load(path)
    except ValueError as error:
        assert str(path) in str(error)
        return
    if isinstance(loaded, gb.NativeModel):
        assert loaded.predict(make_data(loaded.input_shape, n_rows=2)).shape[0] == 2
    else:
        assert isinstance(loaded, gb.Explanation)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_documents_load_or_raise_value_error(
    saved_files: list[Path], tmp_path: Path, data: st.DataObject
) -> None:
    document, members = parts(data.draw(st.sampled_from(saved_files)))
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(_paths(document)[1:]))
        parent = document
        for key in where[:-1]:
            parent = parent[key]
        parent[where[-1]] = copy.deepcopy(data.draw(NASTY))  # NASTY's lists stay as they are
    _loads_or_raises(write_zip(tmp_path / "mutant", document, members))


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupted_bytes_load_or_raise_value_error(
    saved_files: list[Path], tmp_path: Path, data: st.DataObject
) -> None:
    raw = bytearray(data.draw(st.sampled_from(saved_files)).read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    (tmp_path / "corrupt").write_bytes(bytes(raw[: data.draw(st.integers(0, len(raw)))]))
    _loads_or_raises(tmp_path / "corrupt")
