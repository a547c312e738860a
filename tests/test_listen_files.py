"""`ualm-agent listen` on real files: any channel count, any length, in bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

import recordings
from conftest import ROOT
from ualm_agent.audio import loudness_lufs, read_audio, stereo_balance
from ualm_agent.audio_stream import STREAM_ABOVE_BYTES, WHOLE_FILE_LIMIT_BYTES, AudioFileInfo, probe_audio
from ualm_agent.components.listeners import streaming
from ualm_agent.listening import listen_to_file
from ualm_agent.components.listeners.yamnet import YamnetListener
from ualm_agent.errors import UsageError
from ualm_agent.waveform import Waveform

sys.path.insert(0, str(ROOT / "benchmarks"))
import listen_memory  # noqa: E402

RATE = recordings.RATE
PHONE = set(recordings.SOURCES["phone-incoming-call"])


def cli(args, env, timeout=300):
    return subprocess.run([sys.executable, "-m", "ualm_agent.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def listener() -> YamnetListener:
    reason = recordings.missing_tools()
    assert not reason, reason
    return YamnetListener()


# -- channel counts ------------------------------------------------------------
def _spread(stereo: np.ndarray, channels: int) -> np.ndarray:
    """[frames, channels]: the stereo pair as channels 0 and 1 (front left/right), the rest
    quieter copies of the left or right side (centre, LFE, surrounds, or no layout at all)."""
    out = np.empty((stereo.shape[1], channels), dtype=np.float32)
    out[:, 0], out[:, 1] = stereo
    for c in range(2, channels):
        out[:, c] = 0.3 * stereo[c % 2]
    return out


@pytest.fixture(scope="module")
def left_ringing() -> np.ndarray:
    """30 s of a phone ringing and a voice, panned left: [2, frames] at 48 kHz."""
    takes = [recordings.mixture("side-left-ring", pan=-0.8, seed=i).audio.samples for i in range(5)]
    return np.concatenate(takes, axis=1)


@pytest.mark.parametrize("channels", [3, 6, 8, 16])
def test_any_channel_count_is_heard(tmp_path, cli_env, listener, left_ringing, channels):
    path = tmp_path / f"ring-{channels}ch.wav"
    sf.write(path, _spread(left_ringing, channels), RATE, subtype="FLOAT")
    streamed = probe_audio(path).decoded_bytes > STREAM_ABOVE_BYTES
    assert streamed == (channels >= 6)  # 30 s: 3 channels are read whole, 6 or more stream: both paths run
    res = cli(["listen", str(path), "--json"], cli_env)
    assert res.returncode == 0, res.stderr
    obs = json.loads(res.stdout)["observation"]
    assert len(res.stdout.strip().splitlines()) == 1  # stdout holds the JSON alone
    # The bar shows for a streamed file, on stderr, and nowhere else.
    assert ("listening" in res.stderr and "100%" in res.stderr) == streamed, res.stderr
    assert obs["duration_s"] == pytest.approx(30.0)
    assert any(e["label"] in PHONE for e in obs["events"]), [e["label"] for e in obs["events"]]
    assert isinstance(obs["loudness_lufs"], float) and -40 < obs["loudness_lufs"] < 0
    if channels <= 8:  # channels 0 and 1 are the front pair: heard on the left
        assert obs["balance"] < -0.3
        assert all(e["balance"] < -0.3 for e in obs["events"] if e["label"] in PHONE)
    else:  # no speaker layout names 16 channels: no left or right to report
        assert obs["balance"] == 0.0
    # Streamed or read whole, the file is heard the same.
    whole = listener.listen(read_audio(path)).model_dump(mode="json")
    assert [(e["label"], e["start_s"], e["end_s"]) for e in obs["events"]] == [
        (e["label"], e["start_s"], e["end_s"]) for e in whole["events"]
    ]
    assert obs["loudness_lufs"] == pytest.approx(whole["loudness_lufs"], abs=0.011)


def test_progress_bar_is_live_on_a_terminal_and_gone_when_done(tmp_path, cli_env, left_ringing):
    import os
    import pty
    import threading

    path = tmp_path / "eight.wav"
    sf.write(path, _spread(left_ringing, 8), RATE, subtype="FLOAT")
    master, terminal = pty.openpty()
    shown = bytearray()

    def drain() -> None:  # the terminal's screen; read as it comes so the bar never blocks
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    env = {**cli_env, "TERM": "xterm", "COLUMNS": "100"}
    res = subprocess.run([sys.executable, "-m", "ualm_agent.cli", "listen", str(path), "--json"], env=env,
                         stdout=subprocess.PIPE, stderr=terminal, text=True, timeout=300)
    os.close(terminal)
    reader.join(timeout=10)
    os.close(master)
    assert res.returncode == 0
    assert json.loads(res.stdout)["observation"]["duration_s"] == pytest.approx(30.0)
    screen = shown.decode(errors="replace")
    assert "listening" in screen and "100%" in screen
    assert screen.rstrip().endswith("\x1b[2K")  # the bar's line erased at the end


def test_bad_samples_midway_through_a_streamed_file_are_one_line(tmp_path, cli_env, left_ringing):
    samples = _spread(left_ringing, 8)
    samples[22 * RATE, 3] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, samples, RATE, subtype="FLOAT")
    res = cli(["listen", str(path), "--json"], cli_env)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.strip().splitlines() == [f"error: cannot listen to {path}: NaN or infinite samples after 20.0 s"]


def test_loudness_agrees_with_pyloudnorm_where_it_measures():
    import pyloudnorm

    rng = np.random.default_rng(3)
    for channels in (1, 2, 5):
        x = (rng.standard_normal((channels, 7 * 44100)) * 0.1).astype(np.float32)
        x[:, : 2 * 44100] *= 0.01  # a quiet stretch for the relative gate to drop
        expected = pyloudnorm.Meter(44100).integrated_loudness(x.T.astype(np.float64))
        assert loudness_lufs(Waveform(x, 44100)) == pytest.approx(expected, abs=1e-6)


def test_surround_channels_are_weighted_as_bs1770_says():
    """5.1: the LFE is left out, a surround counts 1.41 times (+1.49 dB) a front channel."""
    rng = np.random.default_rng(4)
    tone = (rng.standard_normal(48000 * 3) * 0.1).astype(np.float32)

    def loudness_with_signal_in(channel: int) -> float | None:
        x = np.zeros((6, tone.size), dtype=np.float32)
        x[channel] = tone
        return loudness_lufs(Waveform(x, 48000))

    front, lfe, surround = loudness_with_signal_in(0), loudness_with_signal_in(3), loudness_with_signal_in(4)
    assert lfe is None
    assert surround - front == pytest.approx(10 * np.log10(1.41), abs=1e-9)


def test_more_than_eight_channels_are_measured_as_their_downmix():
    rng = np.random.default_rng(5)
    mono = (rng.standard_normal(48000 * 2) * 0.1).astype(np.float32)
    many = Waveform(np.tile(mono, (16, 1)), 48000)
    assert loudness_lufs(many) == pytest.approx(loudness_lufs(Waveform(mono, 48000)), abs=1e-9)
    assert stereo_balance(many.samples) == 0.0
    right = np.zeros((8, mono.size), dtype=np.float32)
    right[1] = mono
    assert stereo_balance(right) == pytest.approx(1.0)  # up to 8 channels, 0 and 1 are front left/right


# -- long files ------------------------------------------------------------------
@pytest.fixture(scope="module")
def long_recording(tmp_path_factory):
    """Every real-recording mixture at four levels, end to end: 4.4 min of 48 kHz stereo."""
    path = tmp_path_factory.mktemp("long") / "all-mixtures.wav"
    audio = np.concatenate([r.audio.samples for r in recordings.all_recordings()], axis=1)
    sf.write(path, audio.T, RATE, subtype="PCM_16")
    return path


def _timeline(obs):
    return [(e.label, e.start_s, e.end_s) for e in obs.events]


@pytest.mark.parametrize("block_s", [streaming.BLOCK_S, 2.37])
def test_streamed_file_is_heard_as_the_whole_file_is(listener, long_recording, monkeypatch, block_s):
    """Blocks change nothing the listener reports. The 16 kHz signal is the same (soxr's stream
    gives its one-shot samples), frames and patches are cut at the same samples, so the scores and
    the events' labels and times match exactly; event levels are summed per 10 ms step instead of
    per sample (edges move by at most one sample: 0.01 dB after rounding), and loudness sums its
    400 ms blocks in another order (float rounding)."""
    monkeypatch.setattr(streaming, "BLOCK_S", block_s)
    whole = listener.listen(read_audio(long_recording))
    streamed = listener.listen_file(long_recording)
    assert whole.duration_s == streamed.duration_s == pytest.approx(264.0)
    assert len(whole.events) > 200
    assert _timeline(streamed) == _timeline(whole)
    for a, b in zip(streamed.events, whole.events):
        assert a.confidence == b.confidence
        assert a.loudness_db == pytest.approx(b.loudness_db, abs=0.011)
        assert a.balance == pytest.approx(b.balance, abs=1e-3)
    assert streamed.loudness_lufs == pytest.approx(whole.loudness_lufs, abs=0.011)
    assert streamed.balance == pytest.approx(whole.balance, abs=1e-3)
    assert [(s.start_s, s.end_s) for s in streamed.speech] == [(s.start_s, s.end_s) for s in whole.speech]


def test_sound_spanning_block_boundaries_is_one_event(tmp_path, listener):
    """Pink noise from 5 s to 35 s crosses the block edges at 10, 20 and 30 s: one event."""
    src = recordings.source("audio-test-signal")
    mix = np.random.default_rng(0).standard_normal((2, 60 * RATE)).astype(np.float32) * np.float32(1e-3)
    mix[:, 5 * RATE : 35 * RATE] += np.tile(src.samples, (1, -(-30 * RATE // src.frames)))[:, : 30 * RATE]
    path = tmp_path / "noise.wav"
    sf.write(path, mix.T, RATE, subtype="PCM_16")
    assert streaming.BLOCK_S == 10.0
    pink = [(e.start_s, e.end_s) for e in listener.listen_file(path).events if e.label == "Pink noise"]
    assert len(pink) == 1, pink
    assert pink[0][0] == pytest.approx(5.0, abs=0.25) and pink[0][1] == pytest.approx(35.0, abs=0.25)


def test_memory_stays_bounded_on_a_20_minute_file(tmp_path):
    """20 min of 16 kHz mono: the whole-file front end peaked near 2 GB on this file (1.96 GB
    measured before streaming); streamed, the process stays near its size on a short clip (~220 MB)."""
    path = tmp_path / "twenty-minutes.wav"
    listen_memory.write_test_file(path, 20, 16000, 1)
    row = listen_memory.listen_in_fresh_process(path)
    print(f"\n20 min 16 kHz mono: {row}")
    assert row["heard_duration_s"] == pytest.approx(1200.0)
    assert row["events"] > 100  # a beep every 6 s, a burst every 20 s
    assert row["peak_rss_mb"] < 400


def test_benchmark_runs_in_its_quick_mode():
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "listen_memory.py"), "--minutes", "1", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [(r["file"], r["minutes"], r["heard_duration_s"]) for r in rows] == [
        ("stereo-48k", 1.0, 60.0),
        ("mono-16k", 0.5, 30.0),
    ]
    assert all(r["events"] > 0 and 0 < r["peak_rss_mb"] and r["wall_s"] > 0 for r in rows)


# -- listeners that cannot stream ----------------------------------------------------
class WholeFileListener:
    """A listener with no ``listen_file``: it is given the file's audio whole."""

    name = "whole"

    def __init__(self) -> None:
        self.heard: list[Waveform] = []

    def listen(self, audio, *, hints=()):
        from ualm_agent.components.listeners import measure

        self.heard.append(audio)
        return measure.observation(audio, [], [], self.name)


