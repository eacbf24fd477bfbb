#!/usr/bin/env python3
"""The merge peer: Yrs (the Rust CRDT behind Yjs), through the pycrdt package, merging in
memory the same changes tally-bench merged into a depot replica.

Input: the JSON lines `tally-bench --export FILE` writes, one change per line in the order a
sync delivers them: {"s": van, "t": table, "k": key, "v": {column: value}}. Each van becomes
one Yrs document (its own client id) holding one map per table, a column of a row being the map
entry "key/column" (a last-writer-wins register, like Tally's register columns; Yrs has no
lattice or ledger kinds, so status moves and entries are plain sets here). Each van's whole
history is one Yrs update. Timed: applying the 500 updates to an empty document, in memory.
Not timed: building the vans' documents and encoding their updates.

A reference to compare against, not a dependency of the product.
"""
import json, os, sys, time, resource

def main():
    args = sys.argv[1:]
    if not args:
        sys.exit("usage: yrs_merge.py CHANGES.jsonl [--runs N]")
    path = args[0]
    runs = int(args[args.index("--runs") + 1]) if "--runs" in args else 3
    import pycrdt
    by_van = {}
    columns = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            c = json.loads(line)
            by_van.setdefault(c["s"], []).append(c)
            columns += len(c["v"])
    t0 = time.perf_counter()
    updates = []
    for van, changes in sorted(by_van.items()):
        doc = pycrdt.Doc(client_id=van + 1)
        maps = {}
        with doc.transaction():
            for c in changes:
                m = maps.get(c["t"])
                if m is None:
                    m = maps[c["t"]] = doc.get(c["t"], type=pycrdt.Map)
                for col, value in c["v"].items():
                    m[c["k"] + "/" + col] = value
        updates.append(doc.get_update())
    built = time.perf_counter() - t0
    size = sum(len(u) for u in updates)
    print(f"yrs: {len(updates)} van updates, {columns:,} column changes, {size / 1e6:.1f} MB of updates, built in {built:.1f} s (not timed)", flush=True)
    samples = []
    for r in range(runs):
        t = time.perf_counter()
        merged = pycrdt.Doc()
        for u in updates:
            merged.apply_update(u)
        dt = time.perf_counter() - t
        samples.append(dt)
        print(f"yrs: run {r + 1}: merged {len(updates)} updates in {dt:.2f} s ({columns / dt:,.0f} column changes/s)", flush=True)
        del merged
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"yrs: peak memory {peak:.0f} MB", flush=True)
    out = os.environ.get("TALLY_BENCH_RESULTS")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps({
                "section": "merge", "id": "yrs", "unit": "col changes/s", "higherIsBetter": True,
                "figure": f"Yrs {pycrdt_version()} (pycrdt), {len(updates)} van updates merged in memory ({columns:,} column changes)",
                "samples": [columns / s for s in samples],
                "note": f"pycrdt {pycrdt_version()}, peak memory {peak:.0f} MB, updates {size / 1e6:.1f} MB",
            }, sort_keys=True) + "\n")

def pycrdt_version():
    try:
        from importlib.metadata import version
        return version("pycrdt")
    except Exception:
        return "?"

if __name__ == "__main__":
    main()
