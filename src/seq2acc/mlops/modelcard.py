"""Model cards: one markdown + one self-contained HTML file per registered model version (issue 8).

A card says what a model is and how good it is, from what the pipeline already wrote (nothing is recomputed):

- identity: registered name/version, aliases (champion), MLflow run, fold and its train/valid/test chromosomes;
- performance of this model on EVERY bin of its held-out chromosomes with the baselines (``metrics/fold<K>/
  evaluate.json``, ``curves.png``), and the cross-validation table of all folds (``metrics/summary.md``,
  ``summary_pr.png``);
- training: best epoch and validation loss, loss curve (``models/fold<K>/``);
- motifs: TF-MoDISco patterns with logos and their JASPAR (TOMTOM) matches (``modisco/folds/fold<K>/`` or the
  ensemble), JASPAR scan enrichment (``motifs/``);
- data lineage: md5 of the genome, peaks, datasets, folds and model as recorded in ``dvc.lock``; git commit;
- the params that made it, how to load it, and its limitations.

A section whose input is absent (a stage not run yet) says so and which stage makes it. Cards are written to
``modelcard.out_dir`` (default ``reports/modelcards``: ``<name>-v<version>.md/.html``, ``champion.md/.html``,
``index.md``), logged to the version's MLflow run (artifacts ``model_card/``) and summarised in the model version's
registry description.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import mimetypes
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from seq2acc.io.atomic import atomic_path, write_text
from seq2acc.artifacts.tables import read_table
from seq2acc.mlops.lineage import lock_hashes
from seq2acc.mlops.tracking import BEST_FOLD_ALIAS, CHAMPION_ALIAS as ALIAS
from seq2acc.errors import Seq2AccError
from seq2acc.config import Params

log = logging.getLogger(__name__)

MONITOR_WORDS = {"val_loss": "loss", "val_auprc": "AUPRC"}


# ----------------------------------------------------------------------------- inputs
@dataclass
class CardPaths:
    train_report: Path
    metrics: Path
    predictions: Path
    models: Path
    modisco: Path
    motifs: Path
    attribution: Path
    lock: Path
    params_file: Path
    out_dir: Path

    @classmethod
    def from_params(cls, p: Params) -> "CardPaths":
        g = p.get
        return cls(train_report=Path(g("promote.out", str)),
                   metrics=Path(g("evaluate.metrics_dir", str)),
                   predictions=Path(g("evaluate.out_dir", str)),
                   models=Path(g("train.out_dir", str)),
                   modisco=Path(g("modisco.out_dir", str)),
                   motifs=Path(g("motif_scan.out_dir", str)),
                   attribution=Path(g("attribute.out_dir", str)),
                   lock=Path(g("modelcard.dvc_lock", str)),
                   params_file=Path(p.path),
                   out_dir=Path(g("modelcard.out_dir", str)))


def _json(path: Path):
    try:
        return json.loads(path.read_text()) if path.exists() else None
    except (OSError, json.JSONDecodeError) as e:
        log.warning("%s unreadable (%s): its section is left out", path, e)
        return None


# ----------------------------------------------------------------------------- card model
@dataclass
class Card:
    name: str
    version: str
    fold: int
    stem: str
    sections: list[str] = field(default_factory=list)
    assets: list[tuple[Path, str]] = field(default_factory=list)   # (source file, name under assets/<stem>/)
    missing: list[str] = field(default_factory=list)
    description: str = ""
    aliases: list[str] = field(default_factory=list)

    def asset(self, src: Path, alt: str) -> str:
        """Markdown image of ``src`` (copied next to the card) or '' if it does not exist."""
        if not src.exists():
            return ""
        name = f"{len(self.assets):02d}-{src.name}"
        self.assets.append((src, name))
        return f"![{alt}](assets/{self.stem}/{name})"

    def absent(self, what: str, path: Path, stage: str) -> str:
        self.missing.append(what)
        cmd = f"dvc repro {stage}".strip()
        return f"> *Not available:* `{path}` not found — run `{cmd}` to add the {what} to this card."

    @property
    def markdown(self) -> str:
        return "\n\n".join(s.strip("\n") for s in self.sections if s) + "\n"


def _f(x, d: int = 3) -> str:
    if x is None:
        return "–"
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return str(x)
    if xf != xf:  # NaN
        return "–"
    return f"{xf:.{d}g}" if abs(xf) < 1e-3 and xf != 0 else f"{xf:.{d}f}"


def _table(head: list[str], rows: list[list]) -> str:
    esc = lambda v: str(v).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- sections
def _registry_info(name: str, version: str) -> dict:
    """Aliases, run, creation time and run tags of a model version from the MLflow registry ({} if unreachable)."""
    try:
        from mlflow.tracking import MlflowClient

        from seq2acc.mlops import tracking

        client = MlflowClient(tracking_uri=tracking.tracking_uri(), registry_uri=tracking.tracking_uri())
        mv = client.get_model_version(name, version)
        info = {"aliases": list(mv.aliases or []), "run_id": mv.run_id, "source": mv.source,
                "created": mv.creation_timestamp, "tags": dict(mv.tags or {})}
        if mv.run_id:
            run = client.get_run(mv.run_id)
            info["run_tags"] = dict(run.data.tags)
            info["experiment_id"] = run.info.experiment_id
        return info
    except Exception as e:  # noqa: BLE001 - the card is still useful without the registry
        log.warning("MLflow registry not reachable for %s v%s (%s): card built from files only", name, version, e)
        return {}


def _report_aliases(report: dict, version: str) -> list[str]:
    """The aliases ``reports/train.json`` records for a fold version (when the registry is not reachable)."""
    if report.get("aliases"):
        return [a for a, v in report["aliases"].items() if str(v) == version]
    # an older report, from before the ensemble was the champion: the champion was a fold version
    return [ALIAS] if str(report.get("champion_version")) == version else []


def _header(card: Card, entry: dict, report: dict, run_info: dict, cfg: dict, reg: dict, ev: dict | None) -> str:
    fold = cfg.get("fold") or {}
    aliases = reg.get("aliases") or _report_aliases(report, card.version)
    card.aliases = aliases
    badge = f" — **{', '.join(aliases)}**" if aliases else ""
    gw = (ev or {}).get("genomewide") or {}
    mc = cfg.get("model") or {}
    lines = [f"# Model card: {card.name} version {card.version}{badge}", ""]
    what = (f"A {mc.get('name', 'CNN')} convolutional network mapping {cfg.get('input_length', '?')} bp of DNA "
            f"(one-hot, A C G T) to the logit of the central bin being a peak of the target. Fold {card.fold} of "
            f"a chromosome-split cross-validation: trained on {', '.join(fold.get('train', [])) or '?'}, "
            f"validated on {', '.join(fold.get('valid', [])) or '?'}, tested on "
            f"{', '.join(fold.get('test', [])) or '?'}.")
    lines.append(what)
    if gw:
        lines += ["", f"**Genome-wide AUPRC on its held-out chromosomes: {_f(gw.get('auprc'))}** "
                      f"(random model: {_f(gw.get('positive_rate'), 4)}; AUROC {_f(gw.get('auroc'))}, "
                      f"{gw.get('n_bins', '?')} bins, {gw.get('n_positive', '?')} positive)."]
    run_id = reg.get("run_id") or entry.get("run_id") or run_info.get("run_id")
    facts = [["registered model", f"`{card.name}` version {card.version}"],
             ["aliases", ", ".join(aliases) or "–"],
             ["load", f"`mlflow.keras.load_model(\"models:/{card.name}/{card.version}\")`"],
             ["MLflow run", f"`{run_id}`" if run_id else "–"],
             ["experiment", run_info.get("experiment", "–")],
             ["fold", card.fold],
             ["chromosomes (train / valid / test)",
              " / ".join(", ".join(fold.get(k, [])) or "?" for k in ("train", "valid", "test"))],
             ["input / output", f"{cfg.get('input_length', '?')} bp one-hot → 1 logit (sigmoid = P(peak))"],
             ["best epoch / validation loss", f"{run_info.get('best_epoch', '–')} / {_f(run_info.get('best_val_loss'), 4)}"],
             ["promotion", report.get("decision", "–")]]
    return "\n".join(lines) + "\n\n" + _table(["about this model", ""], facts)


def _performance(card: Card, paths: CardPaths, ev: dict | None) -> str:
    k = card.fold
    path = paths.metrics / f"fold{k}" / "evaluate.json"
    out = ["## Performance on its held-out chromosomes (every genome-wide bin)"]
    if ev is None:
        return "\n\n".join(out + [card.absent("genome-wide evaluation", path, f"evaluate@{k}")])
    rows = []

    def row(label, m):
        m = m or {}
        rows.append([label, _f(m.get("auprc")), _f(m.get("auroc")), _f(m.get("loss"), 4),
                     _f(m.get("positive_rate"), 4), m.get("n_bins", "–")])

    # Baseline labels ("PWM MA0363.3 REB1, central 400 bp", ...) from the evaluation's info.json (cosmetic).
    labels = {n: (b or {}).get("label", n) for n, b in
              ((_json(paths.predictions / f"fold{k}" / "info.json") or {}).get("baselines") or {}).items()}
    row("**CNN (this model)**", ev.get("genomewide"))
    for name, b in sorted((ev.get("baselines") or {}).items()):
        row(f"baseline: {labels.get(name, name)}", (b or {}).get("genomewide"))
    row("CNN on the sampled test examples (inflated view)", ev.get("sampled"))
    out.append(_table(["scorer", "AUPRC", "AUROC", "loss", "positive rate (random AUPRC)", "bins"], rows))
    neg = ev.get("by_negative_type") or {}
    if neg:
        out.append("AUPRC of positives against one kind of sampled negative: " + ", ".join(
            f"{t} {_f((v or {}).get('auprc'))}" for t, v in sorted(neg.items())) + ".")
    per = ev.get("per_chromosome") or {}
    if len(per) > 1:
        out.append(_table(["test chromosome", "AUPRC", "AUROC", "positive rate", "bins"],
                          [[c, _f(m.get("auprc")), _f(m.get("auroc")), _f(m.get("positive_rate"), 4),
                            m.get("n_bins", "–")] for c, m in sorted(per.items())]))
    img = card.asset(paths.metrics / f"fold{k}" / "curves.png", f"fold {k} precision-recall and ROC curves")
    if img:
        out.append(img)
    return "\n\n".join(out)


def _cross_validation(card: Card, paths: CardPaths) -> str:
    md = paths.metrics / "summary.md"
    out = ["## All folds: cross-validation, pooled genome-wide metrics and baselines"]
    if not md.exists():
        return "\n\n".join(out + [card.absent("cross-validation summary", md, "cv_summary")])
    text = md.read_text()
    text = re.sub(r"^#+ .*\n", "", text, count=1)  # its own title: ours is above
    out.append(text.strip())
    img = card.asset(paths.metrics / "summary_pr.png", "pooled precision-recall curves")
    if img:
        out.append(img)
    return "\n\n".join(out)


def _training(card: Card, paths: CardPaths, run_info: dict) -> str:
    k = card.fold
    d = paths.models / f"fold{k}"
    out = ["## Training"]
    if not d.exists():
        return "\n\n".join(out + [card.absent("training record", d, f"train@{k}")])
    hist = _json(d / "history.json") or {}
    monitor = ((_json(d / "config.json") or {}).get("train") or {}).get("monitor", "val_loss")
    if hist:
        out.append(f"{hist.get('epochs_run', '?')} epochs run, best epoch {hist.get('best_epoch', '?')} "
                   f"(early stopping on the validation {MONITOR_WORDS.get(monitor, monitor)}, best weights kept), "
                   f"{_f(hist.get('train_seconds'), 1)} s.")
    img = card.asset(d / "loss.png", f"fold {k} loss curve")
    if img:
        out.append(img)
    return "\n\n".join(out)


def _motifs(card: Card, paths: CardPaths, top: int) -> str:
    k = card.fold
    out = ["## Motifs the model learned"]
    fold_dir, ens_dir = paths.modisco / "folds" / f"fold{k}", paths.modisco / "ensemble"
    src = fold_dir if (fold_dir / "patterns.tsv").exists() else ens_dir
    pats = read_table(src / "patterns.tsv", missing_ok=True)
    if pats is None:
        out.append(card.absent("TF-MoDISco motifs", fold_dir / "patterns.tsv", f"modisco@{k}"))
    else:
        which = "this model's" if src == fold_dir else "the fold ensemble's (this fold's own run is absent)"
        out.append(f"TF-MoDISco patterns from {which} contribution scores (`{src}`), best JASPAR matches by TOMTOM "
                   "(q-value: Benjamini-Hochberg over the database).")
        if len(pats):
            rows = []
            for _, r in pats.head(top).iterrows():
                matches = []
                for j in range(3):
                    mid = r.get(f"match{j}_id")
                    if isinstance(mid, str) and mid:
                        matches.append(f"{mid} {r.get(f'match{j}_name', '')} (q={_f(r.get(f'match{j}_q'), 2)})")
                rows.append([r.get("pattern", "?"), r.get("sign", ""), r.get("n_seqlets", ""), r.get("consensus", ""),
                             "; ".join(matches) or "–"])
            out.append(_table(["pattern", "sign", "seqlets", "consensus", "JASPAR matches"], rows))
        else:
            out.append("TF-MoDISco found no pattern.")
        img = card.asset(src / "patterns.png", "TF-MoDISco pattern logos")
        if img:
            out.append(img)
    fold_enr = paths.motifs / "folds" / f"fold{k}" / "enrichment.tsv"
    enr_path = fold_enr if fold_enr.exists() else paths.motifs / "summary.tsv"
    enr = read_table(enr_path, missing_ok=True)
    if enr is None:
        out.append(card.absent("JASPAR scan enrichment", fold_enr, f"motif_scan@{k}"))
    elif len(enr):
        cols = [c for c in ("motif_id", "motif_name", "frac_pos", "frac_neg", "log2_odds_ratio", "q_value")
                if c in enr.columns]
        sort = "q_value" if "q_value" in enr.columns else cols[0]
        rows = [[_f(v, 3) if isinstance(v, float) else v for v in r] for r in
                enr.sort_values(sort).head(top)[cols].itertuples(index=False)]
        out.append(f"JASPAR motifs most enriched in the positive regions over the negatives (`{enr_path}`, Fisher's "
                   "exact test, BH q-value):")
        out.append(_table(cols, rows))
    logos = paths.attribution / "folds" / f"fold{k}" / "logos.png"
    img = card.asset(logos, "contribution-score logos of top positive loci")
    if img:
        out += ["Contribution scores (DeepSHAP) at this model's top positive loci:", img]
    return "\n\n".join(out)


def _rel(path: Path) -> str:
    """``path`` as dvc.lock writes it: relative to the project root (the working directory of a stage)."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


