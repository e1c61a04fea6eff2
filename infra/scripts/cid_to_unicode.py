#!/usr/bin/env python3
"""Derives shared/documents/data/cid_to_unicode.bin.gz: for the Adobe character
collections GB1 (simplified Chinese), CNS1 (traditional Chinese), Japan1 and
Korea1, the Unicode character of every CID, as PDF readers use it for CID fonts
embedded without a ToUnicode map (CJK LaTeX résumés often are).

Source: the CID -> Unicode tables shipped in the PyPI wheel pdfminer.six
20231228 (MIT; derived from Adobe's cmap-resources, BSD-3-Clause), downloaded
by pip and checked against its pinned SHA-256.

Format (gzip of): for each collection, its name as one length byte and ASCII,
then the number of CIDs N as u32 little-endian, then N u16 little-endian code
points (0 = none), CID 0 first.

usage: cid_to_unicode.py OUT_FILE
"""
import gzip
import hashlib
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "pdfminer.six==20231228"
WHEEL_SHA256 = "e8d3c3310e6fbc1fe414090123ab01351634b4ecb021232206c4c9a8ca3e3b8f"
COLLECTIONS = ["GB1", "CNS1", "Japan1", "Korea1"]


def main() -> int:
    out = Path(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, WHEEL], check=True)
        wheel = next(Path(tmp).glob("pdfminer.six-*.whl"))
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != WHEEL_SHA256:
            print(f"{wheel.name}: sha256 {digest}, expected {WHEEL_SHA256}", file=sys.stderr)
            return 1
        blob = bytearray()
        with zipfile.ZipFile(wheel) as z:
            for name in COLLECTIONS:
                table = pickle.loads(gzip.decompress(z.read(f"pdfminer/cmap/to-unicode-Adobe-{name}.pickle.gz")))
                cids = table["CID2UNICHR_H"]
                n = max(cids) + 1
                values = [0] * n
                for cid, text in cids.items():
                    code = ord(text[0])
                    values[cid] = code if code <= 0xFFFF else 0
                blob += bytes([len(name)]) + name.encode() + struct.pack("<I", n) + struct.pack(f"<{n}H", *values)
    # mtime 0: the same bytes at every run.
    out.write_bytes(gzip.compress(bytes(blob), mtime=0))
    print(f"{out}: {out.stat().st_size} bytes, sha256 {hashlib.sha256(out.read_bytes()).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
