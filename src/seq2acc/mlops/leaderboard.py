"""The search harness's leaderboard: every cross-validation in the MLflow store, ranked by genome-wide AUPRC.

Each `dvc repro` / `dvc exp run` (queued grids included: `dvc exp run --queue -S 'train.genomewide_negatives=10,20'
-S 'train.lr=0.002,0.003'` then `dvc queue start`) trains its folds under one cross-validation parent
run (tag ``seq2acc.run_kind = cross-validation``, one per distinct set of model/train params and data); `promote`
logs ``mean_genomewide_auprc`` and ``foldK.genomewide_auprc`` to it. :func:`leaderboard` reads those parents and
returns one row per configuration: the ranking metric, how many folds it covers, and the params that differ
between the configurations shown (the ones that do not differ say nothing). ``seq2acc leaderboard`` prints it.
"""

from __future__ import annotations

import re

import pandas as pd

from seq2acc.errors import ArgumentError

_FOLD_METRIC = re.compile(r"^fold(\d+)\.genomewide_auprc$")


def leaderboard(tracking_uri: str, experiment: str | None = None, metric: str = "mean_genomewide_auprc",
                top: int | None = None) -> pd.DataFrame:
    """Cross-validation parent runs of ``experiment`` (None: every experiment) ranked by ``metric`` (descending;
    ``mean_val_loss`` ascending); runs without the metric (not yet evaluated/promoted) are listed last.

    Columns: ``rank``, ``experiment``, ``run`` (name), ``run_id``, ``metric`` value, ``n_folds`` (folds with a
    genome-wide AUPRC), ``mean_val_loss``, ``git_commit``, ``started`` and one column per param that differs
    between the rows (``model.*``, ``train.*``).
    """
    from mlflow.tracking import MlflowClient

    from seq2acc.mlops.tracking import RUN_KIND_TAG

    if top is not None and top < 1:
        raise ArgumentError("top", f"{top} is not a positive number of rows", "use e.g. --top 20")
    client = MlflowClient(tracking_uri=tracking_uri)
    exps = client.search_experiments()
    if experiment is not None:
        exps = [e for e in exps if e.name == experiment]
        if not exps:
            raise ArgumentError("experiment", f"no MLflow experiment named {experiment!r} in {tracking_uri}",
                                "run `seq2acc leaderboard` without --experiment to see them all")
    names = {e.experiment_id: e.name for e in exps}
    runs = client.search_runs(list(names), filter_string=f"tags.`{RUN_KIND_TAG}` = 'cross-validation'",
                              max_results=5000) if names else []
    rows, params = [], []
    for r in runs:
        folds = [int(m.group(1)) for k in r.data.metrics if (m := _FOLD_METRIC.match(k))]
        rows.append({"experiment": names[r.info.experiment_id], "run": r.info.run_name, "run_id": r.info.run_id,
                     metric: r.data.metrics.get(metric), "n_folds": len(folds),
                     "mean_val_loss": r.data.metrics.get("mean_val_loss"),
                     "git_commit": (r.data.tags.get("git_commit") or "")[:10],
                     "started": pd.Timestamp(r.info.start_time, unit="ms").strftime("%Y-%m-%d %H:%M")})
        params.append(dict(r.data.params))
    cols = list(dict.fromkeys(["experiment", "run", "run_id", metric, "n_folds", "mean_val_loss", "git_commit",
                               "started"]))  # metric may be mean_val_loss itself
    table = pd.DataFrame(rows, columns=cols)
    if not rows:
        return table.assign(rank=pd.Series(dtype=int))[["rank", *table.columns]]
    ptab = pd.DataFrame(params).fillna("")
    varying = [c for c in sorted(ptab.columns) if ptab[c].nunique() > 1]
    table = pd.concat([table, ptab[varying]], axis=1)
    ascending = metric.endswith("loss")
    table = table.sort_values(metric, ascending=ascending, na_position="last", kind="stable").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table.head(top) if top else table


def markdown(table: pd.DataFrame, metric: str) -> str:
    """The leaderboard as a markdown table (numbers to 4 digits); a line saying so when it is empty."""
    if table.empty:
        return ("no cross-validation runs in this store yet: run `dvc repro` (or `dvc exp run`), then "
                "`seq2acc leaderboard`")
    shown = table.drop(columns=["run_id"])
    cols = list(shown.columns)
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in shown.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            cells.append("–" if v is None or (isinstance(v, float) and v != v) else
                         f"{v:.4f}" if isinstance(v, float) else str(v))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + f"\n\nranked by {metric}"
