"""Listener quality on real recordings, against YAMNet's raw p > 0.2 patches, plus speed.

Prints, for each front-end log offset (log(mel + 0.001) as Google's YAMNet,
log(mel + 1e-6) as the model pack's own detector) and source level: the
ground-truth events heard by the listener and by the baseline, the mean best
probability of a correct label over each truth (a finer view of the same),
and the listener's real-time factor on 10 s of 48 kHz stereo, two threads.

Needs Debian's sound-theme-freedesktop and espeak-ng.
Run: python benchmarks/listener_quality.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import numpy as np  # noqa: E402

import recordings  # noqa: E402
from ualm_agent.components.listeners.yamnet import YamnetListener  # noqa: E402
from ualm_agent.labels import audioset_names  # noqa: E402

LEVELS_DB = (0.0, -12.0, -24.0, -32.0, -40.0)
OFFSETS = (1e-3, 1e-6)


def mean_best_probability(listener: YamnetListener, recs: list[recordings.Recording]) -> float:
    index = {n: i for i, n in enumerate(audioset_names())}
    best = []
    for rec in recs:
        probs = listener.frame_probabilities(rec.audio)
        for t in rec.truths:
            rows = [i for i in range(len(probs)) if recordings.overlaps(t.start_s, t.end_s, 0.48 * i, 0.48 * i + 0.96)]
            best.append(float(probs[np.ix_(rows, [index[x] for x in t.labels])].max()))
    return float(np.mean(best))


def real_time_factor(listener: YamnetListener, repeats: int = 20) -> float:
    audio = recordings.mixture("ring-then-speech").audio
    listener.listen(audio)  # load the model outside the timing
    start = time.perf_counter()
    for _ in range(repeats):
        listener.listen(audio)
    return repeats * audio.duration_s / (time.perf_counter() - start)


def main() -> int:
    reason = recordings.missing_tools()
    if reason:
        print(reason)
        return 1
    print(f"{'offset':>7} {'level':>6} {'truths':>6} {'listener':>8} {'baseline':>8} {'mean p(correct)':>15}")
    totals = {}
    for offset in OFFSETS:
        listener = YamnetListener(log_offset=offset)
        heard = base = 0
        for level in LEVELS_DB:
            recs = [recordings.mixture(n, gain_db=level, seed=i) for i, n in enumerate(recordings.MIXTURES)]
            s = recordings.score(listener, recs)
            heard += s.listener
            base += s.baseline
            p = mean_best_probability(listener, recs)
            print(f"{offset:>7g} {level:>+5g}dB {s.truths:>6} {s.listener:>8} {s.baseline:>8} {p:>15.3f}")
        totals[offset] = (heard, base)
    for offset, (heard, base) in totals.items():
        print(f"total over levels, offset {offset:g}: listener {heard}, baseline {base}")
    default = YamnetListener()
    s = recordings.score(default, recordings.all_recordings())
    print(f"quality bar set (levels 0, -12, -24, -32 dB): ground truth {s.truths}, listener {s.listener}, baseline {s.baseline}")
    print(f"missed by listener: {s.missed_by_listener}")
    print(f"real-time factor (10 s, 48 kHz stereo, 2 threads, front end + model + DSP): {real_time_factor(default):.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