LINEAGE_PATHS = ("data/raw", "data/genome", "data/peaks", "data/datasets", "data/folds.json")


def _lineage(card: Card, paths: CardPaths, reg: dict, chroms: list[str]) -> str:
    from seq2acc.mlops import tracking

    out = ["## Data lineage"]
    locks = lock_hashes(paths.lock)
    tags = reg.get("run_tags") or {}
    commit = tags.get("git_commit")
    where = "the training run's tag" if commit else "the working copy now"
    if not commit:
        commit, dirty = tracking.git_commit()
        commit += " (uncommitted changes)" if dirty else ""
    elif tags.get("git_dirty") == "True":
        commit += " (uncommitted changes at training time)"
    out.append(f"git commit `{commit}` ({where}); DVC stage `{tags.get('dvc_stage', f'train@{card.fold}')}`"
               + (f", DVC experiment `{tags['dvc_exp']}`" if tags.get("dvc_exp") else "") + ".")
    if not locks:
        out.append(card.absent("dvc.lock hashes", paths.lock, ""))
        return "\n\n".join(out)
    want = [p for p in LINEAGE_PATHS] + [f"data/datasets/{c}.h5" for c in chroms] + [_rel(paths.models / f"fold{card.fold}")]
    rows = []
    for pth in want:
        e = locks.get(pth)
        if e:
            extra = f"{e['nfiles']} files" if e.get("nfiles") else (f"{e['size']} bytes" if e.get("size") else "")
            rows.append([f"`{pth}`", f"`{e['md5']}`", e["stage"], e["role"], extra])
    trained_on = {k[len("input."):]: v for k, v in tags.items() if k.startswith("input.")}
    if rows:
        out.append("As recorded in `dvc.lock` (md5 of the file, or of the directory listing `.dir`):")
        out.append(_table(["path", "md5", "stage", "role", "size"], rows))
    if trained_on:
        stale = [pth for pth, md5 in trained_on.items() if pth in locks and locks[pth]["md5"] != md5]
        out.append("Inputs the training run read (md5 logged with the MLflow run): " + ", ".join(
            f"`{pth}` `{md5[:12]}`" for pth, md5 in sorted(trained_on.items())) + ".")
        if stale:
            out.append(f"**Warning:** {', '.join(stale)} changed since this model was trained: retrain (`dvc repro`).")
    return "\n\n".join(out)


