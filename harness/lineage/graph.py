"""The pipeline's topology, drawn: components, queues (with their DLQs), topics, filters.

`mermaid(spec)` gives a Mermaid flowchart to paste into Markdown; `draw(spec, path)`
writes a PNG or SVG a person can open, laid out left to right in the direction messages
flow (networkx for the layout, matplotlib for the picture: the `graph` extra, both pure
PyPI packages, no system Graphviz needed).

    print(mermaid(load_spec("pipeline.yaml")))
    draw(load_spec("pipeline.yaml"), Path("pipeline.png"))
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from harness.errors import HarnessError
from harness.lineage.recorder import with_lineage_recorder
from harness.spec import KIND_NAMES, ComponentSpec, PipelineSpec, RunMode, Subscription

NodeKind = Literal["component", "queue", "dlq", "topic", "table"]
IMAGE_SUFFIXES = (".png", ".svg")


class GraphError(HarnessError):
    """The picture cannot be drawn (missing extra, unsupported file type)."""


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    kind: NodeKind


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""
    dashed: bool = False


@dataclass(frozen=True)
class Topology:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def topology(spec: PipelineSpec) -> Topology:
    """Every resource and every path a message can take, the lineage recorder included."""
    spec = with_lineage_recorder(spec)
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []
    for topic in spec.all_topics:
        nodes[_id("t", topic)] = Node(_id("t", topic), topic, "topic")
    for component in spec.components.values():
        edges += _component(component, nodes)
    if spec.lineage_table:
        table = _id("d", spec.lineage_table)
        nodes[table] = Node(table, f"{spec.lineage_table} (DynamoDB)", "table")
        edges.append(Edge(_id("c", "pylon-lineage"), table, "put step"))
    return Topology(tuple(nodes.values()), tuple(edges))


def _component(component: ComponentSpec, nodes: dict[str, Node]) -> list[Edge]:
    own = _id("c", component.name)
    mode = " (lambda)" if component.mode is RunMode.LAMBDA else ""
    kind = next(name for name, kind in KIND_NAMES.items() if kind is component.kind)
    nodes[own] = Node(own, f"{component.name}\n{kind}{mode}", "component")
    edges: list[Edge] = []
    if component.input_queue:
        queue = _id("q", component.input_queue)
        nodes[queue] = Node(queue, component.input_queue, "queue")
        edges.append(Edge(queue, own))
        edges += [Edge(_id("t", s.topic), queue, filter_label(s)) for s in component.subscriptions]
        if component.dead_letter_queue:
            dlq = _id("q", component.dead_letter_queue)
            nodes[dlq] = Node(dlq, component.dead_letter_queue, "dlq")
            edges.append(Edge(queue, dlq, f"after {component.max_receive_count} receives", True))
    if component.output_topic:
        edges.append(Edge(own, _id("t", component.output_topic)))
    return edges


def filter_label(subscription: Subscription) -> str:
    """`objectType: dataAsset | urlResource`; conditions as compact JSON."""
    if not subscription.filter_policy:
        return ""
    parts = []
    for attribute, rule in subscription.filter_policy.items():
        values = [v if isinstance(v, str) else json.dumps(v) for v in rule]
        parts.append(f"{attribute}: {' | '.join(values)}")
    return "; ".join(parts)


def _id(prefix: str, name: str) -> str:
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"


# ---------------------------------------------------------------- Mermaid

_MERMAID_SHAPES: dict[NodeKind, tuple[str, str]] = {
    "component": ('["', '"]'),
    "queue": ('[/"', '"/]'),
    "dlq": ('[/"', '"/]'),
    "topic": ('{{"', '"}}'),
    "table": ('[("', '")]'),
}


def mermaid(spec: PipelineSpec) -> str:
    """A Mermaid flowchart (left to right) of the pipeline."""
    graph = topology(spec)
    lines = ["flowchart LR"]
    for node in graph.nodes:
        opening, closing = _MERMAID_SHAPES[node.kind]
        lines.append(f"    {node.id}{opening}{_mermaid_text(node.label)}{closing}")
    for edge in graph.edges:
        arrow = "-.->" if edge.dashed else "-->"
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"    {edge.source} {arrow}{label} {edge.target}")
    lines += [
        "    classDef topic fill:#fde68a,stroke:#b45309",
        "    classDef queue fill:#bfdbfe,stroke:#1d4ed8",
        "    classDef dlq fill:#fecaca,stroke:#b91c1c",
        "    classDef table fill:#e9d5ff,stroke:#7e22ce",
    ]
    for kind in ("topic", "queue", "dlq", "table"):
        members = [node.id for node in graph.nodes if node.kind == kind]
        if members:
            lines.append(f"    class {','.join(members)} {kind}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", "<br/>")


# ---------------------------------------------------------------- image

_COLOURS: dict[NodeKind, str] = {
    "component": "#d1fae5",
    "queue": "#bfdbfe",
    "dlq": "#fecaca",
    "topic": "#fde68a",
    "table": "#e9d5ff",
}


def check_image_path(path: Path) -> None:
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise GraphError(
            f"{path}: the image must be .png or .svg, not {path.suffix or 'no suffix'!r}"
        )


def draw(spec: PipelineSpec, path: Path) -> Path:
    """Write the topology as a PNG or SVG image (by `path`'s suffix); return `path`."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise GraphError(
            f"{path}: the image must be .png or .svg, not {path.suffix or 'no suffix'!r}"
        )
    try:
        import networkx as nx
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise GraphError(
            f"drawing needs the graph extra ({exc.name} is missing): "
            "pip install 'pylon-pipelines[graph]'"
        ) from None
    graph = topology(spec)
    digraph = _digraph(nx, graph)
    positions = nx.multipartite_layout(digraph, subset_key="layer", align="vertical")
    layers = max(nx.get_node_attributes(digraph, "layer").values()) + 1
    tallest = max(_layer_sizes(digraph).values())
    figure = Figure(figsize=(max(6.0, 3.2 * layers), max(3.0, 1.4 * tallest)))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_title(f"pipeline {spec.name}")
    _draw_edges(nx, digraph, positions, axes)
    for node in graph.nodes:
        x, y = positions[node.id]
        axes.text(
            x, y, node.label, ha="center", va="center", fontsize=8, zorder=3,
            bbox={"boxstyle": _BOXES[node.kind], "facecolor": _COLOURS[node.kind], "edgecolor": "#374151"},
        )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=150, bbox_inches="tight")
    return path


