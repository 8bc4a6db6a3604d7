#!/usr/bin/python3
"""Data path checks of one SCSI disk through SG_IO (tests/vm/iscsi-lun.sh runs it per LUN).

  iscsi_io.py <device> <label> [--ours]

READ/WRITE 10/12/16 of every length 1..256 blocks at the start and at the end of the LUN, read
back and compared; 1 MiB at the start and the end; past the end (LBA OUT OF RANGE, whatever the
length); FUA and DPO; WRITE AND VERIFY; VERIFY with BYTCHK (with --ours: MISCOMPARE must carry
the offset of the first differing byte, SBC-4 5.30; kernel fileio does not compare). Prints
`ok`/`FAIL` lines, exits 1 when a check failed.
"""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import sgio  # noqa: E402

dev_path, label = sys.argv[1], sys.argv[2]
ours = "--ours" in sys.argv[3:]
fails = 0


def ok(msg):
    print("  ok   %s: %s" % (label, msg), flush=True)


def fail(msg):
    global fails
    fails += 1
    print("  FAIL %s: %s" % (label, msg), flush=True)


def expect(msg, r, key=None, asc=None):
    if key is None:
        good = r.status == 0 and not r.host_status
    else:
        good = r.status == 2 and r.key == key and r.asc == asc
    want = "GOOD" if key is None else "CHECK %x/%04x" % (key, asc)
    (ok if good else fail)("%s -> %s%s" % (msg, r.brief(), "" if good else " (want %s)" % want))
    return good


def expect_ours(msg, r, key=None, asc=None):
    """A check of what SBC-4 allows a device to refuse: must hold for ours; for the kernel's
    LUN it is reported (kernel fileio without a write-back cache refuses DPO and FUA with
    INVALID FIELD IN CDB, its Block Limits/caching page say so)."""
    if ours:
        return expect(msg, r, key, asc)
    print("  info %s: %s -> %s" % (label, msg, r.brief()), flush=True)
    return r.status == 0