def _params(p: Params) -> str:
    keep = {k: p.raw(k) for k in ("seed", "dataset", "model", "train")}
    return "## Params\n\n```yaml\n" + yaml.safe_dump(keep, sort_keys=False).strip() + "\n```"


def _usage(card: Card, paths: CardPaths) -> str:
    alias = next((a for a in (BEST_FOLD_ALIAS, ALIAS) if a in card.aliases), None)
    also = f"   # or \"models:/{card.name}@{alias}\"" if alias else ""
    return (f"## Using it\n\n```python\nimport mlflow\nmodel = mlflow.keras.load_model(\"models:/{card.name}/"
            f"{card.version}\"){also}\n# or, in this repository: "
            f"keras.models.load_model(\"{paths.models}/fold{card.fold}/model.keras\")\nlogits = model.predict(onehot)"
            "   # (n, input_length, 4) one-hot A C G T -> (n, 1) logits\n```")


LIMITATIONS = """## Limitations

- One target in one cell type/condition; a peak set, not a quantitative signal. Performance is reported on the
  held-out chromosomes of this fold only: other chromosomes were seen in training or validation.
- Quote the genome-wide AUPRC next to its positive rate (the AUPRC of a random model); the sampled test examples
  (~1:1) and the AUROC make a model look much better than it is genome-wide (protocol notes 20-21).
- Contribution scores and motif matches are hypotheses about what the model uses, not proof of binding; variant
  effects predicted by an accessibility model are unstable (protocol note 24)."""


