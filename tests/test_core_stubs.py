"""glassbox/_core.pyi describes the real extension: the same names, the same parameters (which of
them are keyword-only), the same classes and attributes; and the boundary is keyword-based."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import glassbox
from glassbox import _core

STUB = Path(glassbox.__file__).with_name("_core.pyi")
PROPERTY = ["<property>"]


def _parameters(args: ast.arguments, skip_self: bool) -> list[str]:
    """Parameter names in order, with "*" where keyword-only parameters start."""
    positional = [a.arg for a in args.posonlyargs + args.args]
    names = positional[1:] if skip_self else positional
    if args.kwonlyargs:
        names += ["*", *(a.arg for a in args.kwonlyargs)]
    return names


def _stub_functions() -> dict[str, list[str]]:
    """Each stubbed function and method with its parameters; properties and annotated class
    attributes as PROPERTY."""
    tree = ast.parse(STUB.read_text())
    found: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = _parameters(node.args, skip_self=False)
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.decorator_list:
                    found[f"{node.name}.{item.name}"] = _parameters(item.args, skip_self=True)
                if isinstance(item, ast.FunctionDef) and item.decorator_list:
                    found[f"{node.name}.{item.name}"] = PROPERTY
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    found[f"{node.name}.{item.target.id}"] = PROPERTY
    return found


def _stub_classes() -> set[str]:
    tree = ast.parse(STUB.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.ClassDef)}


def _runtime_parameters(obj: object) -> list[str]:
    """Parameter names from pybind11's signature line, with "*" where keyword-only ones start."""
    signature = (obj.__doc__ or "").splitlines()[0]
    inside = signature[signature.index("(") + 1 : signature.rindex(")")]
    names = re.findall(r"(?:^|, )(\w+:|\*(?=,|$))", inside)
    return [name.rstrip(":") for name in names if name != "self:"]


def test_every_stubbed_function_exists_with_the_same_parameters() -> None:
    for name, params in _stub_functions().items():
        owner, _, attr = name.rpartition(".")
        if params == PROPERTY:
            descriptor = getattr(getattr(_core, owner), attr)
            assert isinstance(descriptor, property), name
        else:
            obj = getattr(getattr(_core, owner) if owner else _core, attr)
            assert _runtime_parameters(obj) == params, name


def test_every_public_extension_name_is_stubbed() -> None:
    stubbed = {name.split(".")[0] for name in _stub_functions()} | _stub_classes()
    public = {name for name in dir(_core) if not name.startswith("_")}
    assert public == stubbed


def test_every_attribute_of_a_bound_class_is_stubbed() -> None:
    stubbed = set(_stub_functions())
    for cls in _stub_classes():
        runtime = {name for name in vars(getattr(_core, cls)) if not name.startswith("_")}
        assert {f"{cls}.{name}" for name in runtime} <= stubbed, cls


def test_the_boundary_takes_the_model_positionally_and_the_rest_by_keyword() -> None:
    """Every core function (and the constructors and methods of the classes but the Network's)
    takes at most its first argument by position."""
    for name, params in _stub_functions().items():
        if params == PROPERTY or name.startswith("Network."):
            continue
        if len(params) >= 2:
            assert params[1] == "*", name


def test_results_are_objects_with_named_fields() -> None:
    """No core function returns a tuple to be unpacked by position."""
    for name in dir(_core):
        obj = getattr(_core, name)
        if callable(obj) and not isinstance(obj, type) and obj.__doc__:
            assert "-> tuple" not in obj.__doc__.splitlines()[0], name
