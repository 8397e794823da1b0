"""Saved files: one reader and one writer for every glassbox file (models and Explanations).

A glassbox file is a zip archive in NumPy's ``.npz`` layout, written uncompressed at exactly the
path given (no suffix added):

- ``glassbox.json``: ``{"format": "glassbox.model" | "glassbox.explanation", "version": 1,
  "glassbox": "<writer's version>", "arrays": <n>, "content": {...}}``;
- ``arrays/0.npy`` ... ``arrays/<n-1>.npy``: the arrays ``content`` refers to, in ``.npy`` format
  (never pickled: ``np.load(path)["arrays/0"]`` reads one).

Inside ``content`` plain JSON stands for itself; values JSON has no word for are tagged objects
``{"__glassbox__": tag, ...}``: ``array`` (``index``: a member), ``objects`` (an object array of
str / int / float / bool / None, as a text array and a kind code array), ``tuple`` (``items``),
``scalar`` (a NumPy scalar: ``dtype``, ``value``), ``ArraySummary`` (``shape``, ``dtype``) and
``repr`` (``text``: an option saved by its repr, loaded as a :class:`SavedObject` that prints
the same).

Files are untrusted input. :func:`read` checks, before reading any array, that the archive is a
zip, that its members are exactly the JSON document and the arrays it announces, that the
members inflate to at most ``MAX_INFLATION`` times the file's size (plus ``INFLATION_SLACK``),
that each ``.npy`` header declares a plain numeric or text dtype (no objects, hence no pickle)
and a shape whose byte size is exactly what the member holds; the document is capped at
``MAX_DOCUMENT_BYTES`` and ``MAX_DEPTH`` levels. Every failure is a ``ValueError`` naming the
path and what is wrong. What the content means (a network spec, an Explanation's fields) is
checked by its owner: a model's spec goes through the same build path as every adapter.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

#: The format version this glassbox writes and the newest it reads.
VERSION: Final = 1
#: Format names by what the file holds.
MODEL: Final = "glassbox.model"
EXPLANATION: Final = "glassbox.explanation"
FORMATS: Final = (MODEL, EXPLANATION)

DOCUMENT: Final = "glassbox.json"
MAX_DOCUMENT_BYTES: Final = 32 << 20
MAX_DEPTH: Final = 64
#: The members may inflate to MAX_INFLATION x the file's size plus INFLATION_SLACK bytes (files
#: glassbox writes are stored, so they inflate by 1x; this bounds what a zip bomb allocates).
MAX_INFLATION: Final = 16
INFLATION_SLACK: Final = 64 << 20
#: Array dtypes a file may hold: bool, integers, floats and fixed-width text.
_DTYPE_KINDS: Final = "biufU"
_TAG: Final = "__glassbox__"
#: Kind codes of the values of an object array (``Explanation.data`` of a mixed DataFrame).
_OBJECT_KINDS: Final = ("str", "int", "float", "bool", "none")


@dataclass(frozen=True)
class SavedObject:
    """An option value saved by its repr (a composite, a rule, a callable: JSON cannot hold it).

    It prints as the original did but is not the original object.

    Examples
    --------
    >>> SavedObject("EpsilonPlus(epsilon=1e-06)")
    EpsilonPlus(epsilon=1e-06)
    """

    text: str

    def __repr__(self) -> str:
        return self.text


def _member(index: int) -> str:
    return f"arrays/{index}.npy"


# ---- Python values <-> JSON ------------------------------------------------------------------


class _Packer:
    """Turns Python values into JSON, moving arrays into ``self.arrays`` (the members)."""

    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []

    def array(self, array: np.ndarray, where: str) -> dict[str, Any]:
        if array.dtype == object:
            text, kinds = _object_columns(array, where)
            return {
                _TAG: "objects",
                "text": self.array(text, where),
                "kinds": self.array(kinds, where),
            }
        if array.dtype.kind not in _DTYPE_KINDS or array.dtype.names is not None:
            raise TypeError(f"{where}: cannot save an array of dtype {array.dtype}")
        self.arrays.append(np.asarray(array))
        return {_TAG: "array", "index": len(self.arrays) - 1}

    def pack(self, value: Any, where: str, lenient: bool = False) -> Any:
        """``value`` as JSON; with ``lenient``, an object JSON cannot hold is kept by its repr
        (else ``TypeError`` naming ``where``)."""
        from glassbox.explainers.base import ArraySummary

        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float)) and type(value) in (int, float):
            return value
        if isinstance(value, np.ndarray):
            return self.array(value, where)
        if isinstance(value, np.generic) and value.dtype.kind in "biuf":
            return {_TAG: "scalar", "dtype": value.dtype.str, "value": value.item()}
        if isinstance(value, list):
            return [self.pack(item, f"{where}[{i}]", lenient) for i, item in enumerate(value)]
        if isinstance(value, tuple) and type(value) is tuple:
            items = [self.pack(item, f"{where}[{i}]", lenient) for i, item in enumerate(value)]
            return {_TAG: "tuple", "items": items}
        if isinstance(value, dict) and all(isinstance(k, str) for k in value) and _TAG not in value:
            return {k: self.pack(item, f"{where}[{k!r}]", lenient) for k, item in value.items()}
        if isinstance(value, ArraySummary):
            return {_TAG: "ArraySummary", "shape": list(value.shape), "dtype": value.dtype}
        if isinstance(value, SavedObject) or lenient:
            return {_TAG: "repr", "text": repr(value)}
        raise TypeError(f"{where}: cannot save a {type(value).__name__} ({value!r})")


def _object_columns(array: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """An object array of str / int / float / bool / None as (text, kind codes), no pickle."""
    text, kinds = [], []
    for index, item in enumerate(array.ravel()):
        if item is None:
            kind, string = "none", ""
        elif isinstance(item, (bool, np.bool_)):
            kind, string = "bool", str(bool(item))
        elif isinstance(item, (int, np.integer)):
            kind, string = "int", str(int(item))
        elif isinstance(item, (float, np.floating)):
            kind, string = "float", repr(float(item))
        elif isinstance(item, str):
            kind, string = "str", item
        else:
            raise TypeError(
                f"{where}: cannot save the {type(item).__name__} {item!r} at flat index {index} "
                "of this object array without pickle; saved files hold str, int, float, bool "
                "and None values (convert the column, e.g. to str, before explaining)"
            )
        text.append(string)
        kinds.append(_OBJECT_KINDS.index(kind))
    shape = array.shape
    return np.array(text, dtype=np.str_).reshape(shape), np.array(kinds, np.uint8).reshape(shape)


class _Unpacker:
    """Turns the JSON of a file back into Python values, each array member used exactly once."""

    def __init__(self, arrays: list[np.ndarray]) -> None:
        self.arrays = arrays
        self.used: set[int] = set()

    def array(self, ref: Any) -> np.ndarray:
        index = ref.get("index") if isinstance(ref, dict) and ref.get(_TAG) == "array" else None
        if type(index) is not int or not 0 <= index < len(self.arrays):
            raise ValueError(f"an array reference must name a member, got {ref!r:.80}")
        if index in self.used:
            raise ValueError(f"member {_member(index)!r} is referred to twice")
        self.used.add(index)
        return self.arrays[index]

    def unpack(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise ValueError(f"the document nests deeper than {MAX_DEPTH} levels")
        if isinstance(value, list):
            return [self.unpack(item, depth + 1) for item in value]
        if not isinstance(value, dict):
            return value
        if _TAG not in value:
            return {key: self.unpack(item, depth + 1) for key, item in value.items()}
        return self._tagged(value, depth)

    def _tagged(self, value: dict[str, Any], depth: int) -> Any:
        from glassbox.explainers.base import ArraySummary

        tag, fields = value[_TAG], {key for key in value if key != _TAG}
        expected = {
            "array": {"index"},
            "objects": {"text", "kinds"},
            "tuple": {"items"},
            "scalar": {"dtype", "value"},
            "ArraySummary": {"shape", "dtype"},
            "repr": {"text"},
        }
        if not isinstance(tag, str) or expected.get(tag) != fields:
            raise ValueError(f"unknown or malformed tagged value {value!r:.80}")
        if tag == "array":
            return self.array(value)
        if tag == "objects":
            return _object_array(self.array(value["text"]), self.array(value["kinds"]))
        if tag == "tuple" and isinstance(value["items"], list):
            return tuple(self.unpack(value["items"], depth + 1))
        if tag == "scalar" and isinstance(value["value"], (bool, int, float)):
            return _dtype(value["dtype"]).type(value["value"])
        if tag == "ArraySummary" and _is_shape(value["shape"]) and isinstance(value["dtype"], str):
            return ArraySummary(tuple(value["shape"]), value["dtype"])
        if tag == "repr" and isinstance(value["text"], str):
            return SavedObject(value["text"])
        raise ValueError(f"malformed {tag} value {value!r:.80}")


def _object_array(text: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    if text.dtype.kind != "U" or kinds.dtype != np.uint8 or text.shape != kinds.shape:
        raise ValueError("an object array needs a text member and a uint8 member of one shape")
    if np.any(kinds >= len(_OBJECT_KINDS)):
        raise ValueError(f"object array kind codes must be below {len(_OBJECT_KINDS)}")
    parse = (str, int, float, lambda s: s == "True", lambda s: None)
    out = np.empty(text.shape, dtype=object)
    flat = out.reshape(-1)
    for index, (string, kind) in enumerate(zip(text.ravel(), kinds.ravel(), strict=True)):
        flat[index] = parse[kind](str(string))
    return out


def _is_shape(value: Any) -> bool:
    return isinstance(value, list) and all(type(d) is int and d >= 0 for d in value)


def _dtype(text: Any) -> np.dtype:
    """A plain numeric / text dtype from its ``str`` (``'<f4'``); nothing that holds objects."""
    if not isinstance(text, str) or not re.fullmatch(r"[<>|=]?[biufU]\d{1,4}", text):
        raise ValueError(f"expected a numeric or text dtype, got {text!r:.40}")
    return np.dtype(text)


# ---- the archive -------------------------------------------------------------------------------


def _path(path: Any) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"path: expected a file path (str or os.PathLike), got {type(path).__name__}"
        )
    return os.fspath(path)


def write(path: Any, format: str, content: dict[str, Any], lenient: Collection[str] = ()) -> None:
    """Write ``content`` (str keys -> Python values) as a ``format`` file at exactly ``path``.

    Keys in ``lenient`` may hold objects JSON cannot (kept by their repr); elsewhere such an
    object is a ``TypeError`` naming it, raised before the file is opened.
    """
    from glassbox import __version__

    path = _path(path)
    packer = _Packer()
    packed = {key: packer.pack(value, key, key in lenient) for key, value in content.items()}
    document = {
        "format": format,
        "version": VERSION,
        "glassbox": __version__,
        "arrays": len(packer.arrays),
        "content": packed,
    }
    text = json.dumps(document, ensure_ascii=False).encode("utf-8")
    # an open file object: numpy's savez would append ".npz" to a str path
    with open(path, "wb") as file, zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(DOCUMENT, text)
        for index, array in enumerate(packer.arrays):
            with archive.open(_member(index), "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def read(path: Any, formats: Collection[str] = FORMATS) -> tuple[str, dict[str, Any]]:
    """The format name and the content (arrays restored) of the file at ``path``.

    Raises ``ValueError`` naming the path and what is wrong for anything but a valid file of one
    of ``formats``.
    """
    path = _path(path)
    if not os.path.isfile(path):  # nor a directory, a pipe or a device: nothing to wait on
        why = "not a regular file" if os.path.exists(path) else "file does not exist"
        raise ValueError(f"path: no glassbox file at {path!r} ({why})")
    try:
        with zipfile.ZipFile(path) as archive:
            format, count, content = _document(archive, os.path.getsize(path))
            if format not in formats:
                wanted = " or ".join(repr(f) for f in formats)
                raise _Wrong(f"it is a {format!r} file, not {wanted}; use glassbox.load(path)")
            unpacker = _Unpacker([_read_array(archive, _member(i)) for i in range(count)])
            content = unpacker.unpack(content)
            unused = sorted(set(range(count)) - unpacker.used)
            if unused:
                raise ValueError(f"member {_member(unused[0])!r} is not used by the document")
    except _Wrong as error:
        raise ValueError(f"path: {path!r}: {error}") from None
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError, EOFError) as error:
        raise ValueError(f"path: {path!r} is not a valid glassbox file: {error}") from None
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, OSError) as error:
        raise ValueError(
            f"path: {path!r} is not a valid glassbox file: not a readable zip archive ({error})"
        ) from None
    return format, content


class _Wrong(Exception):
    """A valid file of the wrong kind or version: its message is complete."""


def _document(archive: zipfile.ZipFile, size: int) -> tuple[str, int, Any]:
    """Check the members against the document and return (format, arrays, content)."""
    infos = archive.infolist()
    names = [info.filename for info in infos]
    inflated = sum(info.file_size for info in infos)
    if inflated > INFLATION_SLACK + MAX_INFLATION * size:
        raise ValueError(
            f"its members would inflate to {inflated} bytes from {size} bytes on disk (more "
            f"than {MAX_INFLATION}x); glassbox files are stored uncompressed"
        )
    if DOCUMENT not in names:
        raise ValueError(f"it has no {DOCUMENT!r} member (is it a plain .npz archive?)")
    info = archive.getinfo(DOCUMENT)
    if info.file_size > MAX_DOCUMENT_BYTES:
        raise ValueError(f"its {DOCUMENT} member is over {MAX_DOCUMENT_BYTES} bytes")
    try:
        document = json.loads(archive.read(info).decode("utf-8"))
    except RecursionError:
        raise ValueError(f"its {DOCUMENT} member nests too deep") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"its {DOCUMENT} member is not UTF-8 ({error})") from None
    keys = {"format", "version", "glassbox", "arrays", "content"}
    if not isinstance(document, dict) or set(document) != keys:
        raise ValueError(f"its {DOCUMENT} member must be a JSON object with keys {sorted(keys)}")
    format, version, count = document["format"], document["version"], document["arrays"]
    if format not in FORMATS:
        raise ValueError(f"format {format!r:.80} is not a glassbox format ({', '.join(FORMATS)})")
    if type(version) is not int or version < 1:
        raise ValueError(f"version must be a positive int, got {version!r:.40}")
    if version > VERSION:
        raise _Wrong(
            f"written by a newer glassbox (format version {version}); this glassbox reads "
            f"version {VERSION}: upgrade glassbox to load it"
        )
    if type(count) is not int or not 0 <= count <= len(names):
        raise ValueError(
            f"arrays must be the number of array members ({len(names) - 1}), got {count!r:.40}"
        )
    expected = {DOCUMENT, *(_member(i) for i in range(count))}
    if len(names) != len(set(names)) or set(names) != expected:
        extra, missing = sorted(set(names) - expected), sorted(expected - set(names))
        raise ValueError(
            f"its members do not match the document (extra: {extra[:5]}, missing: "
            f"{missing[:5]}, duplicated: {len(names) != len(set(names))})"
        )
    if not isinstance(document["content"], dict):
        raise ValueError("content must be a JSON object")
    return format, count, document["content"]


def _read_array(archive: zipfile.ZipFile, name: str) -> np.ndarray:
    """One ``.npy`` member, after checking its header against the member's size."""
    info = archive.getinfo(name)
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"member {name!r}: unsupported .npy version {version}")
        header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = header(member)
        if dtype.hasobject or dtype.kind not in _DTYPE_KINDS or dtype.names is not None:
            raise ValueError(
                f"member {name!r} holds {dtype} values (objects need pickle, which glassbox "
                "files never use)"
            )
        count = 1
        for dim in shape:
            count *= int(dim)
        size = member.tell() + count * dtype.itemsize
        if size != info.file_size:
            raise ValueError(
                f"member {name!r}: its header declares {shape} {dtype} ({size} bytes with the "
                f"header) but the member holds {info.file_size} bytes"
            )
        data = np.empty(count * dtype.itemsize, np.uint8)  # read in place: no second copy
        view, done = memoryview(data), 0
        while done < data.size and (got := member.readinto(view[done:])):
            done += got
        if done != data.size or member.read(1):
            raise ValueError(f"member {name!r} is truncated")
    return data.view(dtype).reshape(shape, order="F" if fortran else "C")