# ----------------------------------------------------------------------------- assembling
def build_card(p: Params, entry: dict, report: dict, paths: CardPaths | None = None, top_motifs: int = 10) -> Card:
    """The card of one fold's registered version (``entry``: a ``reports/train.json`` fold record)."""
    paths = paths or CardPaths.from_params(p)
    name = str(report.get("registered_model_name") or entry.get("registered_model_name"))
    version = str(entry["version"])
    k = int(entry["fold"])
    card = Card(name, version, k, stem=f"{_slug(name)}-v{version}")
    mdir = paths.models / f"fold{k}"
    run_info = _json(mdir / "mlflow_run.json") or {}
    cfg = _json(mdir / "config.json") or {}
    ev = _json(paths.metrics / f"fold{k}" / "evaluate.json")
    reg = _registry_info(name, version)
    fold = cfg.get("fold") or {}
    card.sections = [
        _header(card, entry, report, run_info, cfg, reg, ev),
        _performance(card, paths, ev),
        _cross_validation(card, paths),
        _training(card, paths, run_info),
        _motifs(card, paths, top_motifs),
        _lineage(card, paths, reg, fold.get("train", []) + fold.get("valid", []) + fold.get("test", [])),
        _params(p),
        _usage(card, paths),
        LIMITATIONS,
    ]
    if card.missing:
        card.sections.insert(1, "> This card is incomplete: " + ", ".join(card.missing) + " not available yet.")
    gw = (ev or {}).get("genomewide") or {}
    card.description = (f"Fold {k} model (test {', '.join(fold.get('test', [])) or '?'}): genome-wide AUPRC "
                        f"{_f(gw.get('auprc'))} (random {_f(gw.get('positive_rate'), 4)}). Model card: artifact "
                        f"`model_card/{card.stem}.html` of run `{reg.get('run_id') or run_info.get('run_id', '?')}`.")
    return card


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", s).strip("-") or "model"


