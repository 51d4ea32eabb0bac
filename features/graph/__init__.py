"""Graph stage: account graphs, numba graph kernels, graph features and fraud rings.

graphs = build_graphs(ds, config)
features = build_graph_features(ds, graphs, behaviour, config)
rings = find_rings(ds, graphs, config)
label_features = bad_neighbour_share(label_graphs(graphs), known_bad, known)  # out of fold
"""

from features.graph.build import Graphs, build_graphs
from features.graph.features import build_graph_features
from features.graph.labels import LabelGraphs, bad_neighbour_share, label_graphs
from features.graph.rings import Rings, find_rings

__all__ = [
    "Graphs",
    "LabelGraphs",
    "Rings",
    "bad_neighbour_share",
    "build_graph_features",
    "build_graphs",
    "find_rings",
    "label_graphs",
]
