"""The Ray backend against a local Ray instance started here: the same rows as a local run."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import pytest

from ualm_agent.config import AgentConfig
from ualm_agent.errors import UsageError
from ualm_agent.evaluation.evaluator import EvaluatorConfig
from ualm_agent.evaluation.items import EvalItem, Expected, ExpectedEvent
from ualm_agent.evaluation.run import read_results, run_eval

ITEMS = [
    EvalItem(id="bark-then-bell", prompt="a dog barks, then a bell rings",
             expected=Expected(events=[ExpectedEvent(label="Bark"), ExpectedEvent(label="Bell")], order=["Bark", "Bell"])),
    EvalItem(id="siren", prompt="a siren wails", expected=Expected(events=[ExpectedEvent(label="Siren")])),
]
# Columns that differ between any two runs: timings, process ids, time-stamped run folders.
VARYING = {"wall_s", "agent_wall_s", "eval_wall_s", "item_wall_s", "worker", "run_dir", "audio"}


def _config() -> AgentConfig:
    # Synthesised sounds only, whose first take of the bark/bell item draws criticism whatever recordings are installed.
    return AgentConfig.load(None, **{"loop.reflect": 1, "duration_s": 4.0,
                                     "generator": {"kind": "composer", "sources": ["dsp"]}})


def _comparable(rows):
    out = {}
    for row in rows:
        kept = {k: v for k, v in row.items() if k not in VARYING}
        kept["item_folder"] = row["run_dir"].rsplit("/", 1)[0] if row.get("run_dir") else None
        out[(row["item_id"], row["round"])] = kept
    return out


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    # Hermetic: no usage report, a short private temp folder (Ray's socket paths have a length limit).
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(num_cpus=2, include_dashboard=False, _temp_dir=temp, log_to_driver=False,
                 object_store_memory=80 * 1024 * 1024)
        try:
            yield ray
        finally:
            ray.shutdown()
            shutil.rmtree(temp, ignore_errors=True)


def test_ray_rows_equal_a_local_runs_rows(ray_local, tmp_path):
    local = run_eval(ITEMS, agent_config=_config(), evaluator_config=EvaluatorConfig(), out_dir=tmp_path / "local")
    on_ray = run_eval(ITEMS, agent_config=_config(), evaluator_config=EvaluatorConfig(), out_dir=tmp_path / "ray",
                      backend="ray", workers=2)
    assert (local.ran, on_ray.ran, on_ray.failed) == (2, 2, 0)
    local_rows = read_results(tmp_path / "local" / "results.jsonl")
    ray_rows = read_results(tmp_path / "ray" / "results.jsonl")
    assert _comparable(ray_rows) == _comparable(local_rows)
    assert any(r["round"] == 1 for r in ray_rows)  # the bark/bell item revised once: every round came back
    assert all(r["event_f1"] is not None for r in ray_rows)
    # The actors ran the items (not the driver) and wrote the item folders under the output folder.
    assert {r["worker"] for r in ray_rows}.isdisjoint({os.getpid()})
    for row in ray_rows:
        assert (tmp_path / "ray" / row["audio"]).is_file()
    summary = (tmp_path / "ray" / "summary.json").read_text()
    assert '"backend": "ray"' in summary


def test_actors_keep_their_models_across_items_and_runs(ray_local, tmp_path):
    from ualm_agent.evaluation.ray_backend import run_items_ray, session

    with session():  # fresh actors, kept for every run inside (an ablation's configurations)
        # The one-round item first, the two-round item second, on one actor.
        first = list(run_items_ray(ITEMS[::-1], _config(), EvaluatorConfig(), tmp_path / "a", num_workers=1))
        reflect0 = _config().model_copy(update={"loop": _config().loop.model_copy(update={"reflect": 0})})
        second = list(run_items_ray(ITEMS, reflect0, EvaluatorConfig(), tmp_path / "b", num_workers=1))
    assert [b[0]["item_id"] for b in first] == ["siren", "bark-then-bell"]
    assert [len(b) for b in second] == [1, 1]  # the second run's own config reached the actor
    workers = {r["worker"] for b in first + second for r in b}
    assert len(workers) == 1 and os.getpid() not in workers  # one process served both runs
    # Only the first item paid for loading the models: the two-round item after it, and the next
    # run's items, each take less time than it did.
    cold = first[0][0]["agent_wall_s"]
    assert all(b[0]["agent_wall_s"] < cold for b in [first[1], *second])
    assert (tmp_path / "b" / "items" / "siren").is_dir()


def test_an_ablation_on_ray_shares_its_actors_between_configurations(ray_local, tmp_path):
    from ualm_agent.evaluation.ablation import run_ablation
    from ualm_agent.evaluation.grid import build_grid

    grid = build_grid(["reflect=0,1", "duration_s=4"])
    result = run_ablation(ITEMS, grid, out_dir=tmp_path / "out", workers=1, backend="ray")
    assert [row["completed"] for row in result.table] == [2, 2]
    workers = {r["worker"] for rows in result.rows.values() for r in rows}
    assert len(workers) == 1  # one actor ran every item of both configurations
    assert result.csv_path.is_file() and result.plot_path is not None


def test_more_gpus_than_the_cluster_has_is_an_error(ray_local, tmp_path):
    from ualm_agent.errors import UalmAgentError
    from ualm_agent.evaluation.ray_backend import run_items_ray

    with pytest.raises(UalmAgentError, match="the Ray cluster has 0 GPU"):
        run_items_ray(ITEMS, _config(), EvaluatorConfig(), tmp_path, gpus_per_worker=1)
    assert not any(tmp_path.iterdir())


def test_without_ray_the_backend_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    from ualm_agent.evaluation.ray_backend import run_items_ray

    with pytest.raises(UsageError) as err:
        run_items_ray(ITEMS, _config(), EvaluatorConfig(), tmp_path)
    assert "pip install 'ualm-agent[ray]'" in str(err.value)
    with pytest.raises(UsageError, match=r"ualm-agent\[ray\]"):
        run_eval(ITEMS, agent_config=_config(), evaluator_config=EvaluatorConfig(), out_dir=tmp_path / "out",
                 backend="ray")