CSS = """body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#1f2328;line-height:1.45}table{border-collapse:collapse;margin:.6em 0;font-size:.92em}th,td{border:1px solid #d0d7de;
padding:4px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}img{max-width:100%;border:1px solid #eee}
code{background:#f6f8fa;padding:1px 4px;border-radius:3px;font-size:.9em}pre{background:#f6f8fa;padding:.8em;overflow:auto}
blockquote{border-left:4px solid #d4a72c;background:#fff8c5;margin:.8em 0;padding:.4em 1em}h1{border-bottom:1px solid #ddd}"""


def to_html(markdown_text: str, title: str, asset_dir: Path | None = None) -> str:
    """Markdown -> one HTML file; images under ``asset_dir`` are embedded (data: URIs) so the file stands alone."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown_text)

    def embed(m):
        src = html.unescape(m.group(1))
        path = (asset_dir.parent.parent / src) if asset_dir is not None else Path(src)
        if not path.exists():
            return m.group(0)
        mime = mimetypes.guess_type(path.name)[0] or "image/png"
        return f'src="data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"'

    body = re.sub(r'src="([^"]+)"', embed, body)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>\n{body}</body></html>\n")


def write_card(card: Card, out_dir: Path) -> tuple[Path, Path]:
    """``<out>/<stem>.md`` (+ ``assets/<stem>/``) and the self-contained ``<out>/<stem>.html``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    adir = out_dir / "assets" / card.stem
    with atomic_path(adir, suffix=".tmpdir") as tmp:
        tmp.mkdir()
        for src, name in card.assets:
            shutil.copyfile(src, tmp / name)
    md_path, html_path = out_dir / f"{card.stem}.md", out_dir / f"{card.stem}.html"
    write_text(md_path, card.markdown)
    write_text(html_path, to_html(card.markdown, f"{card.name} v{card.version}", adir))
    return md_path, html_path


