#!/usr/bin/env python3
"""Turns the figures the benchmarks recorded (JSON lines, `TALLY_BENCH_RESULTS`) into the
Markdown table of docs/BENCHMARKS.md, between its `tally-bench:begin` and `tally-bench:end`
markers: each figure's median with min and max, the baseline or peer measured beside it in
the same run, their ratio, and the issue's aim.

usage: report.py RESULTS.jsonl BENCHMARKS.md "header line"
"""
import json, statistics, sys

BEGIN, END = "<!-- tally-bench:begin -->", "<!-- tally-bench:end -->"
ORDER = ["local write", "merge", "sync", "reconcile", "wire"]

def fmt(v, unit):
    if unit == "s":
        return f"{v:.2f} s" if v >= 1 else f"{v * 1000:.0f} ms"
    if unit == "ms":
        return f"{v:.2f} ms"
    if unit.endswith("/s"):
        n = unit[:-2]
        s = f"{v / 1e6:.2f}M" if v >= 1e6 else f"{v / 1e3:.0f}k" if v >= 1e4 else f"{v / 1e3:.1f}k" if v >= 1e3 else f"{v:.0f}"
        return f"{s} {n}/s"
    if unit == "MB":
        return f"{v:.0f} MB"
    if unit == "B/change":
        return f"{v:.1f} B"
    return f"{v:.3g} {unit}"

def cell(samples, unit):
    if not samples:
        return "–"
    m = statistics.median(samples)
    if len(samples) == 1:
        return fmt(m, unit) + " (1 run)"
    return f"{fmt(m, unit)} ({fmt(min(samples), unit)}–{fmt(max(samples), unit)}, {len(samples)} runs)"

def time_ratio(f, base):
    """Tally's time over the baseline's, from medians (rates inverted)."""
    a, b = statistics.median(f["samples"]), statistics.median(base)
    return b / a if f["higherIsBetter"] else a / b

def judge(f, ratio):
    m = statistics.median(f["samples"])
    if f.get("aimRatio") is not None and ratio is not None:
        return "met" if ratio <= f["aimRatio"] else "missed"
    if f.get("aimValue") is not None:
        ok = m >= f["aimValue"] if f["higherIsBetter"] else m < f["aimValue"]
        return "met" if ok else "missed"
    return ""

def main():
    results, target, header = sys.argv[1], sys.argv[2], sys.argv[3]
    figures = [json.loads(l) for l in open(results, encoding="utf-8") if l.strip()]
    yrs = next((f for f in figures if f["id"] == "yrs"), None)
    rows = []
    for section in ORDER:
        for f in [f for f in figures if f["section"] == section and f["id"] != "yrs"]:
            base = f.get("baselineSamples")
            ratio = time_ratio(f, base) if base else None
            rows.append([section, f["figure"], cell(f["samples"], f["unit"]),
                         (f.get("baseline") or "") + (": " + cell(base, f["unit"]) if base else ""),
                         f"{ratio:.2f}×" if ratio else "–", f.get("aim") or "", judge(f, ratio), f.get("note") or ""])
            if section == "merge" and yrs and "as column changes" in f["id"]:
                r = time_ratio(f, yrs["samples"])
                rows.append(["merge", "the same column changes, against the peer", cell(f["samples"], f["unit"]),
                             yrs["figure"] + ": " + cell(yrs["samples"], yrs["unit"]), f"{r:.2f}×",
                             "faster than Yrs's in-memory merge", "met" if r < 1 else "missed", yrs.get("note") or ""])
    out = [header, "",
           "| section | figure | Tally: median (min–max) | baseline or peer, same run: median (min–max) | Tally time ÷ theirs | aim | | notes |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    table = "\n".join(out)
    text = open(target, encoding="utf-8").read()
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN) + len(BEGIN)] + "\n" + table + "\n" + text[text.index(END):]
    else:
        text += "\n" + BEGIN + "\n" + table + "\n" + END + "\n"
    open(target, "w", encoding="utf-8").write(text)
    print(table)

if __name__ == "__main__":
    main()
