"""LRP rules and composites: which rule each layer of a network gets.

Guide
-----
* A **rule** is a small class below registered with ``@register_rule``; its ``name`` is the name
  of the C++ rule (``src/cpp/core/network/lrp_rules.cpp``) and ``scalars()`` / ``arrays()`` are
  its options. To add one: write the C++ rule + its table line, then one class here.
* A **composite** maps layers to rules by name (``name_map``), by position (``first_map``: the
  first affine layer; ``last_map``: the last affine layer) and by layer kind (``layer_map``); the
  first match in that order wins, and layers nothing matches get the plain gradient (e.g. max
  pooling: the winner takes all).
* A **preset** is a function returning a Composite, registered with ``@register_preset("Name")``.
  The presets follow Zennit's composites of the same names (docs/methods.md has the table).

``resolve`` turns a composite into the per-layer rule list the core takes.

Examples
--------
>>> from glassbox.explainers.composites import ACTIVATIONS, AFFINE, PRESETS
>>> from glassbox.explainers.composites import Composite, Epsilon, Pass
>>> comp = Composite(layer_map=[(AFFINE, Epsilon(1e-6)), (ACTIVATIONS, Pass())])
>>> comp.rules_for(["dense", "relu", "dense"], ["fc1", "act", "fc2"])
[Epsilon(epsilon=1e-06), Pass(), Epsilon(epsilon=1e-06)]
>>> print(*sorted(PRESETS)[:4])  # the preset names LRP(model, composite=...) accepts
AttnLRP CPLRP Epsilon EpsilonAlpha2Beta1
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassbox.models.layers import kinds_where

# Layer-kind groups composites map by, read from the layer table's LRP traits.
DENSE = frozenset(kinds_where(lrp="dense"))
CONV = frozenset(kinds_where(lrp="conv"))
AFFINE = DENSE | CONV
ACTIVATIONS = frozenset(kinds_where(lrp="activation"))
AVG_POOL = frozenset(kinds_where(lrp="average"))
SUM = frozenset(kinds_where(lrp="sum"))
BATCH_NORM = frozenset(kinds_where(lrp="normalization"))
SHAPE_ONLY = frozenset(kinds_where(lrp="shape"))
LAYER_NORM = frozenset(kinds_where(lrp="layer_norm"))
PRODUCT = frozenset(kinds_where(lrp="product")) | {"div"}
EMBEDDING = frozenset(kinds_where(lrp="embedding"))
SOFTMAX = frozenset({"softmax"})
RECURRENT = frozenset(kinds_where(lrp="recurrent"))

RuleEntry = tuple[str, dict[str, float], dict[str, np.ndarray]]


class Rule:
    """Base class of the LRP rules: a core rule name plus options."""

    name = ""
    affine_only = True  # needs a dense / conv2d layer
    kinds: frozenset[str] | None = None  # the layer kinds it applies to, if not only affine

    def scalars(self) -> dict[str, float]:
        return {}

    def arrays(self, input_shape: tuple[int, ...]) -> dict[str, np.ndarray]:
        return {}

    def entry(self, input_shape: tuple[int, ...]) -> RuleEntry:
        return (self.name, self.scalars(), self.arrays(input_shape))

    def entry_for(self, graph: Graph, index: int, input_shape: tuple[int, ...]) -> RuleEntry:
        """The entry of layer ``index`` of ``graph``; rules whose options depend on where the
        layer sits (the product rule) override it."""
        return self.entry(input_shape)

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.scalars().items())
        return f"{type(self).__name__}({options})"


RULES: dict[str, type[Rule]] = {}


def register_rule(cls: type[Rule]) -> type[Rule]:
    """Class decorator: make a rule known by its ``name``."""
    RULES[cls.name] = cls
    return cls


def _finite(value: float, name: str, minimum: float = 0.0) -> float:
    value = float(value)
    if not np.isfinite(value) or value < minimum:
        raise ValueError(f"{name}: expected a finite number >= {minimum}, got {value!r}")
    return value


@register_rule
class Epsilon(Rule):
    """R_i = x_i sum_j w_ji R_j / stab_eps(z_j), z = W x + b."""

    name = "epsilon"

    def __init__(self, epsilon: float = 1e-6) -> None:
        self.epsilon = _finite(epsilon, "epsilon")

    def scalars(self) -> dict[str, float]:
        return {"epsilon": self.epsilon}


@register_rule
class Gamma(Rule):
    """Generalised gamma rule (Zennit's ``Gamma``): favours positive contributions by gamma."""

    name = "gamma"

    def __init__(self, gamma: float = 0.25, stabilizer: float = 1e-6) -> None:
        self.gamma = _finite(gamma, "gamma")
        self.stabilizer = _finite(stabilizer, "stabilizer")

    def scalars(self) -> dict[str, float]:
        return {"gamma": self.gamma, "stabilizer": self.stabilizer}


@register_rule
class AlphaBeta(Rule):
    """alpha * (share of positive contributions) - beta * (share of negative ones), alpha-beta=1."""

    name = "alpha_beta"

    def __init__(self, alpha: float = 2.0, beta: float = 1.0, stabilizer: float = 1e-6) -> None:
        self.alpha = _finite(alpha, "alpha")
        self.beta = _finite(beta, "beta")
        if abs(self.alpha - self.beta - 1.0) > 1e-9:
            raise ValueError(f"alpha, beta: alpha - beta must equal 1, got {alpha} and {beta}")
        self.stabilizer = _finite(stabilizer, "stabilizer")

    def scalars(self) -> dict[str, float]:
        return {"alpha": self.alpha, "beta": self.beta, "stabilizer": self.stabilizer}


@register_rule
class ZPlus(Rule):
    """z+ rule: alpha = 1, beta = 0."""

    name = "zplus"

    def __init__(self, stabilizer: float = 1e-6) -> None:
        self.stabilizer = _finite(stabilizer, "stabilizer")

    def scalars(self) -> dict[str, float]:
        return {"stabilizer": self.stabilizer}


@register_rule
class ZBox(Rule):
    """zB rule for inputs bounded by ``low <= x <= high`` (scalars, per channel, or full shape)."""

    name = "zbox"

    def __init__(self, low: object = None, high: object = None, stabilizer: float = 1e-6) -> None:
        if low is None or high is None:
            raise ValueError(
                "low, high: the zB (box) rule needs the input bounds, e.g. ZBox(low=0.0, high=1.0)"
            )
        self.low = np.asarray(low, dtype=np.float64)
        self.high = np.asarray(high, dtype=np.float64)
        if not (np.isfinite(self.low).all() and np.isfinite(self.high).all()):
            raise ValueError("low, high: must be finite")
        self.stabilizer = _finite(stabilizer, "stabilizer")

    def scalars(self) -> dict[str, float]:
        return {"stabilizer": self.stabilizer}

    def arrays(self, input_shape: tuple[int, ...]) -> dict[str, np.ndarray]:
        out = {}
        for key, value in (("low", self.low), ("high", self.high)):
            out[key] = _broadcast_bound(value, input_shape, key)
        if np.any(out["low"] > out["high"]):
            raise ValueError("low, high: need low <= high everywhere")
        return out


def _broadcast_bound(value: np.ndarray, shape: tuple[int, ...], name: str) -> np.ndarray:
    """A scalar, one value per channel (C,) or the full per-sample shape, as a flat float32 row."""
    if value.ndim == 1 and len(shape) > 1 and value.shape[0] == shape[0]:
        value = value.reshape((shape[0],) + (1,) * (len(shape) - 1))
    try:
        full = np.broadcast_to(value, shape)
    except ValueError:
        raise ValueError(
            f"{name}: expected a scalar, one value per channel or shape {shape}, got shape "
            f"{value.shape}"
        ) from None
    return np.ascontiguousarray(full, dtype=np.float32).reshape(-1)


@register_rule
class WSquare(Rule):
    """w^2 rule: R_i = sum_j w_ji^2 R_j / stab(sum_i' w_ji'^2 + b_j^2) (Zennit squares the bias)."""

    name = "wsquare"

    def __init__(self, stabilizer: float = 1e-6) -> None:
        self.stabilizer = _finite(stabilizer, "stabilizer")

    def scalars(self) -> dict[str, float]:
        return {"stabilizer": self.stabilizer}


@register_rule
class Flat(Rule):
    """Flat rule: every input of a unit's receptive field gets an equal share (bias ignored)."""

    name = "flat"

    def __init__(self, stabilizer: float = 1e-6) -> None:
        self.stabilizer = _finite(stabilizer, "stabilizer")

    def scalars(self) -> dict[str, float]:
        return {"stabilizer": self.stabilizer}


@register_rule
class Pass(Rule):
    """Pass-through: relevance crosses the layer unchanged (element-wise activations)."""

    name = "pass"
    affine_only = False


@register_rule
class Norm(Rule):
    """R_in = x * J^T (R / stab(z)): proportional split for sums, average pooling, batch norm."""

    name = "norm"
    affine_only = False

    def __init__(self, stabilizer: float = 1e-6) -> None:
        self.stabilizer = _finite(stabilizer, "stabilizer")

    def scalars(self) -> dict[str, float]:
        return {"stabilizer": self.stabilizer}


@register_rule
class Gradient(Rule):
    """The layer's own gradient (max pooling: winner takes all; concat: split by slice)."""

    name = "gradient"
    affine_only = False


@register_rule
class Product(Rule):
    """Products of two computed tensors (mul, matmul, div): each input k gets share_k of the
    epsilon rule that holds the others fixed. Inputs computed only from masks and constants
    (a comparison's result, a padding mask input) get none; the others share equally, which
    is AttnLRP's uniform rule for two signals and gives a signal times a mask everything.
    ``constant_attention``: attention weights (a softmax's output) are held fixed too (CP-LRP)."""

    name = "product"
    affine_only = False
    kinds = PRODUCT

    def __init__(self, stabilizer: float = 1e-6, constant_attention: bool = False) -> None:
        self.stabilizer = _finite(stabilizer, "stabilizer")
        self.constant_attention = bool(constant_attention)

    def scalars(self) -> dict[str, float]:
        return {"stabilizer": self.stabilizer}

    def entry_for(self, graph: Graph, index: int, input_shape: tuple[int, ...]) -> RuleEntry:
        sources = graph.layers[index].inputs
        signal = [graph.carries_signal(src) for src in sources]
        if self.constant_attention:
            signal = [
                s and not graph.from_softmax(src) for s, src in zip(signal, sources, strict=True)
            ]
        if graph.layers[index].kind == "div":
            signal = [signal[0], False]  # the divisor is held fixed (a count, a norm)
        count = sum(signal) or len(sources)
        shares = [(1.0 / count if (s or not any(signal)) else 0.0) for s in signal]
        scalars = {**self.scalars(), **{f"share.{k}": v for k, v in enumerate(shares)}}
        return (self.name, scalars, {})


@register_rule
class SoftmaxRule(Rule):
    """AttnLRP's softmax rule: R_in = x * (R - s * sum(R)) per softmax group."""

    name = "softmax"
    affine_only = False
    kinds = SOFTMAX


@register_rule
class LayerNormRule(Rule):
    """LayerNorm / RMSNorm with the normalising scale held fixed: the epsilon rule of the
    resulting linear map (AttnLRP's identity rule; conserves relevance without a bias)."""

    name = "layer_norm"
    affine_only = False
    kinds = LAYER_NORM

    def __init__(self, stabilizer: float = 1e-6) -> None:
        self.stabilizer = _finite(stabilizer, "stabilizer")

    def scalars(self) -> dict[str, float]:
        return {"stabilizer": self.stabilizer}


@register_rule
class EmbeddingRule(Rule):
    """A token's relevance: the sum of its embedding vector's relevance."""

    name = "embedding"
    affine_only = False
    kinds = EMBEDDING


@register_rule
class RecurrentRule(Rule):
    """LSTM / GRU (Arras et al., 2017): relevance follows the signal through time (the cell
    state, the candidate, the previous hidden state), never the gates; the epsilon rule where
    contributions add up."""

    name = "recurrent"
    affine_only = False
    kinds = RECURRENT

    def __init__(self, stabilizer: float = 1e-6) -> None:
        self.stabilizer = _finite(stabilizer, "stabilizer")

    def scalars(self) -> dict[str, float]:
        return {"stabilizer": self.stabilizer}


@register_rule
class Zero(Rule):
    """No relevance passes (CP-LRP's softmax: the attention weights are held fixed)."""

    name = "zero"
    affine_only = False


@dataclass
class Graph:
    """What position-dependent rules read of a network: its layers and which ones carry signal
    (depend on a real-valued input or an embedding) rather than only masks and constants."""

    layers: Sequence[Any]
    inputs: Sequence[Any] = ()

    def carries_signal(self, index: int) -> bool:
        if index < 0:
            return True  # the network input of a one-input network
        layer = self.layers[index]
        if layer.kind in ("compare", "constant"):
            return False
        if layer.kind == "embedding":
            return True
        if layer.kind == "input":
            return index >= len(self.inputs) or self.inputs[index].dtype == "float"
        sources = layer.inputs[1:] if layer.kind == "where" else layer.inputs
        return any(self.carries_signal(src) for src in sources)

    def from_softmax(self, index: int) -> bool:
        """The output of a softmax, possibly reshaped or transposed (attention weights)."""
        while index >= 0 and self.layers[index].kind in SHAPE_ONLY - {"input", "embedding"}:
            index = self.layers[index].inputs[0]
        return index >= 0 and self.layers[index].kind in SOFTMAX


LayerMap = Sequence[tuple[Iterable[str], Rule]]


@dataclass
class Composite:
    """Maps layers to rules: by name, then first / last affine layer, then by layer kind.

    Parameters
    ----------
    layer_map : list of (kinds, Rule)
        The first entry whose kinds contain the layer's kind applies.
    name_map : dict of str -> Rule
        Rules for layers named as the framework names them.
    first_map, last_map : list of (kinds, Rule)
        Rules for the first / last affine layer (dense or conv2d, in topological order), if its
        kind is listed (as Zennit's SpecialFirstLayerMapComposite: the first affine layer is found
        among the kinds first_map lists).

    Examples
    --------
    >>> from glassbox.explainers.composites import AFFINE, Composite, Epsilon, Flat
    >>> comp = Composite(layer_map=[(AFFINE, Epsilon(0.01))], first_map=[(AFFINE, Flat())])
    >>> comp.rules_for(["conv2d", "relu", "flatten", "dense"], ["conv", "act", "flat", "fc"])
    [Flat(stabilizer=1e-06), None, None, Epsilon(epsilon=0.01)]
    """

    layer_map: LayerMap = field(default_factory=list)
    name_map: dict[str, Rule] = field(default_factory=dict)
    first_map: LayerMap = field(default_factory=list)
    last_map: LayerMap = field(default_factory=list)
    name: str = "custom"

    def rules_for(self, kinds: Sequence[str], names: Sequence[str]) -> list[Rule | None]:
        """One rule (or None for the gradient) per layer."""
        unknown = [n for n in self.name_map if n not in names]
        if unknown:
            raise ValueError(
                f"composite: unknown layer name(s) {unknown}; the model's layers are {list(names)}"
            )
        first = _first_matching(kinds, self.first_map)
        last = _first_matching(kinds[::-1], self.last_map)
        last = None if last is None else len(kinds) - 1 - last
        rules: list[Rule | None] = []
        for index, (kind, name) in enumerate(zip(kinds, names, strict=True)):
            rule = self.name_map.get(name)
            if rule is None and index == first:
                rule = _lookup(kind, self.first_map)
            if rule is None and index == last:
                rule = _lookup(kind, self.last_map)
            if rule is None:
                rule = _lookup(kind, self.layer_map)
            rules.append(rule)
        return rules


def _lookup(kind: str, mapping: LayerMap) -> Rule | None:
    return next((rule for kinds, rule in mapping if kind in set(kinds)), None)


def _first_matching(kinds: Sequence[str], mapping: LayerMap) -> int | None:
    if not mapping:
        return None
    return next((i for i, kind in enumerate(kinds) if _lookup(kind, mapping) is not None), None)


PRESETS: dict[str, Callable[..., Composite]] = {}


def register_preset(name: str) -> Callable[[Callable[..., Composite]], Callable[..., Composite]]:
    """Decorator: make a preset function known as ``name`` (``make_composite`` also accepts its
    snake_case form)."""

    def wrap(factory: Callable[..., Composite]) -> Callable[..., Composite]:
        PRESETS[name] = factory
        return factory

    return wrap


def _base_map(stabilizer: float) -> list[tuple[frozenset[str], Rule]]:
    """Zennit's base layer map: activations pass, sums and average pooling normalise; and for
    sequence models, LayerNorm's identity rule, the product rule and token relevance."""
    return [
        (ACTIVATIONS, Pass()),
        (SUM, Norm(stabilizer)),
        (AVG_POOL, Norm(stabilizer)),
        (BATCH_NORM, Norm(stabilizer)),  # only batch norms the canonizer could not fold
        *_sequence_map(stabilizer),
    ]


def _sequence_map(stabilizer: float) -> list[tuple[frozenset[str], Rule]]:
    """The rules of the sequence layers every preset shares."""
    return [
        (LAYER_NORM, LayerNormRule(stabilizer)),
        (PRODUCT, Product(stabilizer)),
        (EMBEDDING, EmbeddingRule()),
        (RECURRENT, RecurrentRule(stabilizer)),
    ]


@register_preset("Epsilon")
def epsilon_composite(epsilon: float = 1e-9) -> Composite:
    """Captum's default: epsilon on every affine layer, Norm(epsilon) on sums/pooling/BN."""
    rule = Epsilon(epsilon)
    return Composite(
        layer_map=[
            (ACTIVATIONS, Pass()),
            (SUM | AVG_POOL | BATCH_NORM, Norm(rule.epsilon)),
            *_sequence_map(rule.epsilon),
            (AFFINE, rule),
        ],
        name="Epsilon",
    )


@register_preset("EpsilonPlus")
def epsilon_plus(epsilon: float = 1e-6, stabilizer: float = 1e-6) -> Composite:
    """z+ on convolutions, epsilon on dense layers."""
    return Composite(
        layer_map=[*_base_map(stabilizer), (CONV, ZPlus(stabilizer)), (DENSE, Epsilon(epsilon))],
        name="EpsilonPlus",
    )


@register_preset("EpsilonPlusFlat")
def epsilon_plus_flat(epsilon: float = 1e-6, stabilizer: float = 1e-6) -> Composite:
    """EpsilonPlus with the flat rule on the first affine layer (dense or conv)."""
    return Composite(
        layer_map=[*_base_map(stabilizer), (CONV, ZPlus(stabilizer)), (DENSE, Epsilon(epsilon))],
        first_map=[(AFFINE, Flat(stabilizer))],
        name="EpsilonPlusFlat",
    )


@register_preset("EpsilonAlpha2Beta1")
def epsilon_alpha2_beta1(epsilon: float = 1e-6, stabilizer: float = 1e-6) -> Composite:
    """alpha=2, beta=1 on convolutions, epsilon on dense layers."""
    return Composite(
        layer_map=[
            *_base_map(stabilizer),
            (CONV, AlphaBeta(2.0, 1.0, stabilizer)),
            (DENSE, Epsilon(epsilon)),
        ],
        name="EpsilonAlpha2Beta1",
    )


@register_preset("EpsilonAlpha2Beta1Flat")
def epsilon_alpha2_beta1_flat(epsilon: float = 1e-6, stabilizer: float = 1e-6) -> Composite:
    """EpsilonAlpha2Beta1 with the flat rule on the first affine layer (dense or conv)."""
    return Composite(
        layer_map=[
            *_base_map(stabilizer),
            (CONV, AlphaBeta(2.0, 1.0, stabilizer)),
            (DENSE, Epsilon(epsilon)),
        ],
        first_map=[(AFFINE, Flat(stabilizer))],
        name="EpsilonAlpha2Beta1Flat",
    )


@register_preset("EpsilonGammaBox")
def epsilon_gamma_box(
    low: object = None,
    high: object = None,
    epsilon: float = 1e-6,
    gamma: float = 0.25,
    stabilizer: float = 1e-6,
) -> Composite:
    """zB on the first convolution, gamma on the other convolutions, epsilon on dense layers."""
    return Composite(
        layer_map=[
            *_base_map(stabilizer),
            (CONV, Gamma(gamma, stabilizer)),
            (DENSE, Epsilon(epsilon)),
        ],
        first_map=[(CONV, ZBox(low, high, stabilizer))],
        name="EpsilonGammaBox",
    )


def _attention_map(stabilizer: float, epsilon: float, cp: bool) -> LayerMap:
    """The layer map of the transformer presets (AttnLRP, CP-LRP)."""
    return [
        (ACTIVATIONS - SOFTMAX, Pass()),  # GELU, tanh: the identity rule
        (SOFTMAX, Zero() if cp else SoftmaxRule()),
        (LAYER_NORM, LayerNormRule(stabilizer)),
        (PRODUCT, Product(stabilizer, constant_attention=cp)),
        (SUM | AVG_POOL | BATCH_NORM, Norm(stabilizer)),
        (EMBEDDING, EmbeddingRule()),
        (RECURRENT, RecurrentRule(stabilizer)),
        (DENSE, Epsilon(epsilon)),
        (CONV, Epsilon(epsilon)),
    ]


@register_preset("AttnLRP")
def attn_lrp(epsilon: float = 1e-6, stabilizer: float = 1e-6) -> Composite:
    """AttnLRP (Achtibat et al., 2024) for transformers: epsilon on linear layers, the identity
    rule on element-wise activations and on LayerNorm's scale, the uniform rule on products
    of two signals (attention scores, weighted values, gates) and AttnLRP's softmax rule;
    token relevance at the embeddings."""
    return Composite(layer_map=_attention_map(stabilizer, epsilon, cp=False), name="AttnLRP")


@register_preset("CPLRP")
def cp_lrp(epsilon: float = 1e-6, stabilizer: float = 1e-6) -> Composite:
    """Conservative propagation (Ali et al., 2022): as AttnLRP, but the attention weights are
    held fixed, so relevance flows only through the values and every layer conserves it
    (without biases)."""
    return Composite(layer_map=_attention_map(stabilizer, epsilon, cp=True), name="CPLRP")


def _canonical(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def make_composite(composite: object, **options: Any) -> Composite:
    """A Composite from a Composite object, a preset name (any case, with or without
    underscores: "EpsilonPlusFlat", "epsilon_plus_flat") and the preset's options."""
    if isinstance(composite, Composite):
        if options:
            raise TypeError(
                f"composite options {sorted(options)} only apply to preset names, not to a "
                "Composite object"
            )
        return composite
    if not isinstance(composite, str):
        raise TypeError(
            f"composite: expected a preset name or a Composite, got {type(composite).__name__}"
        )
    by_key = {_canonical(key): key for key in PRESETS}
    key = by_key.get(_canonical(composite))
    if key is None:
        raise ValueError(f"composite: unknown preset {composite!r}; known: {sorted(PRESETS)}")
    try:
        return PRESETS[key](**options)
    except TypeError as error:
        raise TypeError(f"composite {key!r}: {error}") from None


def resolve(
    composite: Composite,
    kinds: Sequence[str],
    names: Sequence[str],
    input_shapes: Sequence[tuple[int, ...]],
    graph: Graph | None = None,
) -> list[RuleEntry | None]:
    """The per-layer rule descriptions the core takes, checked against the layer kinds
    (``graph``: the network's layers, for rules whose options depend on the layer's place)."""
    entries: list[RuleEntry | None] = []
    for index, (rule, kind, name, shape) in enumerate(
        zip(composite.rules_for(kinds, names), kinds, names, input_shapes, strict=True)
    ):
        if rule is None:
            entries.append(None)
            continue
        if rule.kinds is not None and kind not in rule.kinds:
            raise ValueError(
                f"layer {name!r} ({kind}): rule {type(rule).__name__} applies to "
                f"{', '.join(sorted(rule.kinds))} layers only"
            )
        if rule.affine_only and kind not in AFFINE:
            raise ValueError(
                f"layer {name!r} ({kind}): rule {type(rule).__name__} applies to affine layers "
                f"({', '.join(sorted(AFFINE))}) only"
            )
        if isinstance(rule, Pass) and kind not in ACTIVATIONS | SHAPE_ONLY | BATCH_NORM:
            raise ValueError(
                f"layer {name!r} ({kind}): rule Pass applies to element-wise layers only"
            )
        if graph is not None:
            entries.append(rule.entry_for(graph, index, shape))
        elif isinstance(rule, Product):
            raise ValueError(f"layer {name!r}: the product rule needs the network's graph")
        else:
            entries.append(rule.entry(shape))
    return entries