def log_card(card: Card, md_path: Path, html_path: Path) -> bool:
    """Card -> the version's MLflow run (artifacts ``model_card/``) and the version's registry description."""
    try:
        from mlflow.tracking import MlflowClient

        from seq2acc.mlops import tracking

        uri = tracking.tracking_uri()
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        mv = client.get_model_version(card.name, card.version)
        if mv.run_id:
            client.log_artifact(mv.run_id, str(html_path), "model_card")
            client.log_artifact(mv.run_id, str(md_path), "model_card")
        client.update_model_version(card.name, card.version, description=card.description)
        client.set_model_version_tag(card.name, card.version, "model_card", f"model_card/{html_path.name}")
        return True
    except Exception as e:  # noqa: BLE001 - files are written either way
        log.warning("model card of %s v%s not logged to MLflow: %s", card.name, card.version, e)
        return False


def ensemble_card(report: dict, fold_rows: list[list]) -> str:
    """Markdown card of the registered fold ensemble (alias ``champion``) from ``reports/train.json``."""
    name, ens = report.get("registered_model_name"), report["ensemble"]
    folds = ", ".join(map(str, ens.get("folds", [])))
    unc = ens.get("uncalibrated_folds") or []
    lines = [f"# Model card: {name} version {report.get('champion_version')} — **{ALIAS}** (fold ensemble)", "",
             f"The mean over the fold models {folds} of their calibrated logits, each averaged over both strands"
             f"{'' if ens.get('rc_average', True) else ' (strand averaging off)'}: an MLflow pyfunc holding every "
             "fold's Keras model and its calibration (fitted by `evaluate@K` on the fold's validation chromosomes)."
             + (f" Fold(s) {', '.join(map(str, unc))} had no calibration: their logits enter raw." if unc else ""),
             "", f"**Pooled genome-wide AUPRC of the cross-validation (calibrated; each chromosome scored by the fold "
             f"that held it out): {_f(ens.get('genomewide_auprc'))}.** No chromosome is held out from the ensemble "
             "as a whole (each was seen in training by some fold): judge it by this held-out number, not by its "
             "predictions on the training genome.", "",
             _table(["about this model", ""], [
                 ["registered model", f"`{name}` version {report.get('champion_version')}"],
                 ["aliases", ALIAS], ["MLflow run", f"`{ens.get('run_id')}`"],
                 ["folds (versions)", ", ".join(f"{k} (v{f['version']})" for k, f in report.get("folds", {}).items())],
                 ["input / output", "DataFrame column `sequence` (DNA, model input length) or one-hot (n, L, 4) → "
                                    "`logit`, `probability`"],
                 ["best single fold", f"`models:/{name}@{BEST_FOLD_ALIAS}` = version "
                                      f"{report.get('best_fold_version')}: {report.get('decision', '')}"]]),
             "", "## Fold models", "",
             _table(["version", "fold", "genome-wide AUPRC", "positive rate", "aliases", "card"], fold_rows), "",
             "## Using it", "", "```python\nimport mlflow, pandas as pd\n"
             f"model = mlflow.pyfunc.load_model(\"models:/{name}@{ALIAS}\")\n"
             "model.predict(pd.DataFrame({\"sequence\": [\"ACGT...\"]}))   # -> logit, probability\n```", "",
             f"Serve it: `mlflow models serve -m models:/{name}@{ALIAS}`, then POST "
             '`{"dataframe_records": [{"sequence": "ACGT..."}]}` to `/invocations`.', ""]
    return "\n".join(lines)


