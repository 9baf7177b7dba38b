#!/usr/bin/python3
"""Checks servetwin output files against the field tables of docs/output-schema.md, both ways:
every documented required field exists with the documented type, and every produced field is
documented. The tables are read from the markdown: a `<!-- schema: FILE PATH [...] -->` comment
followed by a table whose first column is a backticked field name (see the doc's conventions).

Usage: output_schema_check.py DOC [--producer simulator|live] [--summary summary.json]
                              [--requests requests.csv] [--sweep sweep.json]
Exit 0 when everything matches, 1 with one line per problem otherwise, 2 on a malformed doc.
"""
import argparse
import csv
import json
import re
import sys

TYPES = {"string", "integer", "number", "boolean", "object", "map", "array<object>", "array<number>",
         "array<string>", "any", "enum"}
REQUIRED = {"always", "simulator", "live", "optional"}
MARKER = re.compile(r"^<!--\s*schema:\s*(\S+)\s+(\S+)(.*?)-->\s*$")
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|(.*)\|\s*$")


class DocError(Exception):
    pass


def parse_doc(path):
    """Returns (tables, aliases). tables: {(file, path): [(condition, rows)]}, rows = ordered list of
    dicts {name, type, required}. aliases: {(file, path): (file, path, except_set)}."""
    tables, aliases = {}, {}
    lines = open(path, encoding="utf-8").read().splitlines()
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i].strip())
        i += 1
        if not m:
            continue
        file, opath, rest = m.group(1), m.group(2), m.group(3).split()
        if rest and rest[0] == "same-as":
            if len(rest) < 3:
                raise DocError(f"line {i}: same-as needs FILE PATH")
            excl = set(rest[4].split(",")) if len(rest) >= 5 and rest[3] == "except" else set()
            aliases[(file, opath)] = (rest[1], rest[2], excl)
            continue
        cond = None
        if rest:
            cm = re.fullmatch(r"parent\.(\w+)=(\S+)", rest[1]) if rest[0] == "if" and len(rest) == 2 else None
            if not cm:
                raise DocError(f"line {i}: cannot read marker options {' '.join(rest)!r}")
            cond = (cm.group(1), cm.group(2))
        # Skip blank lines to the table header.
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i >= len(lines) or not lines[i].lstrip().startswith("|"):
            raise DocError(f"line {i + 1}: schema marker for {file} {opath} is not followed by a table")
        header = [c.strip().lower() for c in lines[i].strip().strip("|").split("|")]
        i += 2  # header and separator
        rows = []
        while i < len(lines) and lines[i].lstrip().startswith("|"):
            rm = ROW.match(lines[i].strip())
            if not rm:
                raise DocError(f"line {i + 1}: table row without a backticked field name: {lines[i]!r}")
            cells = [c.strip() for c in rm.group(2).split("|")]
            cols = dict(zip(header[1:], cells))
            row = {"name": rm.group(1), "line": i + 1}
            if "type" in cols:
                row["type"] = cols["type"]
                base = [t for t in row["type"].split("/") if t != "null"]
                if len(base) != 1 or base[0] not in TYPES:
                    raise DocError(f"line {i + 1}: unknown type {row['type']!r} (allowed: {sorted(TYPES)}, '/null')")
            if "required" in cols:
                row["required"] = cols["required"]
                if row["required"] not in REQUIRED:
                    raise DocError(f"line {i + 1}: unknown Required value {row['required']!r} (allowed: {sorted(REQUIRED)})")
            rows.append(row)
            i += 1
        if not rows:
            raise DocError(f"schema table for {file} {opath} has no rows")
        tables.setdefault((file, opath), []).append((cond, rows))
    if not tables:
        raise DocError("no schema tables found")
    return tables, aliases


class Checker:
    def __init__(self, tables, aliases, producer):
        self.tables, self.aliases, self.producer = tables, aliases, producer
        self.problems = []
        self.checked_fields = 0

    def lookup(self, file, path, parent):
        """Rows for the object at (file, path), following same-as aliases; None if undocumented."""
        excl = set()
        for _ in range(10):
            if (file, path) in self.tables or (file, path.rsplit(".", 1)[0] + ".*") in self.tables:
                break
            for (afile, apath), (tfile, tpath, aex) in self.aliases.items():
                if afile != file:
                    continue
                if path == apath:
                    file, path, excl = tfile, tpath, excl | aex
                    break
                for sep in (".", "["):
                    if path.startswith(apath + sep):
                        file, path = tfile, tpath + path[len(apath):]
                        break
                else:
                    continue
                break
            else:
                return None
        cands = self.tables.get((file, path))
        if not cands and "." in path:
            # An object documented only by its parent's `.*` table (every value of that object).
            cands = self.tables.get((file, path.rsplit(".", 1)[0] + ".*"))
        if not cands:
            return None
        for cond, rows in cands:
            if cond is None or (isinstance(parent, dict) and str(parent.get(cond[0])) == cond[1]):
                return [r for r in rows if r["name"] not in excl], (file, path)
        return None

    def type_ok(self, value, typ):
        alts = typ.split("/")
        if value is None:
            return "null" in alts or "any" in alts
        t = [a for a in alts if a != "null"][0]
        if t == "any":
            return True
        if t == "string" or t == "enum":
            return isinstance(value, str)
        if t == "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        if t == "number":
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if t == "boolean":
            return isinstance(value, bool)
        if t in ("object", "map"):
            return isinstance(value, dict)
        if t.startswith("array<"):
            if not isinstance(value, list):
                return False
            inner = t[6:-1]
            return all(self.type_ok(v, inner) for v in value)
        return False

    def check_object(self, file, path, obj, parent=None):
        found = self.lookup(file, path, parent)
        if found is None:
            self.problems.append(f"{file} {path}: object not documented (no schema table)")
            return
        rows, _ = found
        by_name = {r["name"]: r for r in rows}
        for key in obj:
            if key not in by_name:
                self.problems.append(f"{file} {path}: field '{key}' is produced but not documented")
        for r in rows:
            name, typ, req = r["name"], r.get("type", "any"), r.get("required", "always")
            child = name if path == "." else f"{path}.{name}"
            if name not in obj:
                if req == "always" or req == self.producer:
                    self.problems.append(f"{file} {child}: documented required field missing")
                continue
            if req in ("simulator", "live") and req != self.producer:
                self.problems.append(f"{file} {child}: documented as {req}-only but the {self.producer} wrote it")
            value = obj[name]
            self.checked_fields += 1
            if not self.type_ok(value, typ):
                self.problems.append(f"{file} {child}: type {type(value).__name__} ({json.dumps(value)[:60]}), "
                                     f"documented {typ}")
                continue
            base = [t for t in typ.split("/") if t != "null"][0]
            if base == "object" and isinstance(value, dict):
                self.check_object(file, child, value, obj)
            elif base == "map" and isinstance(value, dict):
                if self.lookup(file, child + ".*", obj) is not None:
                    for v in value.values():
                        if isinstance(v, dict):
                            self.check_object(file, child + ".*", v, value)
            elif base == "array<object>":
                for v in value:
                    self.check_object(file, child + "[]", v, obj)


