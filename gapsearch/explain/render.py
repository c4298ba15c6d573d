"""Explanations as text for people and programs: a table (coloured in a terminal), JSON, or an HTML page.

Only the standard library: the report renders the training-time explanations with the same
:func:`shaded_tokens` without importing Keras or NumPy.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

#: Positive contributions (for the class explained) are green, negative ones red; stronger is darker.
POSITIVE_RGB = (26, 152, 80)
NEGATIVE_RGB = (215, 48, 39)

CSS = """
.tokens { line-height: 2.1; font-size: 1.05em; }
.tok { padding: 2px 3px; margin: 0 1px; border-radius: 3px; white-space: nowrap; }
.tok.oov { text-decoration: underline dotted; }
.legend { color: #555; font-size: 0.92em; }
.legend .tok { display: inline-block; }
"""

PAGE_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0;
       background: #f6f7f9; line-height: 1.5; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 32px 48px; background: white; }
.method { background: #f0f4fa; border-left: 5px solid #4a78b5; padding: 8px 14px; }
.text { border-top: 1px solid #e3e3e3; padding-top: 8px; margin-top: 14px; }
.meta { color: #666; font-size: 0.92em; }
table { border-collapse: collapse; font-size: 0.92em; } th, td { padding: 3px 9px; border-bottom: 1px solid #e3e3e3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
"""


def _alpha(value: float, scale: float) -> float:
    return 0.0 if scale <= 0 else min(1.0, abs(value) / scale)


def token_style(value: float, scale: float) -> str:
    """The background of a token of contribution ``value`` when ``scale`` is the text's largest magnitude."""
    red, green, blue = POSITIVE_RGB if value >= 0 else NEGATIVE_RGB
    alpha = _alpha(value, scale)
    if alpha == 0:
        return "background: transparent; color: #222"
    ink = "white" if alpha > 0.6 else "#222"
    return f"background: rgba({red}, {green}, {blue}, {0.08 + 0.87 * alpha:.3f}); color: {ink}"


def shaded_tokens(record: Mapping[str, Any]) -> str:
    """A text's tokens as HTML spans shaded by contribution (title: the value); empty texts say so."""
    tokens = record["tokens"]
    if not tokens:
        return '<div class="tokens"><em>(empty: no tokens)</em></div>'
    scale = max(abs(t["contribution"]) for t in tokens)
    spans = []
    for token in tokens:
        value = float(token["contribution"])
        kind = "pos" if value >= 0 else "neg"
        oov = "" if token.get("in_vocabulary", True) else " oov"
        spans.append(
            f'<span class="tok {kind}{oov}" style="{token_style(value, scale)}" title="{value:+.4f}">'
            f"{html.escape(token['token'])}</span>"
        )
    return f'<div class="tokens">{" ".join(spans)}</div>'


def legend(class_phrase: str = "the class explained") -> str:
    """The key to the shading: what green and red mean."""
    for_class = f'<span class="tok" style="{token_style(1.0, 1.0)}">for</span>'
    against = f'<span class="tok" style="{token_style(-1.0, 1.0)}">against</span>'
    return (
        f'<p class="legend">Shading: {for_class} {html.escape(class_phrase)} and {against} it; darker is stronger '
        "(relative to the text's strongest token); hover a token for its value.</p>"
    )


def method_sentence(result: Mapping[str, Any]) -> str:
    """``exact decomposition`` or ``occlusion``, with the rule that gives each token its share."""
    return f"Method: {result['rule']}."


def _summary_line(record: Mapping[str, Any]) -> str:
    probability = record["probabilities"][record["predicted"]]
    bias = "" if record["bias"] is None else f" = bias {record['bias']:+.4f} + the tokens' sum"
    return (
        f"predicted {record['predicted']} ({probability:.4f}); score of {record['class']}: {record['score']:+.4f}{bias}"
    )


def _ansi(token: str, value: float, scale: float) -> str:
    """The token in green (for) or red (against) in 256 colours; bold when it is among the strongest."""
    colour = 34 if value >= 0 else 160
    weight = "1;" if _alpha(value, scale) >= 0.5 else ""
    return f"\x1b[{weight}38;5;{colour}m{token}\x1b[0m"


def render_table(result: Mapping[str, Any], *, color: bool = False) -> str:
    """Each text's prediction, then each token with its contribution; coloured when ``color``."""
    lines = [f"method: {result['rule']}"]
    for number, record in enumerate(result["texts"], start=1):
        lines.append(f"text {number}: {_summary_line(record)}")
        if not record["tokens"]:
            lines.append("  (empty: no tokens)")
        scale = max((abs(t["contribution"]) for t in record["tokens"]), default=0.0)
        for token in record["tokens"]:
            word = _ansi(token["token"], token["contribution"], scale) if color else token["token"]
            lines.append(f"  {token['contribution']:+9.4f}  {word}")
    return "\n".join(lines)


def render_page(result: Mapping[str, Any], *, title: str = "gapsearch explain") -> str:
    """One self-contained HTML page: the method, then each text with its tokens shaded by contribution."""
    parts = []
    for number, record in enumerate(result["texts"], start=1):
        parts.append(
            f'<section class="text"><p><strong>Text {number}</strong>: {html.escape(_summary_line(record))}</p>'
            f"{shaded_tokens(record)}</section>"
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{PAGE_CSS}{CSS}</style></head>
<body><main>
<h1>{html.escape(title)}</h1>
<p class="method">{html.escape(method_sentence(result))}</p>
{legend()}
{"".join(parts)}
</main></body></html>
"""


def render(result: Mapping[str, Any], fmt: str, *, color: bool = False) -> str:
    """The explanation as ``json``, ``table`` or ``html``."""
    if fmt == "json":
        return json.dumps(result, indent=2, ensure_ascii=False)
    if fmt == "html":
        return render_page(result)
    return render_table(result, color=color)


def _votes(channel: Mapping[str, Any]) -> str:
    return " ".join(f"{name} {value:+.3f}" for name, value in channel["votes"].items())


def render_channels(report: Mapping[str, Any], fmt: str, *, source: str) -> str:
    """The channels' votes and top n-grams, and each class's top n-grams, as ``json``, ``table`` or ``html``."""
    if fmt == "json":
        return json.dumps({**report, "source": source}, indent=2, ensure_ascii=False)
    channels: Sequence[Mapping[str, Any]] = report["channels"]
    ordered = sorted(channels, key=lambda c: -max(abs(v) for v in c["votes"].values()))
    if fmt == "html":
        rows = "".join(
            f'<tr><td class="num">{c["channel"]}</td><td>{html.escape(c["pooling"])}</td>'
            f"<td>{html.escape(c['votes_for'])}</td><td>{html.escape(_votes(c))}</td>"
            f"<td>{html.escape(' | '.join(t['ngram'] for t in c['top']))}</td></tr>"
            for c in ordered
        )
        classes = "".join(
            f"<h3>{html.escape(name)}</h3><p>{html.escape(' | '.join(g['ngram'] for g in grams))}</p>"
            for name, grams in report["classes"].items()
        )
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gapsearch explain --channels</title>
<style>{PAGE_CSS}</style></head><body><main><h1>Channels</h1><p class="meta">{html.escape(source)}</p>
<h2>Top n-grams per class</h2>{classes}
<h2>Channels, strongest vote first</h2><table><thead><tr><th>channel</th><th>pooling</th><th>votes for</th>
<th>votes</th><th>top n-grams</th></tr></thead><tbody>{rows}</tbody></table></main></body></html>
"""
    lines = [
        f"channels: {len(channels)}; n-grams over {source}",
        "",
        "top n-grams per class (summed share of its logit):",
    ]
    for name, grams in report["classes"].items():
        lines.append(f"  {name}: " + " | ".join(f"{g['ngram']} ({g['share']:+.3f})" for g in grams))
    lines += ["", "channel  pooling    window   votes for  votes; top n-grams (activation), strongest vote first"]
    for c in ordered:
        window = f"-{c['window'][0]}..+{c['window'][1]}"
        lines.append(f"{c['channel']:>7}  {c['pooling']:<9}  {window:<7}  {c['votes_for']:<9}  {_votes(c)}")
        lines.append("         " + " | ".join(f"{t['ngram']} ({t['activation']:.3f})" for t in c["top"]))
    return "\n".join(lines)


def terminal_supports_color(stream: Any) -> bool:
    """Colour only for a terminal, and not when ``NO_COLOR`` is set (https://no-color.org) or ``TERM=dumb``."""
    import os

    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())
