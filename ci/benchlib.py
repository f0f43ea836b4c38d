"""benchlib - what every isle benchmark shares: how a run is recorded and summarised.

A benchmark measures each configuration several times, interleaving the systems and
configurations run by run (so a slow minute of the shared host hits all of them alike), and
keeps every raw value. save() writes docs/bench/<name>.json:

    {"bench": name, "meta": {commit, dirty, date, qemu, accel, host_cpu, host_cpus, host_mem_gib,
     host_kernel, command}, "results": [...]}

and the README tables are generated from those files by ci/bench-report, never typed in.
summary() is the one way a set of values is reported: median, min, max and the number of runs.
"""
import json
import os
import platform
import re
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
BENCH_DIR = os.path.join(ROOT, "docs", "bench")


def _run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def accel():
    """The accelerator ci/qemu-run picks: kvm when /dev/kvm can be opened read-write."""
    return "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "tcg"


def meta(command):
    """Where and on what a run was made."""
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            cpu = m.group(1) if m else ""
    except OSError:
        pass
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            mem = int(re.search(r"MemTotal:\s*(\d+)", f.read()).group(1)) / (1 << 20)
    except (OSError, AttributeError):
        pass
    qemu = _run(["qemu-system-x86_64", "--version"]).splitlines()
    thp = ""
    try:  # transparent huge pages: QEMU asks for them, and each first touch of 2 MiB then costs
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            m = re.search(r"\[(\w+)\]", f.read())
            thp = m.group(1) if m else ""
    except OSError:
        pass
    return {
        "commit": _run(["git", "rev-parse", "HEAD"]),
        "dirty": bool(_run(["git", "status", "--porcelain", "--untracked-files=no"])),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "qemu": qemu[0] if qemu else "",
        "accel": accel(),
        "host_cpu": cpu,
        "host_cpus": os.cpu_count(),
        "host_mem_gib": round(mem, 1),
        "host_kernel": platform.release(),
        "host_thp": thp,
        "command": command,
    }


def summary(values):
    """Median, min, max and count of the values that are not None."""
    xs = [v for v in values if v is not None]
    if not xs:
        return {"median": None, "min": None, "max": None, "n": 0, "raw": list(values)}
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs),
            "raw": list(values)}


def fmt(s, scale=1.0, digits=1, unit=""):
    """'median (min-max)' of a summary, scaled; '-' when there is nothing."""
    if not s or s.get("median") is None:
        return "-"
    f = lambda v: f"{v * scale:.{digits}f}"
    return f"{f(s['median'])}{unit} ({f(s['min'])}-{f(s['max'])})"


def save(name, command, results, extra=None):
    os.makedirs(BENCH_DIR, exist_ok=True)
    doc = {"bench": name, "meta": meta(command), "results": results}
    if extra:
        doc.update(extra)
    path = os.path.join(BENCH_DIR, name + ".json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")
    return path


def load(name):
    with open(os.path.join(BENCH_DIR, name + ".json")) as f:
        return json.load(f)
