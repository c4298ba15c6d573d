"""The report's section "What the best model looks at", from the ``explanation.json`` artifacts.

Each kept model wrote its explanation at training time (:mod:`gapsearch.explain.summary`), so this
module only reads JSON and writes HTML: no Keras, no TensorFlow. It shows the best trial's
explained validation texts and top n-grams per class and, when the study tried several poolings
(in its trials or in a ``compare:pooling`` result), the same texts under the best explained trial
of each pooling, side by side.
"""

from __future__ import annotations

import html
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gapsearch.errors import StorageError
from gapsearch.explain.render import CSS, legend, method_sentence, shaded_tokens

if TYPE_CHECKING:
    import optuna

    from gapsearch.spec.study import StudySpec

SECTION_ID = "what-the-best-model-looks-at"


@dataclass(frozen=True)
class Explained:
    """A trial's explanation document, with the trial's number, metric value and pooling."""

    number: int
    value: float
    pooling: str
    document: dict[str, Any]


@dataclass(frozen=True)
class RankedTrial:
    """A completed trial as the report ranks them: its number, metric value and pooling."""

    number: int
    value: float
    pooling: str


def find_explanations(
    study: optuna.Study, spec: StudySpec, ranked: Sequence[RankedTrial]
) -> tuple[list[Explained], list[str]]:
    """The best explained trial of each pooling (``ranked`` is best first), and notes on what is missing."""
    from optuna.artifacts import download_artifact, get_all_artifact_meta
    from optuna.artifacts.exceptions import ArtifactNotFound

    from gapsearch.artifacts import EXPLANATION_FILENAME, open_artifact_store
    from gapsearch.compare import stored_comparisons
    from gapsearch.optuna_compat import storage_of

    try:
        store = open_artifact_store(spec.artifacts, create=False)
    except StorageError as error:
        return [], [f"No explanations: {error}."]
    trials = {trial.number: trial for trial in study.get_trials(deepcopy=False)}
    compared = stored_comparisons(study).get("pooling")
    wanted = list(
        dict.fromkeys([r.pooling for r in ranked] + [str(r["value"]) for r in (compared or {}).get("results", [])])
    )
    found: dict[str, Explained] = {}
    with tempfile.TemporaryDirectory(prefix="gapsearch-report-") as folder:
        for row in ranked:
            if row.pooling in found:
                continue
            metas = [
                m
                for m in get_all_artifact_meta(trials[row.number], storage=storage_of(study))
                if m.filename == EXPLANATION_FILENAME
            ]
            if not metas:
                continue
            path = Path(folder, f"{row.number}.json")
            try:
                download_artifact(artifact_store=store, file_path=str(path), artifact_id=metas[-1].artifact_id)
            except ArtifactNotFound:
                continue  # removed from the store by hand: the next trial of this pooling may still have one
            found[row.pooling] = Explained(row.number, row.value, row.pooling, json.loads(path.read_text("utf-8")))
    notes = []
    missing = [p for p in wanted if p not in found]
    if missing:
        notes.append(
            "No kept model explains pooling "
            + ", ".join(missing)
            + ": only trials whose model was kept when they finished (artifacts.save_models) wrote explanation.json"
            + ("; compare:pooling trains its models without keeping them" if compared else "")
            + "."
        )
    return [found[p] for p in wanted if p in found], notes


def _caption(item: Explained, metric: str) -> str:
    return f"trial #{item.number}, {item.pooling} pooling, {metric} {item.value:.4f}"


def _example_cell(example: dict[str, Any] | None) -> str:
    if example is None:
        return "<td>–</td>"
    probability = example["probabilities"][example["predicted"]]
    return (
        f'<td><p class="meta">predicted {html.escape(example["predicted"])} ({probability:.2f})</p>'
        f"{shaded_tokens(example)}</td>"
    )


def _ngram_table(document: dict[str, Any]) -> str:
    classes = document["channels"].get("classes", {})
    if not document["channels"].get("available"):
        return f'<p class="note">No top n-grams: {html.escape(str(document["channels"].get("reason")))}.</p>'
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>"
        + html.escape(" · ".join(f"{g['ngram']} ({g['share']:+.2f})" for g in grams))
        + "</td></tr>"
        for name, grams in classes.items()
    )
    return (
        f"<p>The n-grams whose steps add most to each class's logit, summed over "
        f"{document['channels']['texts']} validation texts (exact decomposition; an n-gram is the window an "
        f"encoder step reads).</p><table><thead><tr><th>class</th><th>top n-grams (summed share)</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def render_section(explained: Sequence[Explained], notes: Sequence[str], metric: str, best_number: int | None) -> str:
    """The section's HTML: the best model's texts and n-grams, then each pooling's best side by side."""
    notes_html = "".join(f'<p class="note">{html.escape(n)}</p>' for n in notes)
    head = f'<style>{CSS}</style><h2 id="{SECTION_ID}">What the best model looks at</h2>'
    best = next((e for e in explained if e.number == best_number), explained[0] if explained else None)
    if best is None:
        return head + (notes_html or '<p class="note">No trial kept a model, so no explanation was written.</p>')
    document = best.document
    texts = "".join(
        f'<div class="example"><p class="meta">validation text {e["row"]}: label {html.escape(e["label"])}, '
        f"predicted {html.escape(e['predicted'])}</p>{shaded_tokens(e)}</div>"
        for e in document["examples"]
    )
    parts = [
        head,
        f"<p>The best explained model: {html.escape(_caption(best, metric))}. "
        f"{html.escape(method_sentence(document))}</p>",
        legend("the class the model predicts"),
        texts,
        "<h3>Top n-grams per class</h3>",
        _ngram_table(document),
    ]
    if len(explained) > 1:
        columns = "".join(f"<th>{html.escape(_caption(e, metric))}</th>" for e in explained)
        by_row = [{x["row"]: x for x in e.document["examples"]} for e in explained]
        rows = "".join(
            "<tr>" + "".join(_example_cell(examples.get(example["row"])) for examples in by_row) + "</tr>"
            for example in document["examples"]
        )
        parts.append(
            '<h3 id="side-by-side">The same texts under the best model of each pooling</h3>'
            "<p>Each column shades the tokens by their share of the class that column's model predicts.</p>"
            f'<table class="side-by-side"><thead><tr>{columns}</tr></thead><tbody>{rows}</tbody></table>'
        )
    parts.append(notes_html)
    return "".join(parts)


def explanation_section(study: optuna.Study, spec: StudySpec, ranked: Sequence[RankedTrial], metric: str) -> str:
    """The section for the report of ``study``, whose completed trials are ``ranked`` best first by ``metric``."""
    from gapsearch.runner import best_trial

    explained, notes = find_explanations(study, spec, ranked)
    best = best_trial(study)
    return render_section(explained, notes, metric, None if best is None else best.number)
