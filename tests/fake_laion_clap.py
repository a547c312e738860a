"""A stand-in for the ``laion_clap`` package, with the same API as laion-clap 1.1.7.

The real package cannot be installed here (it imports torchvision and fetches
tokenizers at import). This one mirrors what the listener calls:
``CLAP_Module(enable_fusion=, device=, amodel=, tmodel=)``,
``load_ckpt(ckpt, model_id=-1, verbose=True)``, ``model.get_logit_scale()``,
``get_audio_embedding_from_data(x, use_tensor=False)`` (mono 48 kHz pieces,
int16-quantised, repeat-padded to 10 s) and ``get_text_embedding(x, use_tensor=False)``,
both returning unit rows.

Its "model" hears spectrum: an audio embedding is the share of energy in five
frequency bands plus a silence dimension; a text embedding is the band
profile of the sound it names. So it detects a low hum and a high whistle
where they sound, which exercises the listener's windows and timing.
A checkpoint is a ``torch.save``'d dict naming the ``amodel`` it was trained for.
"""

from __future__ import annotations

import sys
import types

import numpy as np

RATE = 48000
MAX_LEN = 480000
BAND_EDGES_HZ = (0, 300, 1000, 2500, 6000, RATE / 2)
SILENT_RMS = 1e-3
PROFILES = {  # keyword -> [bands..., silence]
    "hum": [1, 0, 0, 0, 0, 0],
    "whistle": [0, 0, 0, 0, 1, 0],
    "speech": [0.3, 1, 0.6, 0, 0, 0],
    "music": [0.5, 0.7, 0.7, 0.3, 0, 0],
    "silence": [0, 0, 0, 0, 0, 1],
    "noise": [1, 1, 1, 1, 1, 0],
}
calls: list[tuple] = []


class _Model:
    def __init__(self) -> None:
        import torch

        self.logit_scale_a = torch.nn.Parameter(torch.tensor(float(np.log(1 / 0.07))))
        self.logit_scale_t = torch.nn.Parameter(torch.tensor(float(np.log(1 / 0.07))))

    def get_logit_scale(self):
        return self.logit_scale_a.exp(), self.logit_scale_t.exp()


class CLAP_Module:  # noqa: N801 - the real class's name
    def __init__(self, enable_fusion=False, device=None, amodel="HTSAT-tiny", tmodel="roberta") -> None:
        self.enable_fusion = enable_fusion
        self.amodel = amodel
        self.device = device
        self.model = _Model()
        self.loaded: str | None = None
        calls.append(("init", enable_fusion, amodel, device))

    def load_ckpt(self, ckpt=None, model_id=-1, verbose=True):
        import torch

        if ckpt is None:
            raise RuntimeError("the fake cannot download checkpoints")
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
        if state.get("amodel") != self.amodel:
            raise RuntimeError(f"Error(s) in loading state_dict for CLAP: size mismatch for audio_branch ({state.get('amodel')})")
        self.loaded = str(ckpt)
        calls.append(("load_ckpt", str(ckpt)))

    def get_audio_embedding_from_data(self, x, use_tensor=False):
        rows = []
        for piece in x:
            piece = np.asarray(piece, dtype=np.float32)
            piece = (np.clip(piece, -1, 1) * 32767).astype(np.int16).astype(np.float32) / 32767  # as the package quantises
            if len(piece) < MAX_LEN:  # repeatpad
                piece = np.tile(piece, MAX_LEN // max(1, len(piece)) + 1)[:MAX_LEN]
            spectrum = np.abs(np.fft.rfft(piece)) ** 2
            freqs = np.fft.rfftfreq(len(piece), 1 / RATE)
            bands = np.array([spectrum[(freqs >= a) & (freqs < b)].sum() for a, b in zip(BAND_EDGES_HZ, BAND_EDGES_HZ[1:])])
            bands = bands / max(bands.sum(), 1e-20)
            silent = float(np.sqrt(np.mean(piece**2)) < SILENT_RMS)
            rows.append(np.append(bands * (1 - silent), silent))
        return _out(np.array(rows), use_tensor)

    def get_text_embedding(self, x, tokenizer=None, use_tensor=False):
        rows = []
        for text in x:
            lower = text.lower()
            profile = next((p for k, p in PROFILES.items() if k in lower), [0.2, 0.2, 0.2, 0.2, 0.2, 0.2])
            rows.append(np.array(profile, dtype=np.float64))
        return _out(np.array(rows), use_tensor)


def _out(rows: np.ndarray, use_tensor: bool):
    rows = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    if use_tensor:
        import torch

        return torch.from_numpy(rows.astype(np.float32))
    return rows.astype(np.float32)


def install(monkeypatch) -> types.ModuleType:
    """Place this fake in ``sys.modules`` as ``laion_clap`` for one test."""
    module = types.ModuleType("laion_clap")
    module.CLAP_Module = CLAP_Module
    monkeypatch.setitem(sys.modules, "laion_clap", module)
    calls.clear()
    return module
