"""Batch jobs: a whole corpus at once, on local worker processes or a Ray cluster.

- :mod:`.executor`: one small abstraction (``setup`` once per worker, ``task`` per item) with
  a local implementation (this process or ``-j N`` processes) and a Ray one (an actor per
  worker holding the model, fed by :class:`ray.util.ActorPool`); no scheduler of our own.
- :mod:`.corpus`: ``microalign align CORPUS_DIR OUT_DIR`` (MFA-style corpus mode).

Running on a Ray cluster
------------------------
Install the same microalign version with the ``ray`` extra on every node
(``pip install 'microalign[ray]'``), start the cluster (``ray start --head`` on one machine,
``ray start --address HEAD:6379`` on the others, or any Ray cluster launcher / KubeRay), then
on the head node (or anywhere with ``RAY_ADDRESS`` / a ``ray://HEAD:10001`` client address)::

    microalign align CORPUS_DIR OUT_DIR --ray auto            # one actor per cluster CPU
    microalign align CORPUS_DIR OUT_DIR --ray ray://head:10001 -j 64
    microalign eval DATA --ray auto --out results/

The driver reads the corpus and writes the outputs; workers receive each recording's bytes
and transcript through Ray's object store and a ``--model`` file's bytes once per actor, so
the nodes need no shared file system and no copy of the corpus. ``--ray local`` starts a
private one-machine Ray cluster for the job (``-j`` CPUs). The outputs are byte-identical to a
local run.
"""
__all__ = ["Executor", "LocalExecutor", "RayExecutor", "RayUnavailableError", "make_executor", "ordered"]


def __getattr__(name: str):   # lazy: `microalign --help` imports .cli (click only), not the executors
    if name in __all__:
        from . import executor

        return getattr(executor, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