def check_csv(tables, path, summary, problems):
    cols = tables.get(("requests.csv", "columns"))
    statuses = tables.get(("requests.csv", "status"))
    if not cols or not statuses:
        problems.append("doc: requests.csv columns/status tables missing")
        return 0
    cols, statuses = cols[0][1], {r["name"] for r in statuses[0][1]}
    names = [r["name"] for r in cols]
    types = {r["name"]: r.get("type", "string") for r in cols}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != names:
            extra = [h for h in (header or []) if h not in names]
            missing = [n for n in names if n not in (header or [])]
            problems.append(f"requests.csv: header {header} differs from the documented columns {names}"
                            f" (undocumented: {extra}, missing: {missing})")
            return 0
        counts = {}
        n = 0
        for lineno, row in enumerate(reader, start=2):
            n += 1
            if len(row) != len(names):
                problems.append(f"requests.csv line {lineno}: {len(row)} cells, expected {len(names)}")
                continue
            rec = dict(zip(names, row))
            for name in names:
                t, v = types[name], rec[name]
                if t == "integer" and not re.fullmatch(r"-?\d+", v):
                    problems.append(f"requests.csv line {lineno}: {name}={v!r} is not an integer")
                if t == "enum" and v not in statuses:
                    problems.append(f"requests.csv line {lineno}: {name}={v!r} not a documented value {sorted(statuses)}")
                if name.endswith("_ns") and re.fullmatch(r"-?\d+", v) and int(v) < -1:
                    problems.append(f"requests.csv line {lineno}: {name}={v} below -1")
            if len(problems) > 20:
                return n
            key = (rec.get("scenario"), rec.get("stage"))
            counts[key] = counts.get(key, 0) + 1
    if n == 0:
        problems.append("requests.csv: no rows")
    if summary is not None:
        for si, sc in enumerate(summary.get("scenarios", [])):
            for k, st in enumerate(sc.get("stages", [])):
                want = st.get("metrics", {}).get("requests")
                # Rejections beyond the kept sample are counted, not written (docs: stage `rejections`).
                if isinstance(want, int):
                    want -= (st.get("rejections") or {}).get("records_dropped", 0)
                got = counts.get((str(si), str(k)), 0)
                if want != got:
                    problems.append(f"requests.csv: scenario {si} stage {k} has {got} rows, summary says {want} requests")
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("doc")
    ap.add_argument("--producer", default="simulator", choices=["simulator", "live"])
    ap.add_argument("--summary")
    ap.add_argument("--requests")
    ap.add_argument("--sweep")
    a = ap.parse_args()
    try:
        tables, aliases = parse_doc(a.doc)
    except DocError as e:
        print(f"{a.doc}: {e}", file=sys.stderr)
        return 2
    chk = Checker(tables, aliases, a.producer)
    summary = None
    if a.summary:
        summary = json.load(open(a.summary, encoding="utf-8"))
        chk.check_object("summary.json", ".", summary)
        if summary.get("producer") != a.producer:
            chk.problems.append(f"summary.json: producer {summary.get('producer')!r}, expected {a.producer!r}")
        if not summary.get("scenarios") or not summary["scenarios"][0].get("stages"):
            chk.problems.append("summary.json: no scenario with stages to check")
    rows = 0
    if a.requests:
        rows = check_csv(tables, a.requests, summary, chk.problems)
    if a.sweep:
        sweep = json.load(open(a.sweep, encoding="utf-8"))
        chk.check_object("sweep.json", ".", sweep)
        if not sweep.get("ranked") and not sweep.get("failing_slo"):
            chk.problems.append("sweep.json: no points to check")
    for p in chk.problems[:50]:
        print("schema: " + p, file=sys.stderr)
    if chk.problems:
        print(f"output schema check FAILED: {len(chk.problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"output schema check ok: {len(tables)} documented objects, {chk.checked_fields} JSON fields and "
          f"{rows} CSV rows checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
