"""The report's section "What the best model looks at", from the collected explanation artifacts.

Each kept model wrote its explanation at training time (:mod:`gapsearch.explain.summary`) and
:mod:`gapsearch.results.report.results` read them, so this module only writes HTML: no Keras, no TensorFlow.
It shows the best trial's explained validation texts and top n-grams per class and, when the study
tried several poolings (in its trials or in a ``compare:pooling`` result), the same texts under the
best explained trial of each pooling, side by side.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from gapsearch.explain.render import CSS, legend, method_sentence, shaded_tokens
from gapsearch.results.report.results import Explained, StudyResults

SECTION_ID = "what-the-best-model-looks-at"


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


def explanation_section(results: StudyResults) -> str:
    """The section for the report of ``results``; empty when its explanations were not collected."""
    found = results.explanations
    if found is None:
        return ""
    return render_section(found.explained, found.notes, results.metric, found.best_number)
