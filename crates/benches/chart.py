#!/usr/bin/env python3
"""Draws docs/benchmarks.svg from the bench outputs in <target>/bench-results/:

- instructions.json (crates/benches/callgrind.sh): instructions per request;
- time.json (cargo bench -p peers --bench peers): criterion medians;
- load.json (crates/benches/load.sh): requests per second end to end.

Each present file gives one section; a missing one is left out (and said). Standard
library only: the SVG is written by hand.

    python3 crates/benches/chart.py                      # target/bench-results -> docs/benchmarks.svg
    python3 crates/benches/chart.py --results DIR --out FILE
"""

import argparse
import json
import os
import sys
from xml.sax.saxutils import escape

ALGS = ["rs256", "es256", "hs256"]
PASSPORT = "#2563eb"
PEER = "#ea580c"
FLOOR = "#9ca3af"
INNER = "#6b7280"
WIDTH = 960
LABEL_W = 270
BAR_X = LABEL_W + 10
BAR_MAX = WIDTH - BAR_X - 280
ROW_H = 20
FONT = "font-family='DejaVu Sans, Helvetica, Arial, sans-serif'"

# (label, scenario prefix or key, colour, whether the floor is drawn inside the bar)
INSTRUCTION_ROWS = [
    ("tower-passport warm (cache hit, guard)", "warm_", PASSPORT, False),
    ("tower-passport warm + all-of scope layer", "warm_scope_", PASSPORT, False),
    ("tower-passport cold (guard, cache off)", "guard_cold_", PASSPORT, True),
    ("tower-passport cold (Verifier::verify)", "cold_", PASSPORT, True),
    ("jsonwebtoken 11 decode", "jsonwebtoken_", PEER, True),
    ("aliri_tower 0.6 layer", "aliri_", PEER, True),
    ("jwt-authorizer 0.15 layer", "jwt_authorizer_", PEER, True),
    ("floor: aws-lc-rs signature check", "floor_", FLOOR, False),
]
TIME_ROWS = [
    ("tower-passport warm (cache hit, guard)", "passport_warm", PASSPORT, False),
    ("tower-passport cold (guard, cache off)", "passport_cold", PASSPORT, True),
    ("jsonwebtoken 11 decode", "jsonwebtoken", PEER, True),
    ("aliri_tower 0.6 layer", "aliri", PEER, True),
    ("jwt-authorizer 0.15 layer", "jwt_authorizer", PEER, True),
    ("floor: aws-lc-rs signature check", "floor", FLOOR, False),
]
LOAD_MODES = [
    ("no auth (the handler alone)", "none", INNER),
    ("tower-passport warm", "warm", PASSPORT),
    ("tower-passport cold", "cold", PASSPORT),
    ("aliri_tower 0.6", "aliri", PEER),
    ("jwt-authorizer 0.15", "jwt-authorizer", PEER),
]


def load(path):
    try:
        with open(path) as file:
            return json.load(file)
    except FileNotFoundError:
        print(f"chart.py: {path} not found, its section is left out", file=sys.stderr)
        return None


def count(value):
    if value >= 1_000_000:
        return f"{value / 1_000_000:.2f}M"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}"


def duration(ns):
    if ns >= 1_000_000:
        return f"{ns / 1_000_000:.1f} ms"
    if ns >= 100_000:
        return f"{ns / 1000:.0f} µs"
    if ns >= 1000:
        return f"{ns / 1000:.2f} µs"
    return f"{ns:.0f} ns"


class Svg:
    def __init__(self):
        self.parts = []
        self.y = 0

    def text(self, x, y, content, size=12, weight="normal", anchor="start", fill="#111827"):
        self.parts.append(
            f"<text x='{x}' y='{y}' font-size='{size}' font-weight='{weight}' text-anchor='{anchor}' "
            f"fill='{fill}' {FONT}>{escape(content)}</text>"
        )

    def rect(self, x, y, width, height, fill):
        self.parts.append(f"<rect x='{x:.1f}' y='{y}' width='{max(width, 1):.1f}' height='{height}' fill='{fill}'/>")

    def heading(self, title, *notes):
        self.y += 34
        self.text(12, self.y, title, size=16, weight="bold")
        for note in notes:
            self.y += 16
            self.text(12, self.y, note, size=11, fill="#4b5563")
        self.y += 8

    def bars(self, title, rows, fmt, floor_value=None):
        """rows: (label, value, colour, floor inside[, extra annotation]). One scale per block."""
        rows = [row for row in rows if row[1] is not None]
        if not rows:
            return
        self.y += 22
        self.text(12, self.y, title, size=13, weight="bold")
        self.y += 6
        scale = BAR_MAX / max(row[1] for row in rows)
        for label, value, colour, with_floor, *extra in rows:
            top = self.y + 4
            self.text(LABEL_W, top + 13, label, size=11, anchor="end")
            self.rect(BAR_X, top, value * scale, ROW_H - 6, colour)
            annotation = fmt(value)
            if with_floor and floor_value:
                self.rect(BAR_X, top, min(value, floor_value) * scale, ROW_H - 6, FLOOR)
                over = value - floor_value
                annotation += f" ({'+' if over >= 0 else '−'}{fmt(abs(over))} over the floor)"
            annotation += "".join(extra)
            self.text(BAR_X + value * scale + 6, top + 11, annotation, size=11)
            self.y += ROW_H

    def render(self, title):
        height = self.y + 30
        head = (
            f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{height}' "
            f"viewBox='0 0 {WIDTH} {height}'>"
            f"<rect width='{WIDTH}' height='{height}' fill='white'/>"
        )
        return head + f"<title>{escape(title)}</title>" + "".join(self.parts) + "</svg>\n"


