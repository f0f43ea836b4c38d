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


def write_doc(path, doc):
    """Writes a results document as the repository keeps them (indented JSON, a final newline)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    return path


def save(name, command, results, extra=None, folder=BENCH_DIR):
    """docs/bench/<name>.json (or folder/<name>.json): the meta record, results and extra."""
    doc = {"bench": name, "meta": meta(command), "results": results}
    doc.update(extra or {})
    return write_doc(os.path.join(folder, name + ".json"), doc)


def load(name):
    with open(os.path.join(BENCH_DIR, name + ".json")) as f:
        return json.load(f)


# ---- booting a guest and what its QEMU costs the host ------------------------------------------
# Used by ci/bench-net-internal, ci/bench-msg and ci/bench-scale-tax: the guest prints marker
# lines (when its measuring window starts and ends), and at each one the harness reads how much
# host CPU every thread of the QEMU process has used so far. QEMU is started with
# debug-threads=on, so its vCPU threads are named "CPU <n>/TCG" (or /KVM): the CPU time of the
# busy vCPUs, of the idle ones and of QEMU's own threads can be told apart.

QEMU_RUN = os.path.join(ROOT, "ci", "qemu-run")
QEMU_THREAD_NAMES = "-name isle,debug-threads=on"


def _ppids():
    """pid -> parent pid of every process on the host."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            out[int(d)] = int(s[s.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return out


def qemu_pid(ancestor):
    """The qemu-system-* process below process `ancestor` (ci/qemu-run runs it under timeout),
    or None."""
    ppids = _ppids()
    for pid in ppids:
        p = pid
        while p in ppids and p != ancestor and p > 1:
            p = ppids[p]
        if p != ancestor or pid == ancestor:
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().startswith("qemu-system"):
                    return pid
        except OSError:
            pass
    return None


def thread_cpu(pid):
    """{thread name: host CPU seconds so far} of every thread of process pid, from the
    scheduler's own accounting (/proc/PID/task/TID/schedstat, nanoseconds); threads with the
    same name are added up. {} if the process is gone."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        out[name] = out.get(name, 0.0) + ns / 1e9
    return out


def vcpu_of(thread_name):
    """The vCPU index of a QEMU thread named "CPU <n>/TCG" (or /KVM), else None."""
    m = re.match(r"CPU (\d+)/", thread_name)
    return int(m.group(1)) if m else None


def cpu_between(a, b, busy=()):
    """Host CPU seconds QEMU used between two thread_cpu() samples a and b: a dict with the
    whole process ("total"), the vCPUs listed in busy ("busy"), the other vCPUs ("idle_vcpus")
    and QEMU's own threads ("qemu"), and the least any one busy vCPU got ("busy_min": on a host
    with a CPU free for each, every busy vCPU gets the whole interval). None if a thread of a
    is missing from b (QEMU was ending)."""
    if not a or not b or any(name not in b for name in a):
        return None
    d = {"total": 0.0, "busy": 0.0, "idle_vcpus": 0.0, "qemu": 0.0}
    mins = []
    for name, t in b.items():
        used = max(0.0, t - a.get(name, 0.0))
        v = vcpu_of(name)
        d["total"] += used
        d["busy" if v in busy else "qemu" if v is None else "idle_vcpus"] += used
        if v in busy:
            mins.append(used)
    d["busy_min"] = min(mins) if mins else 0.0
    return d


def run_guest(qemu_args, marks=(), limit=120):
    """Boots a guest with ci/qemu-run QEMU_ARGS (its options, the image, then `--` and the
    command line), reading the output as it comes. The first line matching each regex in
    marks records when it came (seconds since the start, host clock) and the QEMU threads' CPU
    time at that moment (thread_cpu). Returns {"rc", "out", "wall_s", "cpu_s" (the whole run,
    boot included), "marks": {regex: {"t": seconds, "cpu": thread_cpu sample}}}."""
    cmd = [QEMU_RUN, "-t", str(limit), "-q", QEMU_THREAD_NAMES] + list(qemu_args)
    t0 = time.monotonic()
    r0 = os.times()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, cwd=ROOT)
    out, seen, qpid = [], {}, None
    for raw in p.stdout:
        line = raw.decode(errors="replace").replace("\r", "")
        out.append(line)
        for m in marks:
            if m not in seen and re.search(m, line):
                if qpid is None:
                    qpid = qemu_pid(p.pid)
                seen[m] = {"t": time.monotonic() - t0,
                           "cpu": thread_cpu(qpid) if qpid else {}}
    p.wait()
    r1 = os.times()
    cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
    return {"rc": p.returncode, "out": "".join(out), "wall_s": time.monotonic() - t0,
            "cpu_s": cpu, "marks": seen}


def windows_overlap(windows, need=0.9):
    """Whether per-core measuring windows [(start, end), ...] (one clock for all) ran at the same
    time: the common interval [max(start), min(end)] must cover at least `need` of every
    window. Returns (ok, worst), worst being the smallest fraction of a window that the common
    interval covers (1.0: all windows identical; 0 or less: some never met)."""
    if not windows:
        return False, 0.0
    common = min(e for _, e in windows) - max(s for s, _ in windows)
    worst = min(common / (e - s) if e > s else 0.0 for s, e in windows)
    return worst >= need, worst


def save_failed(name, command, results, extra=None):
    """Like save(), for a benchmark that has no valid result: the raw record goes to
    build/bench-failed/<name>.json, so the last good docs/bench/<name>.json (and the README
    made from it) stays."""
    return save(name, command, results, extra, os.path.join(BUILD, "bench-failed"))