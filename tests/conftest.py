"""Hermetic, offline tests: HOME, caches and the hub are redirected before any import."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

_HOME = tempfile.mkdtemp(prefix="ualm-agent-test-home-")
for key, value in {
    "HOME": _HOME,
    "XDG_CACHE_HOME": os.path.join(_HOME, ".cache"),
    "XDG_CONFIG_HOME": os.path.join(_HOME, ".config"),
    "XDG_DATA_HOME": os.path.join(_HOME, ".local", "share"),
    "UALM_AGENT_CACHE": os.path.join(_HOME, ".cache", "ualm-agent"),
    "HF_HOME": os.path.join(_HOME, ".cache", "huggingface"),
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    # The tiny test models run several times faster on one thread than on two contended ones.
    "OMP_NUM_THREADS": "1",
}.items():
    os.environ[key] = value
os.environ.pop("UALM_AGENT_DEBUG", None)

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
for extra in (TESTS, TESTS / "plugin"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import pytest  # noqa: E402


@pytest.fixture
def cli_env(tmp_path):
    """Environment for CLI subprocesses: the same hermetic home, plus the test plugin on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS / "plugin"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models gain nothing from intra-op threads, and on a busy machine the threads only wait on each other.
    Modules of tiny-model tests use it with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def one_thread_env(cli_env):
    """CLI environment whose child process runs torch on one thread, as ``one_torch_thread`` does here."""
    return {**cli_env, "OMP_NUM_THREADS": "1"}


@pytest.fixture
def fake_config(tmp_path):
    """Writes the tone-world config (tests/cli_helpers.py); ``extra`` lines go under [generator]."""
    from cli_helpers import FAKE_CONFIG

    def make(generator_extra=""):
        p = tmp_path / "fake.toml"
        p.write_text(FAKE_CONFIG.format(generator_extra=generator_extra))
        return p

    return make
