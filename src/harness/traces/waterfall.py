"""One trace as a self-contained SVG waterfall, readable at a glance in an Allure report.

One row per span in call order (parent above its children, indented by depth), the bar placed by
start time and sized by duration on a shared time axis; failed spans in red. Hovering a row shows
its attributes, status and exceptions.
"""

from __future__ import annotations

from html import escape

from harness.traces.model import ReceivedSpan, Trace
from harness.traces.otlp_codec import otlp_json

__all__ = ["render_waterfall", "otlp_json"]  # otlp_json: the machine-readable companion attachment

WIDTH = 1100
LABEL_WIDTH = 440
ROW_HEIGHT = 22
HEADER_HEIGHT = 52
INDENT = 14
CHAR_WIDTH = 7.4  # of the 12 px monospace font, to cut labels before they run into the bars
ERROR_COLOUR = "#d62728"
SERVICE_COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#bcbd22", "#e377c2", "#7f7f7f")
_BAR_LEFT = LABEL_WIDTH + 10
_BAR_WIDTH = WIDTH - _BAR_LEFT - 20
_TICKS = 4


def render_waterfall(trace: Trace) -> str:
    """The SVG document (as text) for one trace; attach it as image/svg+xml."""
    rows = list(trace.walk())
    height = HEADER_HEIGHT + ROW_HEIGHT * max(1, len(rows)) + 10
    total_ns = max(1, trace.end_ns - trace.start_ns)
    colours = {service: SERVICE_COLOURS[i % len(SERVICE_COLOURS)] for i, service in enumerate(trace.services)}
    errors = sum(span.is_error for span in trace.spans)
    summary = (f"trace {trace.trace_id} · {len(rows)} spans · {total_ns / 1e6:.1f} ms · "
               f"{', '.join(s or '?' for s in trace.services)}" + (f" · {errors} failed" if errors else ""))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="monospace" font-size="12">',
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="8" y="18" font-weight="bold">{escape(summary)}</text>',
        *_time_axis(total_ns, height),
    ]
    if not rows:
        parts.append(f'<text x="8" y="{HEADER_HEIGHT + 15}">no spans received</text>')
    for index, (span, depth) in enumerate(rows):
        parts.append(_row(span, depth, index, trace.start_ns, total_ns, colours.get(span.service_name, "#1f77b4")))
    parts.append("</svg>")
    return "\n".join(parts)


def _time_axis(total_ns: int, height: int) -> list[str]:
    lines = []
    for tick in range(_TICKS + 1):
        x = _BAR_LEFT + _BAR_WIDTH * tick / _TICKS
        label = f"{total_ns * tick / _TICKS / 1e6:.1f} ms"
        anchor = "end" if tick == _TICKS else "start" if tick == 0 else "middle"
        lines.append(f'<line x1="{x:.1f}" y1="{HEADER_HEIGHT - 8}" x2="{x:.1f}" y2="{height - 6}" stroke="#dddddd"/>')
        lines.append(f'<text x="{x:.1f}" y="{HEADER_HEIGHT - 12}" text-anchor="{anchor}" fill="#666666">'
                     f"{label}</text>")
    return lines


def _row(span: ReceivedSpan, depth: int, index: int, trace_start_ns: int, total_ns: int, colour: str) -> str:
    y = HEADER_HEIGHT + index * ROW_HEIGHT
    indent = 8 + depth * INDENT
    label = _label(span, int((LABEL_WIDTH - indent) / CHAR_WIDTH))
    x = _BAR_LEFT + _BAR_WIDTH * (span.start_ns - trace_start_ns) / total_ns
    width = max(2.0, _BAR_WIDTH * span.duration_ns / total_ns)
    fill = ERROR_COLOUR if span.is_error else colour
    text_colour = ERROR_COLOUR if span.is_error else "#222222"
    # translucent, so the axis lines stay visible through it
    shade = f'<rect x="0" y="{y}" width="{WIDTH}" height="{ROW_HEIGHT}" fill="#000000" fill-opacity="0.035"/>'
    return (
        f'<g class="span{" error" if span.is_error else ""}" data-span-id="{span.span_id}">'
        f"<title>{escape(_tooltip(span))}</title>"
        + (shade if index % 2 else "")
        + f'<text x="{indent}" y="{y + 15}" fill="{text_colour}">{escape(label)}</text>'
        f'<rect x="{x:.1f}" y="{y + 4}" width="{width:.1f}" height="{ROW_HEIGHT - 8}" rx="2" fill="{fill}"/>'
        "</g>"
    )


def _tooltip(span: ReceivedSpan) -> str:
    lines = [f"{span.name} ({span.kind}) {span.duration_ms:.3f} ms", f"service: {span.service_name}",
             f"span {span.span_id}, parent {span.parent_span_id or '-'}"]
    if span.status_code != "UNSET":
        lines.append(f"status: {span.status_code} {span.status_message}".rstrip())
    lines += [f"{key} = {value}" for key, value in span.attributes.items()]
    for event in span.exceptions:
        lines.append(f"exception: {event.attributes.get('exception.type', '?')}: "
                     f"{event.attributes.get('exception.message', '')}")
    return "\n".join(lines)


def _label(span: ReceivedSpan, max_chars: int) -> str:
    """Mark, name, service and duration; a long name is cut, never the duration."""
    mark = "✗ " if span.is_error else ""
    suffix = f" · {span.service_name or '?'} · {span.duration_ms:.1f} ms"
    room = max(8, max_chars - len(mark) - len(suffix))
    name = span.name if len(span.name) <= room else span.name[: room - 1] + "…"
    return mark + name + suffix
