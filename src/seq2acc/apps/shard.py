"""Genome-wide work sharded per chromosome: local processes by default, a Ray cluster when given its address.

:func:`map_chromosomes` computes ``[fn(c) for c in chroms]`` -- ``fn`` is any picklable callable of one
chromosome name (a module-level function, a ``functools.partial`` of one, or a dataclass with ``__call__``, such as
:class:`seq2acc.apps.predict.ChromosomeJob`) -- and returns the results in the order of ``chroms``, whatever
order the shards finish in. The caller merges them and writes its outputs once, so a sharded run writes exactly
what one process writes (tested: byte-identical TSV and bigWig for local processes and a two-worker Ray
cluster). ``fn`` is sent to each worker once; a worker keeps what ``fn`` caches (loaded models) across the
chromosomes it gets.

- ``workers=1`` (or one chromosome): in this process, nothing spawned. ``workers=0``: usable cores //
  ``cores_per_worker`` (params ``shard.cores_per_worker``): on a 2-core machine one TensorFlow process already
  uses both cores and two workers only add their start-up (measured, docs/scale-out.md), so auto stays in-process
  there and shards on machines with many cores.
- ``workers>1``: a pool of ``spawn``-ed processes (no fork of a process that may hold TensorFlow threads).
  Each worker gets ``TF_NUM_INTRAOP_THREADS`` = usable cores / workers (unless set), so N workers do not
  oversubscribe the CPU N-fold, and ``TF_FORCE_GPU_ALLOW_GROWTH`` so several can share a GPU. Chromosomes
  are handed out largest first (``sizes``): the longest shard does not start last.
- ``ray_address``: tasks on that Ray cluster (``ray start --head`` prints the address; ``auto`` = the cluster
  of this machine), ``ray_cpus`` / ``ray_gpus`` resources each (Ray gives a task with ``ray_gpus=1`` its own
  GPU). The driver's ``seq2acc`` package is shipped with the job (``runtime_env`` ``py_modules``), so the
  cluster runs the driver's code; its nodes need the same installed dependencies (``make venv``), and every
  path ``fn`` reads must be readable at the same absolute path there (a shared filesystem, or one machine).

A :class:`~seq2acc.errors.Seq2AccError` raised for one chromosome (a worker's or a Ray task's) is re-raised
here as itself, and the remaining shards are cancelled.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence

from seq2acc.errors import ArgumentError, InputError, Seq2AccError

log = logging.getLogger(__name__)


def resolve_workers(workers: int, n_shards: int, cores_per_worker: int = 1) -> int:
    """``workers`` (0 = auto: usable CPU cores // ``cores_per_worker``), at most one per shard, at least 1."""
    if workers < 0:
        raise ArgumentError("workers", f"{workers} is negative", "give 0 (auto) or a number of processes")
    if cores_per_worker < 1:
        raise ArgumentError("cores_per_worker", f"{cores_per_worker} is below 1", "give a number of cores >= 1")
    n = workers or len(os.sched_getaffinity(0)) // cores_per_worker
    return max(1, min(n, n_shards))


def _worker_env(threads: int) -> dict[str, str]:
    return {"TF_NUM_INTRAOP_THREADS": str(max(1, threads)), "TF_FORCE_GPU_ALLOW_GROWTH": "true"}


def _init_worker(env: dict[str, str], log_level: int) -> None:
    """Start of a worker process (before it imports TensorFlow): thread budget, logging, device log."""
    for k, v in env.items():
        os.environ.setdefault(k, v)
    from seq2acc import logutil
    from seq2acc.model.device import log_device_when_tensorflow_loads

    logutil.setup(logging.getLevelName(log_level))
    os.environ["TQDM_DISABLE"] = "1"  # one progress bar: the driver's, per chromosome
    log_device_when_tensorflow_loads()


def _timed(fn, chrom):
    t = time.perf_counter()
    out = fn(chrom)
    return out, time.perf_counter() - t


def _progress(total: int, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="chrom", disable=None, mininterval=1.0)


def map_chromosomes(fn: Callable[[str], object], chroms: Sequence[str], *, workers: int = 1,
                    cores_per_worker: int = 1, sizes: dict[str, int] | None = None, ray_address: str | None = None,
                    ray_cpus: float = 1, ray_gpus: float = 0, desc: str = "chromosomes") -> list:
    """``[fn(c) for c in chroms]``, sharded per chromosome (module doc). ``workers``: local processes (0 = usable
    cores // ``cores_per_worker``; ignored with ``ray_address``); ``sizes``: chromosome lengths (largest handed
    out first)."""
    chroms = list(chroms)
    if len(set(chroms)) != len(chroms):
        raise ArgumentError("chroms", "a chromosome is listed twice", "list each chromosome once")
    if not chroms:
        return []
    order = sorted(chroms, key=lambda c: -(sizes or {}).get(c, 0))  # stable: ties keep the given order
    if ray_address:
        done = _on_ray(fn, order, ray_address, ray_cpus, ray_gpus, desc)
    else:
        n = resolve_workers(workers, len(chroms), cores_per_worker)
        done = _local(fn, order, n, desc)
    return [done[c] for c in chroms]


def _local(fn, order: list[str], n: int, desc: str) -> dict:
    done = {}
    if n == 1:
        log.info("%d chromosome(s) in this process", len(order))
        with _progress(len(order), desc) as bar:
            for c in order:
                done[c], secs = _timed(fn, c)
                log.info("%s done in %.1f s", c, secs)
                bar.update()
        return done
    import multiprocessing
    from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait

    threads = max(1, len(os.sched_getaffinity(0)) // n)
    log.info("%d chromosome(s) over %d local worker processes (%d TensorFlow thread(s) each)", len(order), n, threads)
    with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker,
                             initargs=(_worker_env(threads), logging.getLogger().getEffectiveLevel())) as pool:
        futures = {pool.submit(_timed, fn, c): c for c in order}
        pending = set(futures)
        try:
            with _progress(len(order), desc) as bar:
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
                    for f in finished:
                        c = futures[f]
                        done[c], secs = f.result()  # a worker's exception is raised here
                        log.info("%s done in %.1f s", c, secs)
                        bar.update()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return done


def _connect_ray(address: str, runtime_env: dict) -> bool:
    """Connect to the cluster at ``address``; True if this call connected (and so must disconnect)."""
    import ray

    if ray.is_initialized():
        return False
    try:
        ray.init(address=address, runtime_env=runtime_env, log_to_driver=True, logging_level=logging.WARNING)
    except Exception as e:  # noqa: BLE001 - any failure to connect is the user's address or cluster
        raise InputError(address, f"cannot connect to a Ray cluster there: {type(e).__name__}: {e}",
                         "start one with `ray start --head` (it prints the address, ip:6379) and give that, "
                         "or leave out --ray-address to use local processes") from e
    return True


def _on_ray(fn, order: list[str], address: str, cpus: float, gpus: float, desc: str) -> dict:
    import ray

    import seq2acc

    env = {"py_modules": [os.path.dirname(seq2acc.__file__)],
           "env_vars": {**_worker_env(int(max(1, cpus))), "TQDM_DISABLE": "1"}}
    mine = _connect_ray(address, env)
    try:
        res = ray.cluster_resources()
        log.info("%d chromosome(s) on the Ray cluster at %s (%g CPUs, %g GPUs; %g CPU, %g GPU per task)",
                 len(order), address, res.get("CPU", 0), res.get("GPU", 0), cpus, gpus)
        task = ray.remote(_ray_task).options(num_cpus=cpus, num_gpus=gpus)
        fn_ref = ray.put(fn)
        refs = {task.remote(fn_ref, c): c for c in order}
        done, pending = {}, list(refs)
        with _progress(len(order), desc) as bar:
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                c = refs[ready[0]]
                try:
                    done[c], secs = ray.get(ready[0])
                except ray.exceptions.RayTaskError as e:
                    for r in pending:
                        ray.cancel(r)
                    if isinstance(e.cause, Seq2AccError):
                        raise e.cause from None
                    raise
                log.info("%s done in %.1f s", c, secs)
                bar.update()
        return done
    finally:
        if mine:
            ray.shutdown()


_ray_ready = False


def _ray_task(fn, chrom):
    """One chromosome in a Ray worker (the worker process is set up once, like a local one)."""
    global _ray_ready
    if not _ray_ready:
        _init_worker({}, logging.INFO)
        _ray_ready = True
    return _timed(fn, chrom)
