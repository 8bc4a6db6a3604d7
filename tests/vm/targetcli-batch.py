#!/usr/bin/python3
"""Run targetcli commands from stdin in ONE targetcli process (one per line, '#' comments).

Each `targetcli <cmd>` costs 4-8 s of Python start-up and configfs scanning under qemu TCG;
this runs the same TargetCLI shell class and command parser as /usr/bin/targetcli does for a
command line argument, once for all lines. Stops at the first failing command (exit 1).
"""
import runpy
import sys

from configshell_fb import ExecutionError
from rtslib_fb import RTSLibError
from targetcli import UIRoot

TargetCLI = runpy.run_path("/usr/bin/targetcli", run_name="targetcli_batch")["TargetCLI"]


def main():
    shell = TargetCLI("~/.targetcli")
    root = UIRoot(shell, as_root=True)
    root.refresh()
    for line in sys.stdin:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        print("targetcli> %s" % line, flush=True)
        try:
            shell.run_cmdline(line)
        except (RTSLibError, ExecutionError, Exception) as e:  # noqa: B014 - report all, then fail
            print("targetcli-batch: '%s' failed: %s" % (line, e), file=sys.stderr)
            return 1
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
