#!/usr/bin/env python3
# Regenerates the seed corpus of fuzz_cdb (layout documented at the top of fuzz_cdb.c):
#   byte0 = CDB length selector (bits 1..0) + device flags, byte1 = iovec layout, CDB, data-out.
import os
import struct
import sys

THIN, RO, WCE, SSD = 0x04, 0x08, 0x10, 0x20
L6, L10, L12, L16 = 0, 1, 2, 3


def seed(sel, layout, cdb, data=b""):
    want = {L6: 6, L10: 10, L12: 12, L16: 16}[sel & 3]
    assert len(cdb) == want, (cdb, want)
    return bytes([sel, layout]) + bytes(cdb) + bytes(data)


def caching(wce):
    return bytes([0x08, 0x12, 0x04 if wce else 0]) + bytes(17)


seeds = {
    "inquiry_std": seed(L6 | THIN | WCE, 0x43, [0x12, 0, 0, 0, 0x60, 0]),
    "inquiry_trunc5": seed(L6, 0x21, [0x12, 0, 0, 0, 5, 0]),
    "vpd_00": seed(L6 | THIN, 0x22, [0x12, 1, 0x00, 0, 0xff, 0]),
    "vpd_83": seed(L6 | THIN, 0x85, [0x12, 1, 0x83, 0, 0xff, 0]),
    "vpd_b0": seed(L6 | THIN | SSD, 0x34, [0x12, 1, 0xb0, 0, 0x40, 0]),
    "vpd_b2": seed(L6 | THIN, 0x12, [0x12, 1, 0xb2, 0, 0x08, 0]),
    "mode_sense6_all": seed(L6 | WCE | RO, 0x43, [0x1a, 0, 0x3f, 0, 0xff, 0]),
    "mode_sense10_llbaa": seed(L10 | 0x80, 0x53, [0x5a, 0x10, 0x08, 0, 0, 0, 0, 0, 0xff, 0]),
    "mode_select6_wce": seed(L6 | WCE, 0x03, [0x15, 0x10, 0, 0, 24, 0], bytes(4) + caching(False)),
    "mode_select10_bd": seed(L10, 0x04, [0x55, 0x10, 0, 0, 0, 0, 0, 0, 36, 0],
                             bytes([0, 0, 0, 0, 0, 0, 0, 8]) + bytes([0, 0, 0, 0, 0, 0, 2, 0]) +
                             caching(True)),
    "read10": seed(L10, 0x02, [0x28, 0, 0, 0, 0, 0x10, 0, 0, 8, 0]),
    "read6_256": seed(L6, 0x01, [0x08, 0, 0, 0, 0, 0]),
    "read12": seed(L12 | 0x40, 0x01, [0xa8, 0, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0]),
    "write16_fua": seed(L16, 0x03, [0x8a, 0x08] + list(struct.pack(">QI", 4095, 1)) + [0, 0],
                        bytes(512)),
    "unmap": seed(L10 | THIN, 0x05, [0x42, 0, 0, 0, 0, 0, 0, 0, 40, 0],
                  struct.pack(">HH4x", 38, 32) + struct.pack(">QI4x", 0, 8) +
                  struct.pack(">QI4x", 100, 16)),
    "write_same16_unmap_ndob": seed(L16 | THIN, 0x01,
                                    [0x93, 0x09] + list(struct.pack(">QI", 8, 16)) + [0, 0]),
    "write_same10": seed(L10, 0x02, [0x41, 0, 0, 0, 0, 8, 0, 0, 4, 0], bytes(512)),
    "caw": seed(L16, 0x04, [0x89, 0] + list(struct.pack(">Q", 7)) + [0, 0, 0, 1, 0, 0],
                bytes(1024)),
    "read_capacity16": seed(L16 | THIN | 0x80, 0x22, [0x9e, 0x10] + [0] * 8 + [0, 0, 0, 32, 0, 0]),
    "read_capacity10": seed(L10 | 0x80, 0x11, [0x25] + [0] * 9),
    "request_sense_desc": seed(L6, 0x21, [0x03, 1, 0, 0, 0xfc, 0]),
    "sync16": seed(L16, 0x00, [0x91, 0x02] + [0] * 14),
    "rsoc_all_rctd": seed(L12 | THIN, 0xf3, [0xa3, 0x0c, 0x80, 0, 0, 0, 0, 0, 0x04, 0, 0, 0]),
    "rsoc_one_sa": seed(L12, 0x42, [0xa3, 0x0c, 0x82, 0x9e, 0, 0x10, 0, 0, 0, 0x40, 0, 0]),
    "rsoc_one": seed(L12 | THIN, 0x21, [0xa3, 0x0c, 0x01, 0x42, 0, 0, 0, 0, 0, 0x0c, 0, 0]),
    "read_defect10": seed(L10, 0x11, [0x37, 0, 0x1d, 0, 0, 0, 0, 0, 0x20, 0]),
    "read_defect12": seed(L12, 0x11, [0xb7, 0x13, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0]),
    "prefetch10": seed(L10, 0x00, [0x34, 0x02, 0, 0, 0x0f, 0xf0, 0, 0, 0x10, 0]),
    "prefetch16": seed(L16 | 0x80, 0x00, [0x90, 0] + list(struct.pack(">QI", 1 << 39, 0)) + [0, 0]),
    "verify12": seed(L12, 0x02, [0xaf, 0x02, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0], bytes(1024)),
    "write_verify12": seed(L12, 0x02, [0xae, 0x02, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0], bytes(512)),
    "get_lba_status": seed(L16 | THIN, 0x32, [0x9e, 0x12] + list(struct.pack(">QI", 100, 40)) +
                           [0, 0]),
    "verify16_bytchk": seed(L16, 0x02, [0x8f, 0x02] + list(struct.pack(">QI", 0, 2)) + [0, 0],
                            bytes(1024)),
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "fuzz_cdb")
os.makedirs(out, exist_ok=True)
for name, blob in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(blob)
print(f"wrote {len(seeds)} seeds to {out}")