_BOXES: dict[NodeKind, str] = {
    "component": "round,pad=0.5",
    "queue": "square,pad=0.4",
    "dlq": "square,pad=0.4",
    "topic": "sawtooth,pad=0.4",
    "table": "round4,pad=0.4",
}


def _digraph(nx: Any, graph: Topology) -> Any:
    """A networkx DiGraph whose nodes carry a `layer`: the longest path from a start."""
    digraph = nx.DiGraph()
    digraph.add_nodes_from(node.id for node in graph.nodes)
    for edge in graph.edges:
        digraph.add_edge(edge.source, edge.target, label=edge.label, dashed=edge.dashed)
    # Cycles (a component feeding a topic upstream of itself) are collapsed first, so
    # every node still gets a layer.
    condensed = nx.condensation(digraph)
    depth: dict[int, int] = {}
    for member in nx.topological_sort(condensed):
        parents = list(condensed.predecessors(member))
        depth[member] = 1 + max(depth[p] for p in parents) if parents else 0
    for node, member in condensed.graph["mapping"].items():
        digraph.nodes[node]["layer"] = depth[member]
    return digraph


def _layer_sizes(digraph: Any) -> dict[int, int]:
    sizes: dict[int, int] = {}
    for _, layer in digraph.nodes(data="layer"):
        sizes[layer] = sizes.get(layer, 0) + 1
    return sizes


def _draw_edges(nx: Any, digraph: Any, positions: Any, axes: Any) -> None:
    for dashed in (False, True):
        edges = [(a, b) for a, b, d in digraph.edges(data="dashed") if d is dashed]
        nx.draw_networkx_edges(
            digraph, positions, edgelist=edges, ax=axes, arrows=True, arrowsize=14,
            style="dashed" if dashed else "solid", edge_color="#6b7280", node_size=2500,
        )  # fmt: skip
    labels = {(a, b): label for a, b, label in digraph.edges(data="label") if label}
    nx.draw_networkx_edge_labels(digraph, positions, edge_labels=labels, ax=axes, font_size=7)
