"""Data checks between stages with great-expectations 1.x (ephemeral context, pandas data).

Each rule is one GX expectation with a human-readable ``meta["rule"]``; a failed validation is turned into one
line per broken rule with example rows, and a summary that DVC tracks as a metric.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd

log = logging.getLogger(__name__)


@dataclass
class RuleResult:
    table: str
    rule: str
    success: bool
    unexpected: int | None
    rows: int
    examples: list[str] = field(default_factory=list)
    observed: object = None


class Checker:
    """Collects expectation suites per table and runs them on pandas DataFrames."""

    def __init__(self, example_rows: int = 5):
        import great_expectations as gx

        from great_expectations.data_context.types.base import (DataContextConfig, InMemoryStoreBackendDefaults,
                                                                 ProgressBarsConfig)

        self.gx = gx
        # no "Calculating Metrics" progress bars: they would bury the stage's own log lines
        config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(),
                                   progress_bars=ProgressBarsConfig(globally=False))
        self.ctx = gx.get_context(project_config=config, mode="ephemeral")
        self.ds = self.ctx.data_sources.add_pandas("seq2acc")
        self.example_rows = example_rows
        self.results: list[RuleResult] = []

    def check(self, name: str, df: pd.DataFrame, rules: list[tuple[str, object]], describe_row=None) -> list[RuleResult]:
        """Validate ``df`` against ``rules`` = [(readable rule, gx expectation), ...]."""
        gx = self.gx
        asset = self.ds.add_dataframe_asset(name=name)
        batch_def = asset.add_batch_definition_whole_dataframe(f"{name}-all")
        suite = self.ctx.suites.add(gx.ExpectationSuite(name=f"{name}-suite"))
        for text, exp in rules:
            exp.meta = {"rule": text}
            suite.add_expectation(exp)
        vd = self.ctx.validation_definitions.add(gx.ValidationDefinition(name=f"{name}-validation", data=batch_def, suite=suite))
        res = vd.run(batch_parameters={"dataframe": df},
                     result_format={"result_format": "COMPLETE", "partial_unexpected_count": self.example_rows})
        out = []
        for r in res.results:
            rr = r.result or {}
            idx = (rr.get("partial_unexpected_index_list") or [])[: self.example_rows]
            examples = []
            for i in idx:
                row = df.loc[i] if i in df.index else None
                if row is not None:
                    examples.append(describe_row(row) if describe_row else ", ".join(f"{k}={row[k]}" for k in df.columns))
            if not examples and rr.get("partial_unexpected_list"):
                examples = [str(v) for v in rr["partial_unexpected_list"][: self.example_rows]]
            out.append(RuleResult(name, r.expectation_config.meta.get("rule", r.expectation_config.type), bool(r.success),
                                  rr.get("unexpected_count"), len(df), examples, _plain(rr.get("observed_value"))))
        self.results += out
        return out

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)

    def failure_lines(self) -> list[str]:
        lines = []
        for r in self.results:
            if r.success:
                continue
            n = f"{r.unexpected} of {r.rows} rows" if r.unexpected is not None else f"observed {r.observed}"
            ex = f"; e.g. {' | '.join(r.examples)}" if r.examples else ""
            lines.append(f"FAILED [{r.table}] {r.rule}: {n}{ex}")
        return lines


def _plain(v):
    try:
        import numpy as np

        if isinstance(v, np.generic):
            return v.item()
    except Exception:  # pragma: no cover
        pass
    return v
