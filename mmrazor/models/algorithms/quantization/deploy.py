# Copyright (c) OpenMMLab. All rights reserved.
"""Deploy a converted PT2E model: x86 int8, QDQ ONNX, and checks of both.

:meth:`MMArchitectureQuant.get_deploy_model` gives a converted graph:
quantize/dequantize ops around int8 weights, computed in fp32 (it only
simulates int8, and is slower than fp32). From it:

- :func:`lower_to_x86` runs torchao's ``lower_pt2e_quantized_to_x86``
  (seconds, no compiler): oneDNN int8 kernels in an FX graph, for one
  batch size;
- :func:`compile_int8` uses ``torch.compile`` with Inductor freezing (tens
  of seconds per model and shape on 2 cores, needs a C++ compiler);
- :func:`export_qdq_onnx` writes QDQ ONNX (``QuantizeLinear`` /
  ``DequantizeLinear`` around float ops) that onnxruntime, OpenVINO and
  TensorRT read; :func:`check_onnx` runs it in onnxruntime (or, where
  installed, OpenVINO) and
  :func:`onnx_qdq_structure` checks that every conv/matmul reads
  dequantized inputs (TensorRT's explicit quantization needs it).

Every check compares against the model it came from with
:func:`compare_outputs` (SQNR, top-1 agreement, largest difference).
"""
import contextlib
import os
from typing import Dict, Iterator, List, Sequence, Tuple

import torch
from torch.fx import GraphModule

from mmrazor.utils.atomic_file import atomic_open
from mmrazor.utils.torchao_import import import_pt2e

from .sensitivity import sqnr

#: ONNX ops that compute with weights or two activations.
ONNX_COMPUTE_OPS = ('Conv', 'ConvTranspose', 'Gemm', 'MatMul')


def compare_outputs(reference: torch.Tensor,
                    output: torch.Tensor) -> Dict[str, float]:
    """SQNR (dB), top-1 agreement (fraction) and largest difference of
    two ``(N, classes)`` logits."""
    reference = torch.as_tensor(reference).float()
    output = torch.as_tensor(output).float()
    if reference.shape != output.shape:
        raise ValueError(f'compare_outputs: shapes differ: '
                         f'{tuple(reference.shape)} vs {tuple(output.shape)}')
    top1 = (reference.argmax(-1) == output.argmax(-1)).float().mean()
    return dict(
        sqnr=sqnr(reference, output),
        top1_agreement=float(top1),
        max_abs_diff=float((reference - output).abs().max()))


def graph_tensor_bytes(graph: GraphModule) -> int:
    """Bytes of the tensors a graph reads (its ``get_attr`` nodes).

    For a converted graph: the int8 weights, the fp32 biases and the
    scales and zero points; float weights it still holds but no longer
    reads are not counted. The size of the deployed model.
    """
    seen = set()
    total = 0
    for node in graph.graph.nodes:
        if node.op != 'get_attr' or node.target in seen:
            continue
        seen.add(node.target)
        value = graph
        for part in node.target.split('.'):
            value = getattr(value, part)
        if isinstance(value, torch.Tensor):
            total += value.numel() * value.element_size()
    return total


@torch.no_grad()
def lower_to_x86(converted: GraphModule,
                 example_inputs: Tuple[torch.Tensor, ...]) -> GraphModule:
    """Lower a converted graph to oneDNN int8 kernels (no compiler).

    Args:
        converted (GraphModule): From ``get_deploy_model()``.
        example_inputs (tuple): Inputs of the batch size to run (the
            lowered graph is specialised to their shapes).

    Returns:
        GraphModule: The lowered graph.
    """
    import_pt2e()
    from torchao.quantization.pt2e.lowering import lower_pt2e_quantized_to_x86
    return lower_pt2e_quantized_to_x86(converted, tuple(example_inputs))


@contextlib.contextmanager
def _inductor_freezing() -> Iterator[None]:
    import torch._inductor.config as inductor_config
    old = inductor_config.freezing
    inductor_config.freezing = True
    try:
        yield
    finally:
        inductor_config.freezing = old


class _Frozen(torch.nn.Module):
    """Calls a compiled module under Inductor freezing and ``no_grad``, so
    that a recompilation (e.g. from a grad-mode guard) freezes too."""

    def __init__(self, compiled: torch.nn.Module) -> None:
        super().__init__()
        self.compiled = compiled

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        with _inductor_freezing(), torch.no_grad():
            return self.compiled(*args)


def compile_int8(converted: GraphModule,
                 example_inputs: Tuple[torch.Tensor, ...]) -> torch.nn.Module:
    """``torch.compile`` a converted graph with Inductor freezing, and run
    it once on ``example_inputs`` (the compilation happens there).

    Returns:
        nn.Module: The compiled module; every call runs under freezing and
        ``torch.no_grad`` (call it under the same shapes).
    """
    frozen = _Frozen(torch.compile(converted))
    frozen(*example_inputs)
    return frozen


