"""The real offline default stack, end to end: what the listener hears matches the plan."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from recordings import mixture
from test_cli import cli

from ualm_agent import runner
from ualm_agent.audio import read_audio, write_audio
from ualm_agent.builders import build_components
from ualm_agent.components.critics.matching import shared_matcher
from ualm_agent.config import AgentConfig
from ualm_agent.roles import GenerationRequest


@pytest.fixture(scope="module")
def stack():
    return build_components(AgentConfig())


def _first_onset(observation, family_of: str) -> float:
    matcher = shared_matcher()
    onsets = [e.start_s for e in observation.events if matcher.similarity(e.label, family_of) >= 0.8]
    assert onsets, f"no {family_of} heard in {[e.label for e in observation.events]}"
    return min(onsets)


def test_brass_followed_by_percussion_is_heard_in_that_order(tmp_path, stack):
    config = AgentConfig.load(**{"loop.reflect": 3})
    result, run_dir = runner.run("brass followed by percussion", config, out_root=tmp_path, components=stack)
    best = result.best
    assert [e.label for e in best.plan.layout] == ["Brass instrument", "Percussion"]
    brass = _first_onset(best.observation, "Brass instrument")
    drums = _first_onset(best.observation, "Percussion")
    assert brass < drums
    assert not [i for i in best.critique.issues if i.kind in {"missing", "order"}]
    assert best.critique.score >= 0.85 and result.accepted
    final = read_audio(run_dir / "final.wav")
    assert final.sample_rate == 48000 and final.channels == 2


def test_a_dog_barks_three_times_renders_three_events(stack):
    plan = stack.planner.plan("a dog barks three times", duration_s=10.0)
    (event,) = plan.layout
    assert event.label == "Bark" and event.count == 3
    audio = stack.generator.generate(GenerationRequest(caption=plan, text=plan.to_text(), duration_s=10.0, seed=0)).audio
    # Three bursts of energy, one per planned occurrence.
    env = np.convolve(np.abs(audio.mono()), np.ones(160) / 160, mode="same")
    loud = env > 0.1 * env.max()
    onsets = np.flatnonzero(loud[1:] & ~loud[:-1])
    seconds = onsets / 16000
    for start, end in event.occurrences():
        assert np.sum((seconds >= start) & (seconds < end)) == 1, (start, end, seconds)
    assert len(seconds) == 3


def test_the_loop_ends_hearing_three_barks(tmp_path, stack):
    config = AgentConfig.load(**{"loop.reflect": 3})
    result, _ = runner.run("a dog barks three times", config, out_root=tmp_path, components=stack)
    best = result.best
    assert not [i for i in best.critique.issues if i.kind in {"missing", "count"}], best.critique.issues
    bark_onsets = {round(e.start_s, 1) for e in best.heard.layout if shared_matcher().similarity(e.label, "Bark") >= 0.8}
    assert len(bark_onsets) >= 2, best.heard.to_text()


def test_fixed_seeds_give_identical_files(tmp_path, stack):
    shas = []
    for seed in (5, 5, 6):
        config = AgentConfig.load(**{"loop.reflect": 1, "seed": seed})
        result, run_dir = runner.run("a piano melody then a siren", config, out_root=tmp_path / str(len(shas)), components=stack)
        shas.append([(r.audio.sha256, r.audio_out.sha256) for r in result.rounds])
    assert shas[0] == shas[1]
    assert shas[0][0] != shas[2][0]


def test_listen_cli_finds_two_events_in_order(tmp_path, cli_env):
    rec = mixture("side-left-ring")  # spoken "side left", then a phone ringing
    path = tmp_path / "two.wav"
    write_audio(path, rec.audio)
    res = cli(["listen", str(path), "--json"], cli_env)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    first, second = sorted(rec.truths, key=lambda t: t.start_s)
    heard = data["observation"]["events"]

    def onset(truth):
        hits = [e["start_s"] for e in heard if e["label"] in truth.labels and e["end_s"] > truth.start_s and e["start_s"] < truth.end_s]
        assert hits, (truth, [e["label"] for e in heard])
        return min(hits)

    assert onset(first) < onset(second)
    assert data["caption"]["layout"] and data["text"].startswith("Keywords:")


def test_the_readme_command_runs_on_the_default_stack(tmp_path, cli_env):
    res = subprocess.run([sys.executable, "-m", "ualm_agent.cli", "run", "brass followed by percussion", "--reflect", "3",
                          "--out", str(tmp_path), "--json"], env=cli_env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["accepted"] and 1 <= len(data["rounds"]) <= 4