def legend(svg):
    svg.y += 20
    x = 12
    for colour, label in [(PASSPORT, "tower-passport"), (PEER, "peers"), (FLOOR, "bare signature check (the floor)"),
                          (INNER, "no auth")]:
        svg.rect(x, svg.y - 10, 12, 12, colour)
        svg.text(x + 18, svg.y, label, size=11)
        x += 40 + 7 * len(label)


def instructions_section(svg, data):
    per_request = data.get("per_request", {})
    svg.heading(
        "Instructions per request (callgrind)",
        f"(Ir(N2) − Ir(N1)) / (N2 − N1), N1 = {data.get('n1')}, N2 = {data.get('n2')}; "
        f"same token and inner service for all; {data.get('valgrind', '')}.",
        "Grey: aws-lc-rs's bare check inside each bar. jwt-authorizer (jsonwebtoken 9) verifies with ring, aliri with "
        "ring (RS256, HS256) and OpenSSL (ES256):",
        "their bars carry their backend's difference from aws-lc-rs too.",
    )
    for alg in ALGS:
        floor_value = per_request.get(f"floor_{alg}")
        rows = [(label, per_request.get(prefix + alg), colour, inside) for label, prefix, colour, inside in INSTRUCTION_ROWS]
        svg.bars(alg.upper(), rows, count, floor_value)
    inner = per_request.get("inner")
    if inner is not None:
        svg.y += 16
        svg.text(12, svg.y, f"inner service alone: {count(inner)} instructions "
                            f"(jwt-authorizer's own inner service: {count(per_request.get('axum_inner', 0))})",
                 size=11, fill="#4b5563")


def time_section(svg, data):
    medians = data.get("median_ns", {})
    svg.heading("Time per request (criterion medians, one run)",
                "Side by side in one process, one function after another: on a shared machine the load moves "
                "between them,",
                "so the instruction counts above are the steadier comparison.")
    for alg in ALGS:
        group = medians.get(alg.upper(), {})
        rows = [(label, group.get(key), colour, inside) for label, key, colour, inside in TIME_ROWS]
        svg.bars(alg.upper(), rows, duration, group.get("floor"))


def load_section(svg, data):
    svg.heading(
        f"End to end: requests per second ({data.get('alg', '').upper()} token, wrk -c{data.get('connections')}, "
        f"{data.get('cores')} cores)",
        "hyper 1 server, one inner handler; medians of interleaved rounds. Pinned: server on core 0 (1 worker), "
        "wrk on core 1.",
    )
    summary = data.get("summary", [])
    for placement, title in [("unpinned", "unpinned (2 workers)"), ("pinned", "pinned (taskset)")]:
        by_mode = {entry["mode"]: entry for entry in summary if entry["placement"] == placement}
        rows = []
        for label, mode, colour in LOAD_MODES:
            entry = by_mode.get(mode)
            if entry:
                extra = f" · p50 {duration(entry['p50_us'] * 1000)}, p99 {duration(entry['p99_us'] * 1000)}"
                rows.append((label, entry["requests_per_second"], colour, False, extra))
        svg.bars(title, rows, lambda value: f"{value:,.0f} req/s")
    ratios = data.get("ratios", {})
    notes = []
    for placement in ("unpinned", "pinned"):
        values = ratios.get(placement, {})
        cells = [f"{name} {values[name]:.2f}" for name in ("warm/none", "cold/jwt-authorizer", "cold/aliri")
                 if values.get(name) is not None]
        if cells:
            notes.append(f"{placement}: " + ", ".join(cells))
    if notes:
        svg.y += 18
        svg.text(12, svg.y, "Ratios of requests/s: " + "; ".join(notes), size=11, fill="#4b5563")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    parser.add_argument("--results", default=os.path.join(target, "bench-results"))
    parser.add_argument("--out", default=os.path.join(root, "docs", "benchmarks.svg"))
    args = parser.parse_args()

    svg = Svg()
    svg.y = 10
    svg.text(12, 30, "tower-passport and its peers, per request", size=20, weight="bold")
    svg.y = 30
    legend(svg)
    sections = 0
    for name, draw in [("instructions.json", instructions_section), ("time.json", time_section),
                       ("load.json", load_section)]:
        data = load(os.path.join(args.results, name))
        if data:
            draw(svg, data)
            sections += 1
    if sections == 0:
        print(f"chart.py: no bench results in {args.results}; run callgrind.sh, the peers bench or load.sh first",
              file=sys.stderr)
        return 1
    with open(args.out, "w") as file:
        file.write(svg.render("tower-passport and its peers: instructions, time and requests per second"))
    print(f"written to {args.out} ({sections} sections)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
