"""Which models the exact decomposition applies to, read from the functional graph of the id model.

The exact decomposition needs: token ids -> ``Embedding`` -> an encoder whose every output step reads
a known window of tokens (``Conv1D`` layers, ``MaskPaddedSteps``, dropout, per-step activations and
channel-wise ``Concatenate`` of such branches) -> one or several of gapsearch's global poolings, each
given the padding mask -> (dropout) -> one linear ``Dense`` output. The graph is read from the
model's own serialized config (the layer of every input, and the tensor given as ``mask``), so a
layer this module does not know sends the model to the fallback, with the layer named in the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Layers that leave every step where it is and mix nothing across steps (identity at inference, or per step).
_STEPWISE = {"MaskPaddedSteps", "Dropout", "SpatialDropout1D", "Activation", "GaussianNoise", "GaussianDropout"}
#: Layers between the pooling and the output that are the identity at inference.
_IDENTITY_AT_INFERENCE = {"Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout"}
#: Layers that leave the value of every real step as it is at inference (padded steps may become zero).
_REAL_STEPS_KEPT = {"MaskPaddedSteps", "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout"}
#: Convolution activations under which an active output is exactly its bias plus one term per window token.
_PIECEWISE_LINEAR = {"relu", "linear", None}
POOLINGS = {
    "MaskedGlobalAveragePooling1D": "average",
    "MaskedGlobalMaxPooling1D": "max",
    "AttentionPooling1D": "attention",
}
CLASS_SCORES = {"sigmoid", "softmax", "linear"}


@dataclass(frozen=True)
class Segment:
    """One pooling whose output is a slice of the head's input.

    Attributes:
        kind: ``average``, ``max`` or ``attention``.
        pooling: The pooling layer's name.
        features: The layer whose output the pooling reads (``(batch, steps, channels)``).
        offset: Where the pooled channels start in the head's input.
        windows: For each channel, the steps ``(before, after)`` of the tokens its step ``t`` reads:
            tokens ``t - before`` to ``t + after``.
        conv: When every channel is one ``Conv1D`` (relu or linear) over per-token features, seen through
            layers that keep real steps as they are: that convolution's name, else None.
        conv_input: The layer whose output that convolution reads.
        conv_offsets: For each kernel tap, the token it reads relative to the step.
    """

    kind: str
    pooling: str
    features: str
    offset: int
    windows: tuple[tuple[int, int], ...]
    conv: str | None = None
    conv_input: str | None = None
    conv_offsets: tuple[int, ...] = ()


@dataclass(frozen=True)
class Structure:
    """A model the exact decomposition holds for: its poolings, in the order the head reads them."""

    segments: tuple[Segment, ...]
    head: str  # the output Dense layer's name
    activation: str

    @property
    def description(self) -> str:
        kinds = " + ".join(dict.fromkeys(segment.kind for segment in self.segments))
        return f"{kinds} pooling, linear head"


@dataclass(frozen=True)
class NotExact:
    """Why the exact decomposition does not apply (then the fallback explains the model)."""

    reason: str


def _sources(node: Any) -> list[tuple[str, int]]:
    """The (layer, node) each Keras tensor in a serialized call argument comes from."""
    found: list[tuple[str, int]] = []
    if isinstance(node, dict):
        if node.get("class_name") == "__keras_tensor__":
            history = node["config"]["keras_history"]
            return [(history[0], history[1])]
        for value in node.values():
            found.extend(_sources(value))
    elif isinstance(node, (list, tuple)):
        for value in node:
            found.extend(_sources(value))
    return found


def _endpoints(node: Any) -> list[str]:
    """The layer names in a functional config's ``input_layers`` / ``output_layers``."""
    if isinstance(node, (list, tuple)) and len(node) == 3 and isinstance(node[0], str):
        return [node[0]]
    if isinstance(node, dict):
        return [name for value in node.values() for name in _endpoints(value)]
    return [name for value in node for name in _endpoints(value)]


class _Graph:
    def __init__(self, config: dict[str, Any]) -> None:
        self.layers = {layer["name"]: layer for layer in config["layers"]}
        self.inputs = set(_endpoints(config["input_layers"]))
        self.outputs = _endpoints(config["output_layers"])

    def node(self, name: str) -> dict[str, Any]:
        nodes = self.layers[name]["inbound_nodes"]
        if len(nodes) != 1:
            raise _Unknown(f"layer {name!r} is called {len(nodes)} times")
        return nodes[0]

    def args(self, name: str) -> list[str]:
        node = self.node(name)
        sources = _sources(node["args"])
        if any(index != 0 for _, index in sources):
            raise _Unknown(f"layer {name!r} reads a layer called more than once")
        return [source for source, _ in sources]

    def mask(self, name: str) -> list[str]:
        return [source for source, _ in _sources(self.node(name)["kwargs"].get("mask"))]

    def kind(self, name: str) -> str:
        return self.layers[name]["class_name"]

    def config(self, name: str) -> dict[str, Any]:
        return self.layers[name]["config"]


class _Unknown(Exception):
    """Raised inside the walk; becomes :class:`NotExact`."""


