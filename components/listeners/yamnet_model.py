"""The quantised YAMNet ONNX graph from its model pack, run with onnxruntime.

The pack is a zip holding ``model.onnx`` plus its weights in ``model.data``.
Both are read into memory (nothing is extracted to disk), the weights are
placed inline, and the batch axis is made dynamic so one call scores any
number of patches; they run through the session at most ``BATCH`` at a time,
since the graph's activations grow with the batch (a 30-minute clip in one run
took gigabytes) and larger batches are no faster.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ualm_agent.errors import ModelUnavailableError

BATCH = 64


@dataclass(frozen=True)
class Quantisation:
    audio_scale: float
    audio_zero_point: int
    scores_scale: float
    scores_zero_point: int

    def quantise(self, patches: np.ndarray) -> np.ndarray:
        q = np.rint(patches / self.audio_scale + self.audio_zero_point)
        return np.clip(q, 0, 255).astype(np.uint8)

    def dequantise(self, q: np.ndarray) -> np.ndarray:
        return self.scores_scale * (q.astype(np.float32) - self.scores_zero_point)


class YamnetModel:
    """Patches [N, 96, 64] of log-mel -> logits [N, 521]."""

    def __init__(self, pack: Path, threads: int = 2) -> None:
        import onnxruntime as ort

        model = _read_pack(pack)
        self.quantisation = _quantisation(model)
        self._input = model.graph.input[0].name
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, int(threads))
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(
            model.SerializeToString(), sess_options=opts, providers=["CPUExecutionProvider"]
        )

    def logits(self, patches: np.ndarray) -> np.ndarray:
        if len(patches) == 0:
            return np.zeros((0, 521), dtype=np.float32)
        out = [self._run(patches[i : i + BATCH]) for i in range(0, len(patches), BATCH)]
        return np.concatenate(out)

    def _run(self, patches: np.ndarray) -> np.ndarray:
        q = self.quantisation.quantise(patches)[:, None, :, :]
        (out,) = self._session.run(None, {self._input: q})
        return self.quantisation.dequantise(out)


def _read_pack(pack: Path):
    import onnx

    try:
        with zipfile.ZipFile(pack) as zf:
            names = zf.namelist()
            graph_name = next(n for n in names if n.endswith(".onnx"))
            model = onnx.ModelProto()
            model.ParseFromString(zf.read(graph_name))
            folder = graph_name.rpartition("/")[0]
            blobs: dict[str, bytes] = {}
            for tensor in model.graph.initializer:
                if tensor.data_location != onnx.TensorProto.EXTERNAL:
                    continue
                info = {e.key: e.value for e in tensor.external_data}
                location = f"{folder}/{info['location']}" if folder else info["location"]
                if location not in blobs:
                    blobs[location] = zf.read(location)
                start = int(info.get("offset", 0))
                length = int(info.get("length", len(blobs[location]) - start))
                tensor.raw_data = blobs[location][start : start + length]
                del tensor.external_data[:]
                tensor.data_location = onnx.TensorProto.DEFAULT
    except (zipfile.BadZipFile, StopIteration, KeyError, OSError) as exc:
        raise ModelUnavailableError(f"YAMNet model pack {pack} is unreadable: {exc}") from None
    _batch_axis_dynamic(model)
    return model


def _batch_axis_dynamic(model) -> None:
    """Let the graph take any number of patches (it was exported for one).

    The exporter froze the batch in the input/output shapes and in the flatten
    before the classifier (``Reshape`` to ``[1, -1]``); that reshape becomes
    ``[-1, features]``.
    """
    from onnx import numpy_helper

    for value in (*model.graph.input, *model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "patches"
    initialisers = {t.name: t for t in model.graph.initializer}
    features = _classifier_inputs(model, initialisers)
    for node in model.graph.node:
        if node.op_type != "Reshape" or node.input[1] not in initialisers:
            continue
        shape = numpy_helper.to_array(initialisers[node.input[1]])
        if shape.tolist() == [1, -1]:
            fixed = numpy_helper.from_array(np.array([-1, features], dtype=shape.dtype), node.input[1])
            initialisers[node.input[1]].CopyFrom(fixed)


def _classifier_inputs(model, initialisers) -> int:
    for node in model.graph.node:
        if node.op_type == "QuantizeLinear" and node.input[0] in initialisers:
            dims = list(initialisers[node.input[0]].dims)
            if len(dims) == 2 and dims[0] == 521:
                return int(dims[1])
    raise ModelUnavailableError("YAMNet graph has no 521-way classifier weight")


def _quantisation(model) -> Quantisation:
    from onnx import numpy_helper

    consts = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer if t.name in _QUANT_NAMES}
    missing = _QUANT_NAMES - consts.keys()
    if missing:
        raise ModelUnavailableError(f"YAMNet graph lacks quantisation constants {sorted(missing)}")
    return Quantisation(
        audio_scale=float(consts["audio_scale"]),
        audio_zero_point=int(consts["audio_zero_point"]),
        scores_scale=float(consts["class_scores_scale"]),
        scores_zero_point=int(consts["class_scores_zero_point"]),
    )


_QUANT_NAMES = {"audio_scale", "audio_zero_point", "class_scores_scale", "class_scores_zero_point"}
