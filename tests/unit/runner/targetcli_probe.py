#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Drive Debian targetcli's own D-Bus client code against rts-runner (no configfs needed).

DBUS_SYSTEM_BUS_ADDRESS points at the test's private bus. We call, unmodified:
  - UIBackstores._user_backstores(): ObjectManager.GetManagedObjects + one DBusProxy per
    handler (what `targetcli ls /backstores` does to list user:<subtype> backstores);
  - UIUserBackedBackstore.ui_command_create(): the CheckConfig('(s)', "<subtype>/<cfg>")
    call and its error path; the storage object constructor is replaced by a stub that
    records the config, so nothing touches configfs;
  - the ConfigDesc lookup of ui_command_help("create").
Prints one line per observation; the C test compares them.
"""
import sys

from targetcli import ui_backstore
from configshell_fb import ExecutionError

created = []


class StubSO:
    def __init__(self, name, size=None, config=None, **kw):
        created.append(config)
        raise RuntimeError("stub: no configfs")


ui_backstore.UserBackedStorageObject = StubSO

found = {}
for name, iface, props in ui_backstore.UIBackstores._user_backstores(None):
    found[name] = (iface, props)
    desc = props.get("org.kernel.TCMUService1", {}).get("ConfigDesc", "No description.")
    print("handler %s desc=%s" % (name, desc))

if "ram" not in found:
    print("no ram handler")
    sys.exit(1)

bs = object.__new__(ui_backstore.UIUserBackedBackstore)
bs.handler = "ram"
bs.iface, bs.prop_dict = found["ram"]
for cfg in sys.argv[1:]:
    try:
        bs.ui_command_create("probe", "1M", cfg)
        print("create %s: succeeded?!" % cfg)
    except ExecutionError as e:
        print("create %s: %s" % (cfg, e))
print("stub saw %s" % ",".join(created))