def build_all(p: Params) -> list[Path]:
    """Stage body of ``modelcard``: one card per fold version in ``reports/train.json``, champion copy, index."""
    paths = CardPaths.from_params(p)
    report = _json(paths.train_report)
    if not report or not report.get("folds"):
        raise Seq2AccError(f"{paths.train_report} missing or lists no fold model; fix: run `dvc repro promote` "
                           "(it records the registered version of every fold)")
    top = p.get("modelcard.top_motifs", int, ge=1)
    log_it = p.get("modelcard.log_to_mlflow", bool)
    out_dir = paths.out_dir
    with atomic_path(out_dir, suffix=".tmpdir") as tmp:
        tmp.mkdir()
        rows, written = [], []
        for key, entry in sorted(report["folds"].items(), key=lambda kv: int(re.sub(r"\D", "", kv[0]) or 0)):
            entry = dict(entry, fold=int(re.sub(r"\D", "", key)))
            if entry.get("version") is None:
                log.warning("%s has no registered version: no card", key)
                continue
            card = build_card(p, entry, report, paths, top)
            md_path, html_path = write_card(card, tmp)
            if log_it:
                log_card(card, md_path, html_path)
            if not report.get("ensemble") and (ALIAS in card.aliases
                                               or str(report.get("champion_version")) == card.version):
                shutil.copyfile(html_path, tmp / "champion.html")  # an older report: the champion is a fold
                write_text(tmp / "champion.md", card.markdown)
            ev = _json(paths.metrics / f"fold{card.fold}" / "evaluate.json") or {}
            gw = ev.get("genomewide") or {}
            rows.append([f"[v{card.version}]({card.stem}.html)", card.fold, _f(gw.get("auprc")),
                         _f(gw.get("positive_rate"), 4), ", ".join(card.aliases) or "–",
                         ("incomplete: " + ", ".join(card.missing)) if card.missing else "complete"])
            written.append(out_dir / html_path.name)
        name = report.get("registered_model_name")
        if report.get("ensemble"):
            md = ensemble_card(report, rows)
            write_text(tmp / "champion.md", md)
            write_text(tmp / "champion.html", to_html(md, f"{name} v{report['champion_version']} ({ALIAS})"))
            what = (f"the ensemble of folds {', '.join(map(str, report['ensemble']['folds']))} "
                    f"([champion.html](champion.html)). Best single fold: `models:/{name}@{BEST_FOLD_ALIAS}` = "
                    f"version {report.get('best_fold_version')}.")
        else:
            what = "([champion.html](champion.html))."
        index = [f"# Model cards: {name}", "",
                 f"Champion: `models:/{name}@{ALIAS}` = version {report.get('champion_version')} {what} "
                 f"{report.get('decision', '')}", "",
                 _table(["version", "fold", "genome-wide AUPRC", "positive rate", "aliases", "card"], rows), ""]
        write_text(tmp / "index.md", "\n".join(index))
    log.info("model cards: %d written to %s", len(written), out_dir)
    return written
