"""glassbox/_core.pyi describes the real extension: the same names, the same parameters."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import glassbox
from glassbox import _core

STUB = Path(glassbox.__file__).with_name("_core.pyi")


def _stub_functions() -> dict[str, list[str]]:
    tree = ast.parse(STUB.read_text())
    found: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = [arg.arg for arg in node.args.args]
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.decorator_list:
                    if item.name != "__init__":
                        found[f"{node.name}.{item.name}"] = [a.arg for a in item.args.args[1:]]
                if isinstance(item, ast.FunctionDef) and item.decorator_list:
                    found[f"{node.name}.{item.name}"] = ["<property>"]
    return found


def _runtime_parameters(obj: object) -> list[str]:
    signature = (obj.__doc__ or "").splitlines()[0]
    inside = signature[signature.index("(") + 1 : signature.rindex(")")]
    names = re.findall(r"(?:^|, )(\w+):", inside)
    return [name for name in names if name != "self"]


def test_every_stubbed_function_exists_with_the_same_parameters() -> None:
    for name, params in _stub_functions().items():
        owner, _, attr = name.rpartition(".")
        obj = getattr(getattr(_core, owner) if owner else _core, attr)
        if params == ["<property>"]:
            assert isinstance(getattr(_core.Network, attr), property), name
        else:
            assert _runtime_parameters(obj) == params, name


def test_every_public_extension_name_is_stubbed() -> None:
    stubbed = {name.split(".")[0] for name in _stub_functions()} | {"Network"}
    public = {name for name in dir(_core) if not name.startswith("_")}
    assert public == stubbed
