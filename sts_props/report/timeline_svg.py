"""The timeline picture of a History, as a standalone SVG (no plotting dependency).

One lane per ordinal: a bar per :class:`~sts_props.report.lanes.Segment` coloured by phase and
readiness (grey Pending, amber Running but not Ready, green Ready, red Failed/Succeeded; faded
with a dashed outline while terminating; a dark outline while the harness holds it NotReady),
a thin strip under it coloured by revision with the revision's name, and a tick where a new pod
object (a new uid) takes the ordinal. Ops are vertical lines labelled at the top in their
class's colour (faults, disruptions and set deletion red, other changes blue, settles dotted
grey; a rejected op is marked "rejected"). Each highlighted violation is a red band at its
history record(s), labelled ``V1``, ``V2``... with the rule, and a red ring on the lane of the
pod the record is about.

The x axis is the history position (``seq``), the unit every violation cites; the axis labels
also give the time ``t`` of those records.

>>> from sts_props.model import run_model
>>> from sts_props.ops import Create, Settle
>>> from sts_props.scenario import Manifests, Scenario
>>> h = run_model(Scenario(Manifests.seed(), (Create(), Settle()))).history
>>> svg = timeline_svg(h, [Highlight("V1 CHK-3", (5,), "example")], title="demo")
>>> svg.startswith("<svg") and svg.count('class="lane"'), svg.count('class="violation"')
(3, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from sts_props.history import History
from sts_props.ops import CHANGE_COLOUR, OP_TYPES, Settle
from sts_props.report.lanes import Segment, pod_lanes
from sts_props.snapshot import ordinal_of

STATE_COLOURS = {"Pending": "#bdbdbd", "Running": "#f0ad4e", "Ready": "#4caf50",
                 "Failed": "#d9534f", "Succeeded": "#d9534f", "Unknown": "#9e9e9e"}
REVISION_COLOURS = ("#1f77b4", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#7f7f7f",
                    "#bcbd22")

# RIGHT leaves room for the slanted labels of the last ops
LEFT, RIGHT, TOP, LANE, BAR = 96, 150, 150, 36, 18
AXIS, LEGEND = 44, 64


@dataclass(frozen=True)
class Highlight:
    """A violation to mark: a short label, the history records it cites, a tooltip."""

    label: str
    seqs: tuple[int, ...]
    message: str = ""


class _Canvas:
    """Collects SVG elements; x positions come from history positions."""

    def __init__(self, n_events: int, width: int) -> None:
        self.n = max(1, n_events)
        self.width = width
        self.parts: list[str] = []

    def x(self, seq: float) -> float:
        return LEFT + (self.width - LEFT - RIGHT) * seq / self.n

    def add(self, element: str) -> None:
        self.parts.append(element)


def _text(x: float, y: float, text: str, size: int = 11, anchor: str = "start",
          extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-family="sans-serif"{extra}>{escape(text)}</text>')


def timeline_svg(history: History, highlights: Sequence[Highlight] = (), title: str = ""
                 ) -> str:
    """The picture of ``history`` with ``highlights`` marked; returns the SVG text."""
    lanes = pod_lanes(history)
    ordinals = sorted(lanes)
    n = len(history)
    width = max(900, min(2400, LEFT + RIGHT + 6 * n))
    lanes_bottom = TOP + LANE * max(1, len(ordinals))
    height = lanes_bottom + AXIS + LEGEND
    c = _Canvas(n, width)
    c.add(f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>')
    if title:
        c.add(_text(8, 18, title, 14, extra=' font-weight="bold"'))
    row = {o: float(TOP + LANE * i) for i, o in enumerate(ordinals)}
    revision_colour: dict[str, str] = {}
    for ordinal in ordinals:
        _draw_lane(c, ordinal, row[ordinal], lanes[ordinal], revision_colour)
    if not ordinals:
        c.add(_text(LEFT, TOP + 20, "no pods in this history", 12))
    _draw_ops(c, history, lanes_bottom)
    _draw_highlights(c, history, highlights, row, lanes_bottom)
    _draw_axis(c, history, lanes_bottom)
    _draw_legend(c, lanes_bottom + AXIS, revision_colour)
    body = "\n".join(c.parts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">\n{body}\n</svg>\n')


def _draw_lane(c: _Canvas, ordinal: int, y: float, segments: list[Segment],
               revision_colour: dict[str, str]) -> None:
    c.add(f'<g class="lane" data-ordinal="{ordinal}">')
    name = segments[0].name if segments else f"ordinal {ordinal}"
    c.add(_text(8, y + BAR - 4, name, 12))
    c.add(f'<line x1="{LEFT}" y1="{y + BAR / 2:.1f}" x2="{c.width - RIGHT}" '
          f'y2="{y + BAR / 2:.1f}" stroke="#eeeeee"/>')
    previous_uid = ""
    for seg in segments:
        x0, x1 = c.x(seg.start), c.x(seg.end)
        w = max(1.5, x1 - x0)
        fill = STATE_COLOURS.get(seg.state, "#9e9e9e")
        style = ' fill-opacity="0.4" stroke="#555" stroke-dasharray="3,2"' if seg.terminating \
            else (' stroke="#222" stroke-width="1.5"' if seg.held else "")
        tip = (f"{seg.name} {seg.state}{' terminating' if seg.terminating else ''}"
               f"{' (held NotReady)' if seg.held else ''} {seg.revision} "
               f"records #{seg.start}..#{seg.end - 1}")
        c.add(f'<rect class="segment" data-state="{seg.state}" x="{x0:.1f}" y="{y:.1f}" '
              f'width="{w:.1f}" height="{BAR}" fill="{fill}"{style}>'
              f'<title>{escape(tip)}</title></rect>')
        if seg.revision:
            colour = revision_colour.setdefault(
                seg.revision, REVISION_COLOURS[len(revision_colour) % len(REVISION_COLOURS)])
            c.add(f'<rect class="revision" x="{x0:.1f}" y="{y + BAR + 1:.1f}" width="{w:.1f}" '
                  f'height="5" fill="{colour}"/>')
        if seg.uid != previous_uid:
            # a new pod object took the ordinal: mark where it appeared
            c.add(f'<line class="new-pod" x1="{x0:.1f}" y1="{y - 3:.1f}" x2="{x0:.1f}" '
                  f'y2="{y + BAR + 6:.1f}" stroke="#000" stroke-width="1.5"/>')
            if seg.revision:
                c.add(_text(x0 + 2, y + BAR + 14, seg.revision, 9))
            previous_uid = seg.uid
    c.add("</g>")


def op_colour(kind: str) -> str:
    """The colour of an op's line: its class's :attr:`~sts_props.ops.Op.colour` (faults and
    disruptions red, settles grey, other changes blue; an unknown kind blue too).

    >>> op_colour("kill_pod") == op_colour("delete_pod") != op_colour("scale")
    True
    """
    cls = OP_TYPES.get(kind)
    return cls.colour if cls is not None else CHANGE_COLOUR


def _draw_ops(c: _Canvas, history: History, bottom: float) -> None:
    results = {int(ev.data.get("index", -1)): ev.phase for ev in history.ops()
               if ev.phase != "invoke"}
    for ev in history.ops():
        if ev.phase != "invoke":
            continue
        op = ev.data.get("op") or {}
        kind = str(op.get("op", "?"))
        index = int(ev.data.get("index", -1))
        x = c.x(ev.seq)
        colour = op_colour(kind)
        dash = ' stroke-dasharray="2,3"' if kind == Settle.kind else ""
        args = ", ".join(f"{k}={v}" for k, v in op.items() if k != "op")
        label = f"{index}: {kind}{f' {args}' if args else ''}"
        if results.get(index) == "fail":
            label += " (rejected)"
        c.add(f'<g class="op" data-index="{index}" data-kind="{kind}">'
              f'<line x1="{x:.1f}" y1="{TOP - 8}" x2="{x:.1f}" y2="{bottom:.1f}" '
              f'stroke="{colour}"{dash}/>'
              + _text(x + 2, TOP - 12, label, 10,
                      extra=f' fill="{colour}" transform="rotate(-35 {x + 2:.1f} {TOP - 12})"')
              + f"<title>{escape(f'op {label} at #{ev.seq} (t={ev.t:g}s)')}</title></g>")


def _draw_highlights(c: _Canvas, history: History, highlights: Sequence[Highlight],
                     row: dict[int, float], bottom: float) -> None:
    for number, hl in enumerate(highlights):
        for seq in hl.seqs:
            if not 0 <= seq < len(history):
                continue
            x = c.x(seq)
            band = max(4.0, c.x(seq + 1) - x)
            c.add(f'<g class="violation" data-seq="{seq}" data-label={quoteattr(hl.label)}>'
                  f'<rect x="{x - band / 2:.1f}" y="{TOP - 6}" width="{band:.1f}" '
                  f'height="{bottom - TOP + 6:.1f}" fill="#e53935" fill-opacity="0.25" '
                  f'stroke="#e53935"/>'
                  + _text(x, bottom + 12 + 11 * (number % 2), hl.label, 10, "middle",
                          ' fill="#e53935" font-weight="bold"')
                  + f"<title>{escape(hl.message or hl.label)}</title>")
            ev = history.events[seq]
            ordinal = ordinal_of(ev.name, history.set_name) if ev.kind == "Pod" else None
            if ordinal is not None and ordinal in row:
                c.add(f'<circle cx="{x:.1f}" cy="{row[ordinal] + BAR / 2:.1f}" r="9" '
                      f'fill="none" stroke="#e53935" stroke-width="2.5"/>')
            c.add("</g>")


def _draw_axis(c: _Canvas, history: History, bottom: float) -> None:
    n = len(history)
    y = bottom + 30
    c.add(f'<line x1="{LEFT}" y1="{y}" x2="{c.width - RIGHT}" y2="{y}" stroke="#444"/>')
    ticks = 10
    for i in range(ticks + 1):
        seq = min(n - 1, round(i * (n - 1) / ticks)) if n else 0
        x = c.x(seq)
        t = history.events[seq].t if n else 0.0
        c.add(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 4}" stroke="#444"/>')
        c.add(_text(x, y + 14, f"#{seq} t={t:g}s", 9, "middle"))
    c.add(_text(8, y + 4, "history", 10))


def _draw_legend(c: _Canvas, y: float, revision_colour: dict[str, str]) -> None:
    x = float(LEFT)
    items = [("Pending", STATE_COLOURS["Pending"]), ("Running, not Ready",
             STATE_COLOURS["Running"]), ("Ready", STATE_COLOURS["Ready"]),
             ("Failed/Succeeded", STATE_COLOURS["Failed"])]
    for label, colour in items:
        c.add(f'<rect x="{x:.1f}" y="{y + 12}" width="14" height="10" fill="{colour}"/>')
        c.add(_text(x + 18, y + 21, label, 10))
        x += 30 + 6.2 * len(label)
    c.add(f'<rect x="{x:.1f}" y="{y + 12}" width="14" height="10" fill="#4caf50" '
          'fill-opacity="0.4" stroke="#555" stroke-dasharray="3,2"/>')
    c.add(_text(x + 18, y + 21, "terminating", 10))
    x += 100
    c.add(f'<rect x="{x:.1f}" y="{y + 12}" width="14" height="10" fill="#f0ad4e" '
          'stroke="#222" stroke-width="1.5"/>')
    c.add(_text(x + 18, y + 21, "held NotReady", 10))
    x = float(LEFT)
    c.add(_text(8, y + 41, "revision", 10))
    for name, colour in revision_colour.items():
        c.add(f'<rect x="{x:.1f}" y="{y + 34}" width="14" height="5" fill="{colour}"/>')
        c.add(_text(x + 18, y + 41, name, 10))
        x += 70
    c.add(_text(x + 10, y + 41, "ops: blue = spec change, red = fault, dotted = settle; "
                                "red band = violation", 10))