def export_qdq_onnx(converted: GraphModule,
                    example_inputs: Tuple[torch.Tensor, ...],
                    path: str,
                    dynamic_batch: bool = True) -> str:
    """Write a converted graph as QDQ ONNX (``torch.onnx``, dynamo).

    Args:
        converted (GraphModule): From ``get_deploy_model()``.
        example_inputs (tuple): Example inputs.
        path (str): Destination ``.onnx`` (written atomically).
        dynamic_batch (bool): Leave the batch dimension free. Defaults to
            True.

    Returns:
        str: ``path``.
    """
    dynamic_shapes = None
    if dynamic_batch:
        batch = torch.export.Dim('batch', min=1, max=1 << 16)
        dynamic_shapes = tuple({0: batch} for _ in example_inputs)
    with torch.no_grad():
        program = torch.onnx.export(
            converted,
            tuple(example_inputs),
            dynamo=True,
            dynamic_shapes=dynamic_shapes,
            verbose=False)
    with atomic_open(path, 'wb', what='ONNX model') as f:
        f.write(program.model_proto.SerializeToString())
    return path


def run_onnx(path: str, inputs: torch.Tensor) -> torch.Tensor:
    """Run an ONNX model in onnxruntime (CPU) on one input."""
    import onnxruntime as ort
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    name = session.get_inputs()[0].name
    return torch.from_numpy(session.run(None, {name: inputs.numpy()})[0])


def run_openvino(path: str, inputs: torch.Tensor) -> torch.Tensor:
    """Run an ONNX model in the OpenVINO runtime (CPU) on one input.

    OpenVINO reads the QDQ pairs and runs the convs and matmuls between
    them with its int8 kernels. Needs the ``openvino`` wheel
    (``pip install "mmrazor[openvino]"``).
    """
    try:
        import openvino as ov
    except ImportError as e:
        raise ImportError('run_openvino needs the OpenVINO runtime: pip '
                          'install "mmrazor[openvino]" (or openvino)') from e
    compiled = ov.Core().compile_model(path, 'CPU')
    result = compiled([inputs.numpy()])
    return torch.from_numpy(result[compiled.output(0)].copy())


def check_onnx(path: str,
               converted: GraphModule,
               inputs: torch.Tensor,
               runtime: str = 'onnxruntime') -> Dict[str, float]:
    """Compare a runtime's outputs of ``path`` with ``converted``'s.

    Args:
        path (str): The QDQ ONNX file.
        converted (GraphModule): The model it was exported from.
        inputs (Tensor): One input batch.
        runtime (str): ``'onnxruntime'`` or ``'openvino'``.

    Returns:
        dict: See :func:`compare_outputs`.
    """
    runners = dict(onnxruntime=run_onnx, openvino=run_openvino)
    if runtime not in runners:
        raise ValueError(f'check_onnx: runtime={runtime!r}; allowed: '
                         f'{sorted(runners)}')
    with torch.no_grad():
        reference = converted(inputs)
    return compare_outputs(reference, runners[runtime](path, inputs))


def onnx_qdq_structure(path: str) -> Dict[str, object]:
    """Count Q/DQ nodes and list compute ops reading a non-dequantized
    input (what TensorRT's explicit quantization cannot run in int8).

    Returns:
        dict: ``quantize`` and ``dequantize`` counts, ``compute`` (number of
        ``Conv``/``Gemm``/``MatMul`` nodes) and ``float_inputs`` (list of
        ``'node_name:input'`` fed by something else than a
        ``DequantizeLinear``).
    """
    import onnx
    model = onnx.load(path)
    graph = model.graph
    producers = {out: node for node in graph.node for out in node.output}
    float_inputs: List[str] = []
    compute = 0
    for node in graph.node:
        if node.op_type not in ONNX_COMPUTE_OPS:
            continue
        compute += 1
        for inp in list(node.input)[:2]:
            producer = producers.get(inp)
            if producer is None or producer.op_type != 'DequantizeLinear':
                float_inputs.append(f'{node.name}:{inp}')
    ops = [node.op_type for node in graph.node]
    return dict(
        quantize=ops.count('QuantizeLinear'),
        dequantize=ops.count('DequantizeLinear'),
        compute=compute,
        float_inputs=float_inputs)


def save_int8_program(converted: GraphModule,
                      example_inputs: Sequence[torch.Tensor],
                      path: str) -> str:
    """Save the converted graph as a ``torch.export`` program (``.pt2``),
    loadable with ``torch.export.load`` (no pickle)."""
    batch = torch.export.Dim('batch', min=1, max=1 << 16)
    program = torch.export.export(
        converted,
        tuple(example_inputs),
        dynamic_shapes=tuple({0: batch} for _ in example_inputs),
        strict=True)
    tmp = f'{path}.tmp{os.getpid()}'
    torch.export.save(program, tmp)
    os.replace(tmp, path)
    return path
