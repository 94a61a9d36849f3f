"""A graph's large lookup tables (word embeddings) stored in half precision.

A word-embedding table is the largest single weight of a small encoder
(all-MiniLM-L6-v2: 30,522 rows × 384 = 47 MB of its 90 MB in fp32), and a
question reads only a few of its rows. Stored as fp16 and cast back to fp32
right after the lookup, it costs half the memory of a serving process
(23 MB less) and nothing in the arithmetic: every layer still runs in
fp32, and a row's values are rounded once, by at most 2**-11 of
themselves. The vectors stay torch's (cosine >= 0.9999,
tests/index/embedding/test_onnx.py; 0.99999996 at worst over XQuAD's
questions and sentences).

Only ``Gather`` nodes whose table is an fp32 initializer with at least
``min_rows`` rows change; position and token-type tables stay as they are.
"""

from __future__ import annotations

from typing import Any

MIN_ROWS = 1000


def halve_tables(model: Any, min_rows: int = MIN_ROWS) -> list[str]:
    """Rewrite ``model`` (an ``onnx.ModelProto``) in place: each large fp32
    table read by a ``Gather`` is stored as fp16, its lookup followed by a
    ``Cast`` to fp32. Returns the names of the tables it narrowed.

    >>> import numpy as np
    >>> from onnx import TensorProto, helper, numpy_helper
    >>> table = numpy_helper.from_array(np.arange(4000, dtype=np.float32).reshape(2000, 2), "words")
    >>> graph = helper.make_graph(
    ...     [helper.make_node("Gather", ["words", "ids"], ["rows"])], "g",
    ...     [helper.make_tensor_value_info("ids", TensorProto.INT64, [None])],
    ...     [helper.make_tensor_value_info("rows", TensorProto.FLOAT, [None, 2])], [table])
    >>> model = helper.make_model(graph)
    >>> halve_tables(model)
    ['words']
    >>> [n.op_type for n in model.graph.node], model.graph.initializer[0].data_type == TensorProto.FLOAT16
    (['Gather', 'Cast'], True)
    >>> halve_tables(model)  # once is all: an fp16 table is left alone
    []
    >>> model.graph.initializer[0].CopyFrom(numpy_helper.from_array(np.full((2000, 2), 1e6, np.float32), "words"))
    >>> halve_tables(model)  # values fp16 cannot hold stay fp32
    []
    """
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    readers: dict[str, set[str]] = {}  # a table's name -> the kinds of node that read it (and how)
    for node in graph.node:
        for i, name in enumerate(node.input):
            readers.setdefault(name, set()).add("lookup" if node.op_type == "Gather" and i == 0 else node.op_type)
    narrowed = []
    for table in graph.initializer:
        if (table.data_type != TensorProto.FLOAT or len(table.dims) != 2 or table.dims[0] < min_rows
                or readers.get(table.name) != {"lookup"}):  # a table some other node reads (tied weights) stays
            continue
        values = numpy_helper.to_array(table)
        if np.abs(values).max() > np.finfo(np.float16).max:  # would read back as infinity
            continue
        table.CopyFrom(numpy_helper.from_array(values.astype(np.float16), table.name))
        narrowed.append(table.name)
    if not narrowed:
        return []
    nodes = []
    for node in graph.node:
        nodes.append(node)
        if node.op_type == "Gather" and node.input[0] in narrowed:
            rows = node.output[0]
            node.output[0] = f"{rows}_fp16"
            nodes.append(helper.make_node("Cast", [node.output[0]], [rows], to=TensorProto.FLOAT,
                                          name=f"{node.name or rows}_to_fp32"))
    del graph.node[:]
    graph.node.extend(nodes)
    return narrowed