def find_structure(id_model: Any) -> Structure | NotExact:
    """The exact structure of ``id_model`` (a functional Keras model over token ids), or why it has none."""
    try:
        config = id_model.get_config()
        if "layers" not in config or "output_layers" not in config:
            return NotExact(f"the model is a {type(id_model).__name__}, not a functional graph of layers")
        return _walk(_Graph(config))
    except _Unknown as why:
        return NotExact(str(why))


def _walk(graph: _Graph) -> Structure:
    if len(graph.outputs) != 1 or len(graph.inputs) != 1:
        raise _Unknown("the model has more than one input or output")
    head = graph.outputs[0]
    if graph.kind(head) != "Dense":
        raise _Unknown(f"the output layer {head!r} is a {graph.kind(head)}, not a Dense layer")
    activation = graph.config(head).get("activation")
    if activation not in CLASS_SCORES:
        raise _Unknown(f"the output layer {head!r} has activation {activation!r}")
    (source,) = graph.args(head)
    while graph.kind(source) in _IDENTITY_AT_INFERENCE:
        (source,) = graph.args(source)
    if graph.kind(source) == "Concatenate":
        if graph.config(source).get("axis", -1) not in (-1, 1):
            raise _Unknown(f"layer {source!r} concatenates along axis {graph.config(source).get('axis')}")
        poolings = graph.args(source)
    else:
        poolings = [source]
    segments = []
    offset = 0
    for pooling in poolings:
        kind = POOLINGS.get(graph.kind(pooling))
        if kind is None:
            what = "a hidden dense layer" if graph.kind(pooling) == "Dense" else f"a {graph.kind(pooling)} layer"
            raise _Unknown(f"{what} ({pooling!r}) sits between the encoder and the output")
        mask = graph.mask(pooling)
        if len(mask) != 1 or graph.kind(mask[0]) != "PaddingMask" or set(graph.args(mask[0])) != graph.inputs:
            raise _Unknown(f"the pooling {pooling!r} is not given the padding mask of the token ids")
        (features,) = graph.args(pooling)
        windows = _windows(graph, features) * int(graph.config(pooling).get("heads", 1))  # head by head
        segments.append(Segment(kind, pooling, features, offset, windows, *_linear_conv(graph, features)))
        offset += len(windows)
    return Structure(tuple(segments), head, activation)


def _windows(graph: _Graph, name: str) -> tuple[tuple[int, int], ...]:
    """Per channel of layer ``name``'s output, the tokens ``(before, after)`` step t reads."""
    kind = graph.kind(name)
    if kind == "Embedding":
        if set(graph.args(name)) != graph.inputs:
            raise _Unknown(f"the embedding {name!r} does not read the token ids")
        return ((0, 0),) * int(graph.config(name)["output_dim"])
    if kind in _STEPWISE:
        (source,) = graph.args(name)
        return _windows(graph, source)
    if kind == "Concatenate":
        if graph.config(name).get("axis", -1) not in (-1, 2):
            raise _Unknown(f"layer {name!r} concatenates along axis {graph.config(name).get('axis')}")
        return tuple(window for source in graph.args(name) for window in _windows(graph, source))
    if kind == "Conv1D":
        config = graph.config(name)
        strides = config.get("strides", (1,))
        if tuple(strides) != (1,):
            raise _Unknown(f"the convolution {name!r} has strides {tuple(strides)}; steps would not be tokens")
        (kernel,) = config["kernel_size"]
        (dilation,) = config.get("dilation_rate", (1,))
        extent = dilation * (kernel - 1)
        padding = config.get("padding", "valid")
        if padding != "same" and padding != "causal":
            # "valid" drops steps at both ends, so step t is no longer token t and the mask no longer fits.
            raise _Unknown(f"the convolution {name!r} has padding {padding!r}; steps would not line up with tokens")
        before, after = (extent // 2, extent - extent // 2) if padding == "same" else (extent, 0)
        (source,) = graph.args(name)
        inner = _windows(graph, source)
        widest = (max(b for b, _ in inner), max(a for _, a in inner))
        return ((widest[0] + before, widest[1] + after),) * int(config["filters"])
    raise _Unknown(f"the encoder holds a {kind} layer ({name!r}) whose steps do not read a fixed window of tokens")


def _linear_conv(graph: _Graph, name: str) -> tuple[str | None, str | None, tuple[int, ...]]:
    """The one piecewise-linear ``Conv1D`` over per-token features that layer ``name`` passes on, if any."""
    while graph.kind(name) in _REAL_STEPS_KEPT:
        (name,) = graph.args(name)
    if graph.kind(name) != "Conv1D":
        return None, None, ()
    config = graph.config(name)
    if config.get("activation") not in _PIECEWISE_LINEAR or config.get("groups", 1) != 1:
        return None, None, ()
    (source,) = graph.args(name)
    if any(window != (0, 0) for window in _windows(graph, source)):
        return None, None, ()  # its input already mixes tokens: the equal split applies
    (kernel,) = config["kernel_size"]
    (dilation,) = config.get("dilation_rate", (1,))
    extent = dilation * (kernel - 1)
    before = extent // 2 if config.get("padding") == "same" else extent
    return name, source, tuple(tap * dilation - before for tap in range(kernel))