def test_listener_that_cannot_stream_gets_the_whole_file_up_to_the_limit(tmp_path, left_ringing):
    path = tmp_path / "eight.wav"
    sf.write(path, _spread(left_ringing, 8), RATE, subtype="FLOAT")
    whole = WholeFileListener()
    obs, audio = listen_to_file(whole, probe_audio(path))
    assert audio is whole.heard[0] and audio.channels == 8  # above the streaming size, still read whole
    assert obs.loudness_lufs is not None and obs.balance < -0.3
    huge = AudioFileInfo(path, 192000, 8, WHOLE_FILE_LIMIT_BYTES // (8 * 4) + 1)  # one frame over the limit
    with pytest.raises(UsageError, match=r"whole listener reads whole files into memory, up to 512 MiB"):
        listen_to_file(whole, huge)
    assert len(whole.heard) == 1


def test_too_long_for_a_listener_that_cannot_stream_is_one_line(tmp_path, cli_env):
    # 90 s of 8-channel 192 kHz silence: 141 kB of FLAC, 553 MB as float32.
    path = tmp_path / "long-silence.flac"
    with sf.SoundFile(path, "w", samplerate=192000, channels=8, subtype="PCM_16") as f:
        for _ in range(9):
            f.write(np.zeros((192000 * 10, 8), dtype=np.int16))
    res = cli(["listen", str(path), "--listener", "tone"], cli_env)
    assert res.returncode == 2, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert "1.5 min of 8-channel 192000 Hz audio" in res.stderr and "--listener yamnet" in res.stderr
