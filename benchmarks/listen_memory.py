"""Peak memory and wall time of `ualm-agent listen` on long files (the README's figures come from one run).

Writes, block by block into a temporary folder, a long 48 kHz stereo WAV and a
16 kHz mono WAV half as long (one hour and 30 minutes by default): a faint
noise floor with a beep every 6 s, louder on the left, and a burst of noise
every 20 s. Each file is heard by `ualm-agent listen FILE --json` in a fresh
process; its peak resident memory is that process's ru_maxrss (os.wait4 in a
tiny launcher, so nothing of this process is counted).

    python benchmarks/listen_memory.py [--minutes 60] [--mono-minutes 30] [--json]

`--minutes 1` is a quick check that the script works (the test suite runs it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GOAL_MB = 500
BLOCK_S = 10


def signal_block(start: int, frames: int, rate: int, channels: int, rng: np.random.Generator) -> np.ndarray:
    """[frames, channels] of the test signal from frame ``start`` on."""
    t = (start + np.arange(frames)) / rate
    noise = rng.standard_normal((frames, channels)).astype(np.float32) * np.float32(10 ** (-50 / 20))
    beep = np.where((t % 6.0) < 0.5, 0.25 * np.sin(2 * np.pi * 880.0 * t), 0.0).astype(np.float32)
    burst = np.where((t % 20.0) < 2.0, 0.1, 0.0).astype(np.float32)[:, None] * rng.standard_normal(
        (frames, channels)
    ).astype(np.float32)
    out = noise + burst
    out[:, 0] += beep
    if channels > 1:
        out[:, 1:] += 0.5 * beep[:, None]
    return out


def write_test_file(path: Path, minutes: float, rate: int, channels: int) -> None:
    """The test signal as 16-bit WAV, written in blocks so this process stays small too."""
    import soundfile as sf

    total = int(round(minutes * 60 * rate))
    rng = np.random.default_rng(0)
    with sf.SoundFile(str(path), "w", samplerate=rate, channels=channels, subtype="PCM_16") as f:
        for start in range(0, total, BLOCK_S * rate):
            f.write(signal_block(start, min(BLOCK_S * rate, total - start), rate, channels, rng))


# Runs a command and writes its peak RSS (kB) to a file. The command is started from this tiny
# interpreter because a child forked from a large process (the test suite, say) counts the
# parent's pages in its high-water mark until it execs.
PEAK_LAUNCHER = """import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def listen_in_fresh_process(path: Path) -> dict:
    """Wall time and peak RSS of `ualm-agent listen PATH --json`, and what it heard."""
    with tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp) / "peak-kb"
        command = [sys.executable, "-S", "-c", PEAK_LAUNCHER, str(peak),
                   sys.executable, "-m", "ualm_agent.cli", "listen", str(path), "--json"]
        t0 = time.perf_counter()
        res = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if res.returncode != 0:
            raise SystemExit(f"listen failed on {path} (exit {res.returncode}): {res.stderr.strip()[-500:]}")
        peak_kb = int(peak.read_text())  # kilobytes on Linux
    observation = json.loads(res.stdout)["observation"]
    return {
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "events": len(observation["events"]),
        "loudness_lufs": observation["loudness_lufs"],
        "heard_duration_s": observation["duration_s"],
    }


def measure(folder: Path, name: str, minutes: float, rate: int, channels: int) -> dict:
    path = folder / f"{name}.wav"
    write_test_file(path, minutes, rate, channels)
    row = {"file": name, "minutes": minutes, "rate": rate, "channels": channels, "file_mb": round(path.stat().st_size / 2**20, 1)}
    row.update(listen_in_fresh_process(path))
    row["realtime_factor"] = round(minutes * 60 / row["wall_s"], 1)
    row["under_goal"] = row["peak_rss_mb"] < GOAL_MB
    path.unlink()
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the 48 kHz stereo file")
    parser.add_argument("--mono-minutes", type=float, default=None, help="length of the 16 kHz mono file (half --minutes)")
    parser.add_argument("--tmp", type=Path, default=None, help="folder for the temporary files")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    mono_minutes = args.minutes / 2 if args.mono_minutes is None else args.mono_minutes
    with tempfile.TemporaryDirectory(prefix="listen-memory-", dir=args.tmp) as tmp:
        rows = [
            measure(Path(tmp), "stereo-48k", args.minutes, 48000, 2),
            measure(Path(tmp), "mono-16k", mono_minutes, 16000, 1),
        ]
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'file':<11} {'minutes':>7} {'file MB':>8} {'wall s':>7} {'x realtime':>10} {'peak RSS MB':>11} {'events':>6}")
    for r in rows:
        print(f"{r['file']:<11} {r['minutes']:>7g} {r['file_mb']:>8} {r['wall_s']:>7} {r['realtime_factor']:>10} "
              f"{r['peak_rss_mb']:>11} {r['events']:>6}")
    print(f"goal: peak RSS under {GOAL_MB} MB: {'met' if all(r['under_goal'] for r in rows) else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