def pattern(lba, n, bs, seed):
    out = bytearray()
    for b in range(n):
        head = ("%s lba %d seed %d " % (label, lba + b, seed)).encode()
        out += (head * (bs // len(head) + 1))[:bs]
    return bytes(out)


d = sgio.Dev(dev_path)
r = d.cmd(bytes([0x9e, 0x10]) + bytes(8) + sgio.be(32, 4) + bytes(2), data_in_len=32)
if not expect("READ CAPACITY(16)", r):
    sys.exit(1)
last = int.from_bytes(r.data[0:8], "big")
bs = int.from_bytes(r.data[8:12], "big")
r = d.cmd(bytes([0x12, 1, 0xb0, 0, 64, 0]), data_in_len=64)
mtl = int.from_bytes(r.data[8:12], "big") if r.status == 0 and len(r.data) >= 12 else 0
mib = (1 << 20) // bs
print("  %s: last LBA %d, block %d, MAXIMUM TRANSFER LENGTH %d" % (label, last, bs, mtl))
if mtl == 0 or mtl >= mib:
    ok("Block Limits MAXIMUM TRANSFER LENGTH %d allows 1 MiB (%d blocks)" % (mtl, mib))
else:
    fail("Block Limits MAXIMUM TRANSFER LENGTH %d < 1 MiB (%d blocks)" % (mtl, mib))

ops = [(0x2a, 0x28, sgio.rw10), (0xaa, 0xa8, sgio.rw12), (0x8a, 0x88, sgio.rw16)]

# 1..256 blocks at both ends, rotating through the 10/12/16-byte CDBs.
bad = []
for where in ("start", "end"):
    for n in range(1, 257):
        wop, rop, mk = ops[n % 3]
        lba = 0 if where == "start" else last + 1 - n
        data = pattern(lba, n, bs, n)
        w = d.cmd(mk(wop, lba, n), data_out=data)
        rd = d.cmd(mk(rop, lba, n), data_in_len=n * bs)
        if w.status or rd.status or rd.data != data:
            bad.append("%s n=%d write %s read %s%s" % (where, n, w.brief(), rd.brief(),
                                                      "" if rd.data == data else " data differs"))
if bad:
    fail("1..256 blocks at start and end: %d of 512 lengths wrong, first: %s" % (len(bad), bad[0]))
else:
    ok("WRITE+READ(10/12/16) of 1..256 blocks at LBA 0 and ending at the last LBA: 512 lengths read back")

# 1 MiB at both ends.
for lba in (0, last + 1 - mib):
    data = pattern(lba, mib, bs, 7)
    if expect("WRITE(16) 1 MiB at LBA %d" % lba, d.cmd(sgio.rw16(0x8a, lba, mib), data_out=data)):
        r = d.cmd(sgio.rw16(0x88, lba, mib), data_in_len=mib * bs)
        if expect("READ(16) 1 MiB at LBA %d" % lba, r):
            (ok if r.data == data else fail)("1 MiB at LBA %d reads back what was written" % lba)

# Past the end: LOGICAL BLOCK ADDRESS OUT OF RANGE for every length, including > 128 blocks.
expect("READ(10) 2 blocks at the last LBA", d.cmd(sgio.rw10(0x28, last, 2), data_in_len=2 * bs),
       5, 0x2100)
expect("READ(16) 1 block after the last LBA", d.cmd(sgio.rw16(0x88, last + 1, 1), data_in_len=bs),
       5, 0x2100)
expect("READ(16) 256 blocks crossing the end",
       d.cmd(sgio.rw16(0x88, last - 100, 256), data_in_len=256 * bs), 5, 0x2100)
expect("READ(16) 1 MiB crossing the end",
       d.cmd(sgio.rw16(0x88, last - 10, mib), data_in_len=mib * bs), 5, 0x2100)
expect("WRITE(16) 1 MiB crossing the end",
       d.cmd(sgio.rw16(0x8a, last - 10, mib), data_out=bytes(mib * bs)), 5, 0x2100)
expect("WRITE(10) 129 blocks crossing the end",
       d.cmd(sgio.rw10(0x2a, last - 100, 129), data_out=bytes(129 * bs)), 5, 0x2100)
expect("READ(16) at LBA 2^63", d.cmd(sgio.rw16(0x88, 1 << 63, 1), data_in_len=bs), 5, 0x2100)

# FUA and DPO.
lba = 4096
data = pattern(lba, 200, bs, 11)
expect_ours("WRITE(10) FUA+DPO 200 blocks", d.cmd(sgio.rw10(0x2a, lba, 200, 0x18), data_out=data))
r = d.cmd(sgio.rw10(0x28, lba, 200, 0x18), data_in_len=200 * bs)
if expect_ours("READ(10) FUA+DPO 200 blocks", r):
    (ok if r.data == data else fail)("FUA+DPO data reads back")
data = pattern(lba, mib, bs, 12)
expect_ours("WRITE(16) FUA 1 MiB", d.cmd(sgio.rw16(0x8a, lba, mib, 0x08), data_out=data))
r = d.cmd(sgio.rw16(0x88, lba, mib, 0x10), data_in_len=mib * bs)
if expect_ours("READ(16) DPO 1 MiB", r):
    (ok if r.data == data else fail)("FUA 1 MiB reads back")

# WRITE AND VERIFY, VERIFY.
data = pattern(lba, 256, bs, 13)
expect("WRITE AND VERIFY(10) BYTCHK=1 256 blocks",
       d.cmd(sgio.rw10(0x2e, lba, 256, 0x02), data_out=data))
r = d.cmd(sgio.rw10(0x28, lba, 256), data_in_len=256 * bs)
(ok if r.status == 0 and r.data == data else fail)("WRITE AND VERIFY data reads back")
expect("VERIFY(16) BYTCHK=0 1 MiB", d.cmd(sgio.rw16(0x8f, 0, mib)))
expect("VERIFY(10) BYTCHK=1 256 matching blocks", d.cmd(sgio.rw10(0x2f, lba, 256, 0x02), data_out=data))
wrong = bytearray(data)
wrong[130 * bs + 17] ^= 0xff
r = d.cmd(sgio.rw10(0x2f, lba, 256, 0x02), data_out=bytes(wrong))
if ours:
    if expect("VERIFY(10) BYTCHK=1 differing at byte %d" % (130 * bs + 17), r, 0xe, 0x1d00):
        info = sgio.sense_info(r.sense)
        (ok if info == 130 * bs + 17 else fail)("MISCOMPARE INFORMATION = %s (offset %d)" %
                                                (info, 130 * bs + 17))
else:
    print("  info %s: VERIFY(10) BYTCHK=1 with differing data -> %s" % (label, r.brief()))
expect("VERIFY(16) past the end", d.cmd(sgio.rw16(0x8f, last - 10, 300)), 5, 0x2100)

# COMPARE AND WRITE field checks (MAXIMUM COMPARE AND WRITE LENGTH is 1 for both).
caw_cdb = lambda lba, n: bytes([0x89, 0]) + sgio.be(lba, 8) + bytes([0, 0, 0, n, 0, 0])  # noqa: E731
blk = d.cmd(sgio.rw16(0x88, 9000, 1), data_in_len=bs).data
expect("COMPARE AND WRITE 1 block", d.cmd(caw_cdb(9000, 1), data_out=blk + blk))
expect_ours("COMPARE AND WRITE 2 blocks (above the maximum)",
            d.cmd(caw_cdb(9000, 2), data_out=(blk + blk) * 2), 5, 0x2400)
expect_ours("COMPARE AND WRITE 1 block with 4 blocks of Data-Out",
            d.cmd(caw_cdb(9000, 1), data_out=(blk + blk) * 2), 5, 0x2400)

d.close()
print("  %s: %d failed" % (label, fails))
sys.exit(1 if fails else 0)
