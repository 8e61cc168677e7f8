"""Charts as inline SVG (no script, no external file: a government intranet page must stand
alone): stacked bars and lines, with their legend and axis labels. Every text is escaped.
Explicit ``width``/``height`` (and a ``viewBox``) so the chart prints at its size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FONT = "'SimHei','Microsoft YaHei','Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei',sans-serif"
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 16, 56, 40


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    values: tuple[int, ...]


def _nice_max(top: int) -> int:
    """A round axis maximum at or above ``top`` (at least 4), divisible into 4 ticks."""
    if top <= 4:
        return 4
    step = 10 ** int(math.log10(top / 4))
    for m in (1, 2, 2.5, 5, 10):
        tick = m * step
        if tick * 4 >= top and float(tick).is_integer():
            return int(tick * 4)
    return int(math.ceil(top / 4) * 4)  # pragma: no cover - the loop always finds one


def _frame(width: int, height: int, title: str, label: str, body: list[str]) -> str:
    # No xmlns: inline in HTML the parser gives it its namespace, and the page names no URL.
    head = (f'<svg width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
            f'class="chart" font-family="{escape(FONT)}" font-size="12">')
    return "\n".join([head, f"<title>{escape(title)}</title>",
                      f'<text x="{_LEFT}" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
                      *body, "</svg>"])


def _axes(width: int, height: int, top: int) -> list[str]:
    plot_h = height - _TOP - _BOTTOM
    out = []
    for i in range(5):
        v = top * i // 4
        y = height - _BOTTOM - plot_h * i / 4
        out.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{width - _RIGHT}" y2="{y:.1f}" '
                   f'stroke="{"#888" if i == 0 else "#ddd"}" stroke-width="1"/>')
        out.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#444">{v}</text>')
    return out


def _legend(series: Sequence[Series], width: int, height: int) -> list[str]:
    """Under the title, from the left."""
    out = []
    x = _LEFT
    for s in series:
        out.append(f'<rect x="{x}" y="28" width="12" height="12" fill="{escape(s.color)}"/>')
        out.append(f'<text x="{x + 16}" y="38" fill="#222">{escape(s.name)}</text>')
        x += 24 + 13 * len(s.name)
    return out


def _category_labels(labels: Sequence[str], xs: Sequence[float], height: int, slanted: bool) -> list[str]:
    """Under the axis; slanted (and cut to 6 characters, the whole in a tooltip) where
    they would run into each other."""
    out = []
    y = height - _BOTTOM + 16
    for label, x in zip(labels, xs, strict=True):
        if slanted:
            cut = label if len(label) <= 6 else label[:5] + "…"
            out.append(f'<text x="{x:.1f}" y="{y}" text-anchor="end" font-size="10" fill="#222" '
                       f'transform="rotate(-30 {x:.1f} {y})"><title>{escape(label)}</title>{escape(cut)}</text>')
        else:
            out.append(f'<text x="{x:.1f}" y="{y}" text-anchor="middle" fill="#222">{escape(label)}</text>')
    return out


def stacked_bars(title: str, labels: Sequence[str], series: Sequence[Series], *,
                 width: int = 720, height: int = 300) -> str:
    """One bar per label, the series stacked bottom-up in order; each bar's total on top."""
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    slot = plot_w / max(len(labels), 1)
    bar = min(slot * 0.6, 48)
    body = _axes(width, height, top) + _legend(series, width, height)
    xs = []
    for i, label in enumerate(labels):
        cx = _LEFT + slot * (i + 0.5)
        xs.append(cx)
        base = float(height - _BOTTOM)
        for s in series:
            v = s.values[i]
            if not v:
                continue
            h = plot_h * v / top
            base -= h
            body.append(f'<rect x="{cx - bar / 2:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                        f'fill="{escape(s.color)}"><title>{escape(label)} {escape(s.name)}：{v}</title></rect>')
        if totals[i]:
            body.append(f'<text x="{cx:.1f}" y="{base - 4:.1f}" text-anchor="middle" fill="#222">{totals[i]}</text>')
    body += _category_labels(labels, xs, height, slanted=max((len(x) for x in labels), default=0) * 12 > slot)
    return _frame(width, height, title, f"{title}（柱状图）", body)


def lines(title: str, labels: Sequence[str], series: Sequence[Series], *,
          width: int = 720, height: int = 300) -> str:
    """One line per series over the labels, a dot and its value at each point."""
    top = _nice_max(max((v for s in series for v in s.values), default=0))
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    slot = plot_w / max(len(labels), 1)
    xs = [_LEFT + slot * (i + 0.5) for i in range(len(labels))]
    body = _axes(width, height, top) + _legend(series, width, height)
    for s in series:
        points = [(x, height - _BOTTOM - plot_h * v / top) for x, v in zip(xs, s.values, strict=True)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{escape(s.color)}" stroke-width="2">'
                    f'<title>{escape(s.name)}</title></polyline>')
        for (x, y), v, label in zip(points, s.values, labels, strict=True):
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{escape(s.color)}">'
                        f'<title>{escape(label)} {escape(s.name)}：{v}</title></circle>')
    body += _category_labels(labels, xs, height, slanted=max((len(x) for x in labels), default=0) * 12 > slot)
    return _frame(width, height, title, f"{title}（折线图）", body)
