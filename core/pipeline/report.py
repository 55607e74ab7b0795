"""Mean ± std over seeds, and results.md in the paper's layout (Table 3 and Table 6)."""

from __future__ import annotations

import numpy as np

from core.pipeline.config import CONFIGURATIONS

CLASSIFICATION_KEYS = ("accuracy_nn", "accuracy_csls", "coverage")
TRANSLATION_KEYS = ("p@1_nn", "p@5_nn", "p@1_csls", "p@5_csls", "coverage")


def aggregate(evals: list[dict]) -> list[dict]:
    """One row per (task, text, learner, configuration): mean, std and per-seed values of every score."""
    groups: dict[tuple, list[dict]] = {}
    for e in evals:
        groups.setdefault((e["task"], e["text"], e["learner"], e["configuration"]), []).append(e)
    rows = []
    for (task, text, learner, conf), items in sorted(groups.items(), key=_order):
        keys = CLASSIFICATION_KEYS if task == "classification" else TRANSLATION_KEYS
        row = {"task": task, "text": text, "learner": learner, "configuration": conf,
               "seeds": [e["seed"] for e in items], "stages": [e["stage"] for e in items],
               "evaluated_segments": [e["scores"]["evaluated"] for e in items],
               "methods_used": sorted({e["alignment"]["method_used"] for e in items})}
        for key in keys:
            values = [e["scores"].get(key) for e in items]
            vals = np.array([v for v in values if v is not None], dtype=np.float64)
            row[key] = {"mean": float(vals.mean()) if len(vals) else None,
                        "std": float(vals.std(ddof=0)) if len(vals) else None, "values": values}
        rows.append(row)
    return rows


def _order(item):
    (task, text, learner, conf), _ = item
    return (task != "classification", text, learner, CONFIGURATIONS.index(conf))


def _cell(stat: dict | None, percent: bool = True) -> str:
    if not stat or stat.get("mean") is None:
        return "–"
    scale = 100.0 if percent else 1.0
    if len(stat["values"]) > 1:
        return f"{scale * stat['mean']:.1f} ± {scale * stat['std']:.1f}"
    return f"{scale * stat['mean']:.1f}"


def results_markdown(metrics: dict) -> str:
    """The run's tables: accuracy / P@k in %, mean ± std over seeds (population std)."""
    rows = metrics["summary"]
    cfg = metrics["config"]
    lines = [f"# Results: {metrics['experiment']}", "",
             f"Config `{metrics['config_file']}`, seeds {cfg['seeds']}, written {metrics['date']}.",
             "Speech is SYNTHETIC (espeak-ng voices)." if metrics.get("synthetic_speech") else "",
             "Test segments: held-out speakers only. Numbers in %, mean ± std over seeds. "
             "NN = nearest neighbour by cosine, CSLS = cross-domain similarity local scaling (k = 10).", ""]
    classification = [r for r in rows if r["task"] == "classification"]
    translation = [r for r in rows if r["task"] == "translation"]
    if classification:
        lines += ["## Spoken word classification (Table 3 layout): accuracy NN / CSLS, coverage", ""]
        lines += _table(classification, ("accuracy_nn", "accuracy_csls", "coverage"))
    if translation:
        lines += ["## Spoken word translation (Table 6 layout): P@1 / P@5 (CSLS), P@1 (NN), coverage", ""]
        lines += _table(translation, ("p@1_csls", "p@5_csls", "p@1_nn", "coverage"))
    return "\n".join(lines) + "\n"


def _table(rows: list[dict], keys: tuple[str, ...]) -> list[str]:
    columns = sorted({(r["learner"], r["text"]) for r in rows})
    confs = [c for c in CONFIGURATIONS if any(r["configuration"] == c for r in rows)]
    index = {(r["learner"], r["text"], r["configuration"]): r for r in rows}
    head = "| config | " + " | ".join(f"{learner} → {text}" for learner, text in columns) + " |"
    out = [head, "|---" * (len(columns) + 1) + "|"]
    for conf in confs:
        cells = []
        for learner, text in columns:
            r = index.get((learner, text, conf))
            cells.append(" / ".join(_cell(r.get(k)) for k in keys) if r else "–")
        out.append(f"| {conf} | " + " | ".join(cells) + " |")
    out += ["", "Cells: " + " / ".join(keys) + ". Evaluated test segments per seed: " +
            "; ".join(f"{r['learner']}/{r['configuration']}/{r['text']} {r['evaluated_segments']}"
                      for r in rows[:6]) + (" …" if len(rows) > 6 else ""), ""]
    return out
