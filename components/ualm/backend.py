"""Backend ``ualm``: one loaded unified model serving planner, generator, captioner, critic and listener.

The roles differ only in the task prompt (prompts/ualm.toml for the recipe's
tasks, prompts/ualm_reason.toml for the reasoning ones) and in what is decoded:
audio codes for the generator, text for the rest. Text answers are parsed into
the typed data with bounded retries: the first try is greedy (the recipe's text
default), later tries sample, so a retry can give a different answer.

To hear its own output the model takes the waveform (the graph already decoded
the codes) through its continuous encoder, as the maintainers describe.

Decoding follows NVIDIA's recipe (decoding.py): every audio stream is sampled
freely, the model ends the audio itself (or the step cap does), and an answer
that ends a segment with <|eot|> goes on with another segment. How the clip's
length meets the requested duration is ``duration_mode`` (clip.py); whatever
differs is stated in the result's notes.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Literal

from ualm_agent.audio import loudness_lufs, resample, stereo_balance
from ualm_agent.devices import TorchSettings
from ualm_agent.errors import UsageError
from ualm_agent.registry import register
from ualm_agent.roles import GenerationRequest, GenerationResult
from ualm_agent.schema import Critique, HeardEvent, Observation, RichCaption
from ualm_agent.structured import generate_validated, parse_critique, parse_rich_caption
from ualm_agent.waveform import Waveform

from .clip import DurationMode

MODEL_RATE = 16000
FRAME_RATE = 50  # X-codec frames per second at 16 kHz


class UalmSettings(TorchSettings):
    kind: Literal["ualm"] = "ualm"
    # A folder written by save_pretrained (or a hub id of one) ...
    model: str | None = None
    # ... or a checkpoint of NVIDIA's recipe with the sources it was trained with.
    checkpoint: str | None = None
    backbone: str = "Qwen/Qwen2.5-1.5B"
    codec: str = "hf-audio/xcodec-hubert-general"
    encoder: str = "Qwen/Qwen2.5-Omni-7B"
    encoder_kind: Literal["qwen2.5-omni", "af-whisper"] = "qwen2.5-omni"
    attn_implementation: str = "sdpa"
    # UNSAFE when True: torch.load then unpickles arbitrary objects from the checkpoint, and unpickling can
    # run any code the file's author put there. Set it only for a checkpoint you made or otherwise trust;
    # left False, only tensors and plain containers load (weights_only=True).
    trust_pickle: bool = False
    # Audio decoding: the recipe's defaults.
    cfg_scale: float = 3.0
    top_k: int = 20
    temperature: float = 0.8
    # The model ends the audio with <|eos|>/<|eot|>, or this many delayed frames end it (the recipe's 1,024, ~20 s).
    max_audio_steps: int = 1024
    # How the clip meets the requested duration: keep the model's length ("model", the recipe), cut or pad it
    # with silence ("trim_or_pad"), or hold decoding to it ("forced", which max_audio_steps does not cap); any
    # difference is stated in the notes.
    duration_mode: DurationMode = "model"
    # Hold each audio stream to its pad inside the delay pattern's regions (the recipe samples them freely).
    force_delay_pads: bool = False
    # An answer goes on after <|eot|> with another segment, as in the recipe, up to this many segments.
    max_segments: int = 4
    # Text decoding.
    max_text_tokens: int = 384
    retries: int = 2


@cache
def _prompts() -> dict[str, dict[str, str]]:
    from ualm_agent import prompts

    return tomllib.loads(prompts.load("ualm_reason.toml"))


@register(
    "ualm",
    roles=("planner", "generator", "captioner", "critic", "listener"),
    config=UalmSettings,
    requires=("torch", "transformers"),
    description="the unified UALM model (your checkpoint) as planner, generator, captioner, critic and listener",
    weights=lambda: "none published: give your own with --model (a UALM folder) or the checkpoint setting",
)
class UalmBackend:
    """The unified UALM model; load a folder (``model``) or a recipe checkpoint (``checkpoint``)."""

    def __init__(
        self,
        *,
        model: str | None = None,
        checkpoint: str | None = None,
        backbone: str = "Qwen/Qwen2.5-1.5B",
        codec: str = "hf-audio/xcodec-hubert-general",
        encoder: str = "Qwen/Qwen2.5-Omni-7B",
        encoder_kind: str = "qwen2.5-omni",
        attn_implementation: str = "sdpa",
        trust_pickle: bool = False,
        cfg_scale: float = 3.0,
        top_k: int = 20,
        temperature: float = 0.8,
        max_audio_steps: int = 1024,
        duration_mode: str = "model",
        force_delay_pads: bool = False,
        max_segments: int = 4,
        max_text_tokens: int = 384,
        retries: int = 2,
        device: str = "auto",
        dtype: str = "auto",
    ) -> None:
        from .checkpoint import build_ualm
        from .clip import DURATION_MODES

        if top_k < 1 or temperature <= 0 or cfg_scale <= 0:
            raise UsageError("ualm: top_k must be at least 1, and temperature and cfg_scale above 0")
        if max_audio_steps < 1 or max_segments < 1:
            raise UsageError("ualm: max_audio_steps and max_segments must be at least 1")
        if duration_mode not in DURATION_MODES:
            raise UsageError(f"ualm: duration_mode must be one of {', '.join(DURATION_MODES)}, not {duration_mode!r}")
        self.lm = build_ualm(
            model,
            checkpoint=checkpoint,
            backbone=backbone,
            codec=codec,
            encoder=encoder,
            encoder_kind=encoder_kind,
            attn_implementation=attn_implementation,
            device=device,
            dtype=dtype,
            trust_pickle=trust_pickle,
        )
        if self.lm.tokenizer is None:
            raise UsageError(f"ualm: {model or backbone} has no text tokenizer files")
        self.name = f"ualm({model or checkpoint})"
        self.cfg_scale, self.top_k, self.temperature = cfg_scale, top_k, temperature
        self.max_audio_steps, self.duration_mode, self.force_delay_pads = max_audio_steps, duration_mode, force_delay_pads
        self.max_segments, self.max_text_tokens, self.retries = max_segments, max_text_tokens, retries
        # As listener and captioner the model hears the same clip twice a round: caption it once.
        self._heard: tuple[bytes, RichCaption] | None = None

    # ------------------------------------------------------------ text in, text out

    def _text_options(self, *, greedy: bool):
        from .decoding import TextOptions

        return TextOptions(max_tokens=self.max_text_tokens, greedy=greedy, top_k=self.top_k,
                           temperature=self.temperature)

    def _answer(self, messages, *, parse, what: str, seed: int = 0):
        from .decoding import generate_segments
        from .sequence import build_sequence, decode_text

        seq = build_sequence(self.lm.vocab, messages, tokenizer=self.lm.tokenizer)
        continuous = seq.continuous(0)
        tries = iter(range(self.retries + 1))

        def produce(_feedback: str | None) -> str:
            attempt = next(tries)
            # A text answer that ends a segment with <|eot|> goes on in another text segment, as in the recipe.
            segments = generate_segments(
                self.lm,
                seq.ids.to(self.lm.device),
                continuous=continuous,
                first="text",
                then=("text",),
                max_segments=self.max_segments,
                text=self._text_options(greedy=attempt == 0),
                generator=seed + attempt,
            )
            return "\n".join(decode_text(self.lm.vocab, self.lm.tokenizer, s.decoded.ids) for s in segments)

        return generate_validated(produce, parse, retries=self.retries, what=what, model=self.name)

    def _text(self, text: str):
        from .sequence import Message

        return Message("user", "text", text)

    # ------------------------------------------------------------ planner

    def plan_messages(self, prompt: str, *, duration_s: float | None = None, answers: Mapping[str, str] | None = None):
        p = _prompts()
        parts = [p["tasks"]["enrich"] + prompt]
        if duration_s is not None:
            parts.append(p["fields"]["duration"].format(seconds=duration_s))
        if answers:
            parts.append(p["fields"]["answers"].format(answers="; ".join(f"{k}: {v}" for k, v in answers.items())))
        return [self._text(" ".join(parts))]

    def plan(
        self, prompt: str, *, duration_s: float | None = None, answers: Mapping[str, str] | None = None
    ) -> RichCaption:
        return self._answer(
            self.plan_messages(prompt, duration_s=duration_s, answers=answers),
            parse=lambda text: parse_rich_caption(text, duration_s=duration_s),
            what="rich caption",
        )

    # ------------------------------------------------------------ generator

    def _audio_options(self, requested_frames: int):
        from .decoding import AudioOptions, fixed_length

        length = fixed_length(requested_frames, self.lm.num_streams) if self.duration_mode == "forced" else {
            "max_steps": self.max_audio_steps}
        return AudioOptions(**length, force_delay_pads=self.force_delay_pads, cfg_scale=self.cfg_scale,
                            top_k=self.top_k, temperature=self.temperature)

    def generate(self, request: GenerationRequest) -> GenerationResult:
        import torch

        from .clip import fit_to_request, joined_codes, segment_notes
        from .decoding import generate_segments
        from .sequence import build_sequence, text_to_audio_messages

        seq = build_sequence(self.lm.vocab, text_to_audio_messages(request.text), tokenizer=self.lm.tokenizer)
        frames = max(1, round(request.duration_s * FRAME_RATE))
        options = self._audio_options(frames)
        # The generator's answer opens with audio; after an <|eot|> the model picks what follows.
        segments = generate_segments(
            self.lm,
            seq.ids.to(self.lm.device),
            first="audio",
            then=("text", "audio"),
            max_segments=self.max_segments,
            audio=options,
            text=self._text_options(greedy=True),
            generator=request.seed,
        )
        with torch.inference_mode():
            samples = self.lm.codec_decode(joined_codes(self.lm, segments)).float().cpu().numpy()
        hop = self.lm.codec.hop_length
        samples, fitted = fit_to_request(samples, frames * hop, mode=self.duration_mode, rate=MODEL_RATE, floor=hop)
        cap = None if self.duration_mode == "forced" else options.max_steps
        notes = segment_notes(self.lm, segments, max_steps=cap) + fitted
        return GenerationResult(audio=Waveform(samples[None, :], MODEL_RATE), notes=tuple(notes))

    # ------------------------------------------------------------ hearing

    def hear_messages(self, audio: Waveform):
        """The audio-to-rich-caption task: the waveform re-encoded by the continuous encoder."""
        import torch

        from .sequence import Message

        mono = resample(Waveform(audio.mono(), audio.sample_rate), MODEL_RATE).samples[0]
        with torch.inference_mode():
            feats = self.lm.encode_audio(mono)
        return [self._text(_prompts()["tasks"]["audio_to_rich_caption"]), Message("user", "audio", feats)]

    def _hear(self, audio: Waveform) -> RichCaption:
        import hashlib

        key = hashlib.sha256(audio.samples.tobytes() + str(audio.sample_rate).encode()).digest()
        if self._heard is not None and self._heard[0] == key:
            return self._heard[1]
        duration = audio.duration_s
        heard = self._answer(
            self.hear_messages(audio), parse=lambda text: parse_rich_caption(text, duration_s=duration), what="rich caption"
        )
        unheard = self.unheard_note(audio)
        if unheard:  # stated with what was heard, so the critic and the reports carry it
            heard = heard.model_copy(update={"assumptions": [*heard.assumptions, unheard]})
        self._heard = (key, heard)
        return heard

    def unheard_note(self, audio: Waveform) -> str:
        """What the model could not hear of ``audio`` (its encoder's front end takes a bounded length), or ''."""
        encoder = self.lm.encoder
        if round(audio.duration_s * MODEL_RATE) <= encoder.max_samples:
            return ""
        return (f"The model heard only the first {encoder.max_seconds:g} s of this {audio.duration_s:.1f} s clip "
                f"(its {encoder.kind} encoder's front end takes no more).")

    def caption(self, observation: Observation, *, audio: Waveform | None = None) -> RichCaption:
        if audio is None:
            raise UsageError("the ualm captioner listens to the audio itself; it needs the waveform, not only an observation")
        return self._hear(audio)

    def listen(self, audio: Waveform, *, hints: Sequence[str] = ()) -> Observation:
        heard = self._hear(audio)
        events = [
            # The model states what it heard; it gives no per-event confidence.
            HeardEvent(label=ev.label, start_s=s, end_s=min(e, audio.duration_s), confidence=1.0)
            for ev in heard.layout
            for s, e in ev.occurrences()
            if s < audio.duration_s
        ]
        return Observation(
            events=events,
            loudness_lufs=loudness_lufs(audio),
            balance=stereo_balance(audio.samples),
            duration_s=audio.duration_s,
            listener="ualm",
        )

    # ------------------------------------------------------------ critic

    def critique_messages(self, plan: RichCaption, heard: RichCaption, *, unrendered: Sequence[str] = ()):
        p = _prompts()
        parts = [
            p["tasks"]["critique"],
            p["fields"]["plan"].format(plan=plan.to_text()),
            p["fields"]["heard"].format(heard=heard.to_text()),
        ]
        if unrendered:
            parts.append(p["fields"]["unrendered"].format(labels=", ".join(unrendered)))
        return [self._text("\n".join(parts))]

    def critique(
        self,
        plan: RichCaption,
        heard: RichCaption,
        observation: Observation,
        *,
        unrendered: Sequence[str] = (),
    ) -> Critique:
        return self._answer(self.critique_messages(plan, heard, unrendered=unrendered), parse=parse_critique, what="critique")
