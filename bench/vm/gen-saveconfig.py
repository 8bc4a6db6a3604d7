#!/usr/bin/env python3
"""Generate a saveconfig.json with N LUNs for restore benchmarks.

    gen-saveconfig.py N [--plugin ramdisk|fileio] [--acls one|per-lun]
                        [--template targetcli-full.json] > out.json

N storage objects (1 MiB ramdisk, or sparse 1 MiB fileio files /tmp/bench-fileio/fN.img), one
iSCSI target with one TPG (portal 127.0.0.1:3260), N LUNs, and either one node ACL with N
mapped LUNs (--acls one, the default) or one node ACL per LUN mapping it as mapped LUN 0
(--acls per-lun). rtslib refuses mapped LUNs above 255, so targetctl can only handle N > 256
with per-lun.
Every object carries the full attribute/parameter sets that targetcli saved in the template
(tests/fixtures/saveconfig/targetcli-full.json), so a restore writes what a real one writes.
Deterministic: the same N gives the same file (WWNs are derived from the index).
"""
import argparse
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TEMPLATE = os.path.join(HERE, "..", "..", "tests", "fixtures", "saveconfig", "targetcli-full.json")
IQN = "iqn.2003-01.org.linux-iscsi.rtslib-c:bench"
INIT = "iqn.1994-05.com.example:bench-client"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--plugin", choices=("ramdisk", "fileio"), default="ramdisk")
    ap.add_argument("--acls", choices=("one", "per-lun"), default="one")
    ap.add_argument("--template", default=DEFAULT_TEMPLATE)
    a = ap.parse_args()
    tpl = json.load(open(a.template))
    so_tpl = next(s for s in tpl["storage_objects"] if s["plugin"] == a.plugin)
    tgt_tpl = next(t for t in tpl["targets"] if t["fabric"] == "iscsi" and t["tpgs"][0]["node_acls"])
    tpg_tpl = tgt_tpl["tpgs"][0]
    acl_tpl = tpg_tpl["node_acls"][0]

    sos, luns, mluns, acls = [], [], [], []
    for i in range(a.n):
        so = copy.deepcopy(so_tpl)
        so["name"] = "bench%d" % i
        so["wwn"] = "b0000000-0000-4000-8000-%012d" % i
        so["alua_tpgs"] = [g for g in so.get("alua_tpgs", []) if g["name"] == "default_tg_pt_gp"]
        if a.plugin == "ramdisk":
            so["size"] = 1 << 20
            so["nullio"] = False
        else:
            so["dev"] = "/tmp/bench-fileio/f%d.img" % i
            so["size"] = 1 << 20
        sos.append(so)
        luns.append({"alias": "lun%d" % i, "alua_tg_pt_gp_name": "default_tg_pt_gp", "index": i,
                     "storage_object": "/backstores/%s/bench%d" % (a.plugin, i)})
        mlun = {"alias": "mlun%d" % i, "index": i, "tpg_lun": i, "write_protect": False}
        if a.acls == "one":
            mluns.append(mlun)
        else:
            acl = copy.deepcopy(acl_tpl)
            acl["node_wwn"] = "%s%d" % (INIT, i)
            acl["mapped_luns"] = [dict(mlun, alias="mlun0", index=0)]
            acls.append(acl)

    if a.acls == "one":
        acl = copy.deepcopy(acl_tpl)
        acl["node_wwn"] = INIT
        acl["mapped_luns"] = mluns
        acls = [acl]
    tpg = copy.deepcopy(tpg_tpl)
    tpg["luns"] = luns
    tpg["node_acls"] = acls
    tpg["portals"] = [{"ip_address": "127.0.0.1", "iser": False, "offload": False, "port": 3260}]
    tpg["tag"] = 1
    target = {"fabric": "iscsi", "wwn": IQN, "tpgs": [tpg]}
    out = {"fabric_modules": [], "storage_objects": sos, "targets": [target]}
    print(json.dumps(out, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
