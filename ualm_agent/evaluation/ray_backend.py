"""Run eval items on a Ray cluster: one task per item, one long-lived actor per worker.

Each actor is a Python process that calls the same :func:`ualm_agent.evaluation.run.evaluate_item`
as a local worker process, so its components (cached per process by the builder) load once and
serve every item it gets. Items are handed to whichever actor is free, so adding nodes adds
throughput. Rows come back to the driver, which writes ``results.jsonl`` as a local run does.

Every node needs ualm-agent installed (the same version as the driver). Each item's run folder is
written by the node that ran it, under ``out_dir``: on a multi-node cluster, make ``out_dir`` a
folder all nodes share (NFS, a mounted bucket) to keep the audio next to the results.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import UalmAgentError, UsageError

INSTALL_HINT = "pip install 'ualm-agent[ray]'"


def import_ray():
    """The ``ray`` module, or a one-line UsageError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--backend ray needs Ray, which is not installed; install it with: {INSTALL_HINT}") from None
    return ray


def run_items_ray(
    items: Sequence[Any],
    agent_config: Any,
    evaluator_config: Any,
    out_dir: str | Path,
    *,
    address: str | None = None,
    gpus_per_worker: float = 0.0,
    num_workers: int | None = None,
    config_name: str = "eval",
) -> Iterator[list[dict[str, Any]]]:
    """Evaluate ``items`` on Ray and yield each item's rows as it finishes (in completion order).

    ``address`` is a cluster to join (``ray://host:10001``, ``host:6379`` or ``auto``); without one,
    a Ray already initialised in this process is used, or else a local instance is started (and
    stopped when the iteration ends). ``gpus_per_worker`` reserves that many GPUs for each actor.
    ``num_workers`` defaults to as many actors as the cluster has room for, at most one per item.
    Inside :func:`session`, the actors outlive the call, so the next call (an ablation's next
    configuration) finds the models they share already loaded.

    Ray is imported, joined and checked here, before the first item, so a missing install or an
    unreachable cluster is an error at call time.
    """
    ray = import_ray()
    if gpus_per_worker < 0:
        raise UsageError(f"--gpus-per-worker must be 0 or more, got {gpus_per_worker:g}")
    if num_workers is not None and num_workers < 1:
        raise UsageError(f"the number of workers must be 1 or more, got {num_workers}")
    items = list(items)
    started = _connect(ray, address)
    try:
        workers = _worker_count(ray, len(items), gpus_per_worker, num_workers)
    except BaseException:
        if started:
            _shutdown(ray)
        raise
    job = dict(agent_config=agent_config, evaluator_config=evaluator_config, out_dir=str(Path(out_dir).resolve()),
               config_name=config_name)
    return _drive(ray, items, job, workers, gpus_per_worker, started)


@contextmanager
def session(address: str | None = None) -> Iterator[None]:
    """Join or start Ray once for several runs (an ablation's configurations), sharing the actors."""
    ray = import_ray()
    started = _connect(ray, address)
    _release_actors(ray)  # the session's own actors, loaded with its runs' models
    try:
        yield
    finally:
        if started:
            _shutdown(ray)
        else:
            _release_actors(ray)


def _connect(ray, address: str | None) -> bool:
    """Join or start Ray; True when this call started it (so it stops it afterwards)."""
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
    if address is None:
        options["include_dashboard"] = False
        # A local instance stays offline: no usage report, unless the user's environment asks for one.
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        ray.init(address=address, **options)
    except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:
        where = address or "a local instance"
        raise UalmAgentError(f"cannot start or join Ray at {where}: {str(exc).splitlines()[0] if str(exc) else exc}") from None
    return True


def _shutdown(ray) -> None:
    _POOL.clear()
    ray.shutdown()


def _worker_count(ray, n_items: int, gpus_per_worker: float, num_workers: int | None) -> int:
    resources = ray.cluster_resources()
    if gpus_per_worker > 0:
        gpus = float(resources.get("GPU", 0.0))
        if gpus < gpus_per_worker:
            raise UalmAgentError(
                f"--gpus-per-worker {gpus_per_worker:g}: the Ray cluster has {gpus:g} GPU(s); "
                "lower it, or join a cluster with GPUs (--address)"
            )
        room = int(gpus // gpus_per_worker)
    else:
        room = max(1, int(float(resources.get("CPU", 1.0))))
    workers = num_workers if num_workers is not None else room
    return max(1, min(workers, max(n_items, 1)))


# The live actors of this Ray connection: {"key": (job id, gpus per worker), "actors": [...]}.
_POOL: dict[str, Any] = {}


def _actors(ray, workers: int, gpus: float) -> list[Any]:
    """``workers`` actors, reusing those of an earlier call on the same connection and GPU share."""
    key = (ray.get_runtime_context().get_job_id(), gpus)
    if _POOL.get("key") != key:
        _release_actors(ray)
        _POOL.update(key=key, actors=[])
    actors = _POOL["actors"]
    actor_cls = ray.remote(ItemWorker).options(num_cpus=1, num_gpus=gpus or 0, max_restarts=1, max_task_retries=1)
    while len(actors) < workers:
        actors.append(actor_cls.remote())
    return actors[:workers]


def _release_actors(ray) -> None:
    for actor in _POOL.get("actors", []):
        try:
            ray.kill(actor)
        except Exception:  # already gone with its node
            pass
    _POOL.clear()


def _drive(ray, items, job: dict[str, Any], workers: int, gpus: float, started: bool):
    running: dict[Any, tuple[Any, Any]] = {}  # ref -> (actor, item)
    try:
        if not items:
            return
        queue = list(reversed(items))

        def submit(actor) -> None:
            item = queue.pop()
            running[actor.evaluate.remote(item, **job)] = (actor, item)

        for actor in _actors(ray, workers, gpus):
            if queue:
                submit(actor)
        while running:
            ready, _ = ray.wait(list(running), num_returns=1)
            ref = ready[0]
            actor, item = running.pop(ref)
            try:
                rows = ray.get(ref)
            except ray.exceptions.RayError as exc:
                cause = getattr(exc, "cause", None)
                if isinstance(cause, UalmAgentError):
                    raise cause from None  # the same one-line error a local worker gives
                # evaluate_item records an item's own failures as rows; this is the worker itself
                # dying (killed, out of memory) after Ray's retry.
                raise UalmAgentError(
                    f"Ray worker failed on item {getattr(item, 'id', item)!r}: {_first_line(exc)}; "
                    "finished items are saved, rerun with --resume"
                ) from None
            if queue:
                submit(actor)
            yield rows
    finally:
        if started:
            _shutdown(ray)
        elif running:  # stopped early (an error, Ctrl-C): the actors drop what they were doing
            _release_actors(ray)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


class ItemWorker:
    """A Ray actor: one process that keeps its components loaded and evaluates items one at a time.

    The process's component cache (see ``ualm_agent.builders``) and evaluator cache keep every
    model it has loaded, so items, and configurations that share components, reuse them.
    """

    def evaluate(self, item: Any, *, agent_config: Any, evaluator_config: Any, out_dir: str,
                 config_name: str = "eval") -> list[dict[str, Any]]:
        from .run import evaluate_item

        return evaluate_item(item, agent_config, evaluator_config, Path(out_dir), config_name=config_name)
