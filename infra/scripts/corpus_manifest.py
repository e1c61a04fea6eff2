#!/usr/bin/env python3
"""Assembles tests/corpus/manifest.tsv from the collectors' part files and
assigns each document its split, by a rule fixed before any tuning:
a document is in the test split when the first 8 hex digits of the SHA-256 of
its id, read as an integer, are below 35 % of 2^32 (about a third of every
kind, stable whatever other documents are added or removed).

usage: corpus_manifest.py PARTS_DIR GOLD_DIR OUT_DIR
  copies the gold JSON of every résumé row to OUT_DIR/gold/ and writes
  OUT_DIR/manifest.tsv sorted by id; checks every row's file hash.
"""
import hashlib
import json
import os
import shutil
import sys

COLUMNS = ["id", "path", "kind", "format", "lang", "layout", "source_repo",
           "source_path", "commit", "license", "sha256", "split"]
KINDS = {"resume", "cover_letter", "job_description", "certificate",
         "transcript", "reference_letter", "other"}


def split_of(doc_id: str) -> str:
    h = int(hashlib.sha256(doc_id.encode()).hexdigest()[:8], 16)
    return "test" if h < 0.35 * 2**32 else "dev"


def main() -> int:
    parts, gold_dir, out = sys.argv[1:4]
    root = os.path.dirname(os.path.abspath(parts.rstrip("/")))
    rows = {}
    for name in sorted(os.listdir(parts)):
        if not name.endswith(".tsv"):
            continue
        with open(os.path.join(parts, name), encoding="utf-8") as f:
            lines = [l.rstrip("\n") for l in f if l.strip()]
        header = lines[0].split("\t")
        for line in lines[1:]:
            cells = dict(zip(header, line.split("\t")))
            if cells.get("id") == "id":
                continue
            doc_id = cells["id"]
            if doc_id in rows:
                print(f"duplicate id {doc_id} in {name}", file=sys.stderr)
                return 1
            if cells["kind"] not in KINDS:
                print(f"{doc_id}: unknown kind {cells['kind']}", file=sys.stderr)
                return 1
            path = os.path.join(root, cells["path"])
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            if digest != cells["sha256"]:
                print(f"{doc_id}: sha256 differs from the file", file=sys.stderr)
                return 1
            cells["split"] = split_of(doc_id)
            rows[doc_id] = cells
    os.makedirs(os.path.join(out, "gold"), exist_ok=True)
    for doc_id, cells in rows.items():
        if cells["kind"] == "resume":
            src = os.path.join(gold_dir, f"{doc_id}.json")
            with open(src, encoding="utf-8") as f:
                json.load(f)  # must parse
            shutil.copyfile(src, os.path.join(out, "gold", f"{doc_id}.json"))
    with open(os.path.join(out, "manifest.tsv"), "w", encoding="utf-8") as f:
        f.write("\t".join(COLUMNS) + "\n")
        for doc_id in sorted(rows):
            f.write("\t".join(rows[doc_id].get(c, "") for c in COLUMNS) + "\n")
    by_split = {}
    for cells in rows.values():
        by_split.setdefault((cells["kind"], cells["split"]), 0)
        by_split[(cells["kind"], cells["split"])] += 1
    print(f"{len(rows)} documents")
    for kind in sorted(KINDS):
        print(f"  {kind:<17} dev {by_split.get((kind, 'dev'), 0):>3}  test {by_split.get((kind, 'test'), 0):>3}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