def load(path: Any) -> Any:
    """Load a saved model (``NativeModel.save``) or ``Explanation`` (``Explanation.save``).

    Parameters
    ----------
    path : str or os.PathLike
        A file written by ``save``.

    Returns
    -------
    NativeModel or Explanation
        What the file holds: the model predicts and explains exactly as the saved one did.

    Raises
    ------
    ValueError
        The file is missing, corrupt, of a newer format version or invalid (see
        ``docs/architecture.md``, "Saved files"); the message names the path and the problem.

    Examples
    --------
    >>> import os, tempfile, numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(2,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[1.0, -1.0]]), bias=np.array([0.5]))
    >>> path = os.path.join(tempfile.mkdtemp(), "model.gb")
    >>> gb.build_network(spec, feature_names=["a", "b"]).save(path)
    >>> model = gb.load(path)
    >>> model.feature_names, model.predict(np.array([[2.0, 1.0]]))
    (['a', 'b'], array([[1.5]], dtype=float32))
    """
    from glassbox.models.native import model_from_content

    format, content = read(path)
    rebuild = model_from_content if format == MODEL else explanation_from_content
    return rebuild(content, _path(path))


# ---- Explanations ------------------------------------------------------------------------------

#: Explanation fields a file must give as these types (others: arrays or None, see below).
_NAME_LISTS: Final = ("feature_names", "output_names", "conservation_layers")


def explanation_content(explanation: Any) -> dict[str, Any]:
    """Every field of ``explanation`` by name (what ``Explanation.save`` writes)."""
    from dataclasses import fields

    return {f.name: getattr(explanation, f.name) for f in fields(explanation)}


def explanation_from_content(content: dict[str, Any], path: str) -> Any:
    """The Explanation a file's content describes, after checking each field's type."""
    from dataclasses import fields

    from glassbox.explanation import Explanation

    known = {f.name for f in fields(Explanation)}
    problem = None
    if set(content) - known:
        problem = f"unknown field(s) {sorted(set(content) - known)[:5]}"
    elif not isinstance(content.get("values"), np.ndarray):
        problem = "values must be an array"
    for name, value in content.items():
        if problem is not None:
            break
        problem = _field_problem(name, value, Explanation._ROW_FIELDS)
    if problem is None:
        try:  # what the fields say together (tokens: T per row)
            return Explanation(**content)
        except (ValueError, TypeError) as error:
            problem = str(error)
    raise ValueError(f"path: {path!r} is not a valid glassbox explanation: {problem}")


def _field_problem(name: str, value: Any, row_fields: tuple[str, ...]) -> str | None:
    """What is wrong with an Explanation field read from a file, or None."""
    if name in row_fields:  # a single row's fields may be NumPy scalars
        ok = value is None or isinstance(value, (np.ndarray, np.generic))
    elif name in _NAME_LISTS:  # names as given (DataFrame columns may be numbers)
        ok = value is None or (
            isinstance(value, (list, tuple))
            and all(isinstance(v, (str, int, float)) for v in value)
        )
    elif name == "tokens":
        ok = value is None or (
            isinstance(value, list)
            and all(isinstance(row, list) and all(isinstance(t, str) for t in row) for row in value)
        )
    elif name == "skip_tokens":
        ok = value is None or (isinstance(value, list) and all(isinstance(t, str) for t in value))
    elif name == "inputs":  # shapes are checked by Explanation
        ok = value is None or (
            isinstance(value, dict) and all(isinstance(v, (list, tuple)) for v in value.values())
        )
    elif name == "layer_relevance":
        ok = value is None or (
            isinstance(value, dict)
            and all(isinstance(v, (np.ndarray, np.generic)) for v in value.values())
        )
    else:
        expected = {"method": str, "options": dict, "single_row": bool}.get(name, object)
        ok = isinstance(value, expected)
    return None if ok else f"field {name!r} has an invalid value {value!r:.80}"
