"""benchvm - a VM on a private network, and what it costs the host, for the network benchmarks
(ci/bench-net, ci/bench-kv).

VM starts a fresh network namespace (ci/netns, a multiqueue tap with one queue per vCPU, the
host side 10.0.2.1), boots a guest in it at 10.0.2.15 under a time limit, runs clients inside
the namespace, and stops both; nothing it starts sends traffic anywhere but to the VM.

Window measures one load window: the host CPU time of the whole QEMU process (its vCPU threads
apart from the rest: the main loop, which moves the tap's packets, and helpers), of the load
generator (the children this process waited for during the window: wrk, redis-benchmark) and
of the whole host (/proc/stat, so another tenant's load shows as "others"). All in seconds;
per request is the caller's division.

linux_diag() reads the Linux guest's state from its diagnostics server (ci/linux-guest/diag) and
diag_delta() turns two readings into what happened in between, per CPU.
"""
import itertools
import os
import re
import resource
import signal
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDR = "10.0.2.15"
TICK = os.sysconf("SC_CLK_TCK")
_serial = itertools.count()


def sh(*cmd, timeout=60, env=None):
    return subprocess.run(cmd, cwd=ROOT, timeout=timeout, capture_output=True, text=True, env=env)


class VM:
    """A guest booted by cmd (run inside the namespace) with a tap of `cores` queues."""

    def __init__(self, cmd, cores, log_path, env=None, limit=900):
        self.cmd, self.cores, self.log_path, self.env, self.limit = cmd, cores, log_path, env, limit
        self.ns = f"isle-bn-{os.getpid()}-{next(_serial)}"
        self.proc = None
        self.up = False

    def __enter__(self):
        r = sh("ci/netns", "up", self.ns, str(self.cores))
        if r.returncode:
            raise RuntimeError("ci/netns up: " + r.stderr.strip())
        self.up = True
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["timeout", "-k", "5", str(self.limit + 30), "ip", "netns", "exec", self.ns] + self.cmd,
            cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT)
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.up:  # kills everything in the namespace, the VM first among it
            sh("ci/netns", "down", self.ns, timeout=60)
            self.up = False
        if self.proc:
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
            self.log.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def run(self, *cmd, timeout=60):
        """cmd inside the namespace, killed after timeout seconds."""
        return sh("timeout", "-k", "2", str(timeout), "ip", "netns", "exec", self.ns, *cmd,
                  timeout=timeout + 10)

    def wait_ready(self, probe, wait=120):
        """Calls probe() every half second until it is true; returns the seconds it took."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < wait:
            if not self.alive():
                raise RuntimeError(f"VM exited with status {self.proc.returncode} "
                                   f"(log {self.log_path})")
            try:
                if probe():
                    return time.monotonic() - t0
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"not ready within {wait}s (log {self.log_path})")

    def qemu_pid(self):
        """The QEMU process (ci/qemu-run's child, somewhere below our Popen)."""
        for _ in range(20):
            pids = sh("ip", "netns", "pids", self.ns).stdout.split()
            for p in pids:
                try:
                    with open(f"/proc/{p}/comm") as f:
                        if f.read().strip().startswith("qemu-system"):
                            return int(p)
                except OSError:
                    pass
            time.sleep(0.1)
        raise RuntimeError("no QEMU process in " + self.ns)


def task_times(pid):
    """{thread name: CPU seconds} of every thread of pid (same names summed)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                s = f.read()
        except OSError:
            continue
        name = s[s.index("(") + 1:s.rindex(")")]  # "CPU 0/TCG" with -name debug-threads=on
        fields = s[s.rindex(")") + 2:].split()
        out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / TICK
    return out


def host_ticks():
    """(busy, all) CPU seconds of the whole host since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle, iowait
    return (sum(v[:8]) - idle) / TICK, sum(v[:8]) / TICK


class Window:
    """Host CPU used during one load window: QEMU (vCPU threads and the rest), the clients
    waited for meanwhile, the host as a whole and everyone else on it."""

    def __init__(self, qemu_pid):
        self.pid = qemu_pid

    def __enter__(self):
        self.t0 = time.monotonic()
        self.q0 = task_times(self.pid)
        self.h0 = host_ticks()
        self.r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        return self

    def __exit__(self, *exc):
        wall = time.monotonic() - self.t0
        q1 = task_times(self.pid)
        h1 = host_ticks()
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        d = {k: v - self.q0.get(k, 0) for k, v in q1.items()}
        vcpu = sum(v for k, v in d.items() if re.match(r"CPU \d+/", k))
        qemu = sum(d.values())
        client = (r1.ru_utime - self.r0.ru_utime) + (r1.ru_stime - self.r0.ru_stime)
        busy = h1[0] - self.h0[0]
        vcpus = sum(1 for k in d if re.match(r"CPU \d+/", k)) or 1
        self.result = {"wall_s": wall, "qemu_s": qemu, "qemu_vcpu_s": vcpu,
                       "vcpu_thread_pct": 100 * vcpu / (wall * vcpus),
                       "qemu_other_s": qemu - vcpu, "client_s": client, "host_busy_s": busy,
                       "host_cpus": os.cpu_count(),
                       "others_s": max(0.0, busy - qemu - client)}
        return False


def per_request(w, n):
    """Microseconds of host CPU per request (or operation) of window w with n of them."""
    if not n:
        return {}
    us = lambda k: 1e6 * w[k] / n
    return {"qemu_us": us("qemu_s"), "qemu_vcpu_us": us("qemu_vcpu_s"),
            "qemu_other_us": us("qemu_other_s"), "client_us": us("client_s"),
            "vcpu_thread_pct": w["vcpu_thread_pct"],
            "host_busy_pct": 100 * w["host_busy_s"] / (w["wall_s"] * w["host_cpus"]),
            "others_pct": 100 * w["others_s"] / (w["wall_s"] * w["host_cpus"])}


# ---- the Linux guest's diagnostics (ci/linux-guest/diag) ---------------------------------------

def linux_diag(vm):
    """{section: text} from the guest's diagnostics server, or {} if it does not answer."""
    try:
        r = vm.run("curl", "-s", "--max-time", "10", f"http://{ADDR}:8081/cgi-bin/diag", timeout=15)
    except subprocess.TimeoutExpired:
        return {}
    out, name = {}, None
    for line in r.stdout.splitlines():
        if line.startswith("== "):
            name = line[3:].strip()
            out[name] = []
        elif name:
            out[name].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def _table(text, ncpu):
    """Rows of /proc/interrupts or /proc/softirqs: {label: [per-CPU counts]}."""
    rows = {}
    for line in text.splitlines()[1:]:
        parts = line.split()
        if not parts:
            continue
        key = parts[0].rstrip(":")
        nums = []
        for p in parts[1:1 + ncpu]:
            if not p.isdigit():
                break
            nums.append(int(p))
        if len(nums) == ncpu:  # a numbered interrupt by its name (virtio0-input.0), else LOC...
            rows[parts[-1] if key.isdigit() else key] = nums
    return rows


def diag_numbers(d):
    """Counters of one diag reading, per CPU where they are per CPU."""
    if not d:
        return {}
    cpus = len(re.findall(r"^cpu\d+ ", d.get("stat", ""), re.M))
    irq = _table(d.get("interrupts", ""), cpus)
    soft = _table(d.get("softirqs", ""), cpus)
    stat = {}
    for line in d.get("stat", "").splitlines():
        p = line.split()
        if re.match(r"cpu\d+$", p[0]):
            v = [int(x) for x in p[1:]]
            stat[int(p[0][3:])] = {"busy": sum(v[:8]) - v[3] - v[4], "softirq": v[6],
                                   "all": sum(v[:8])}
    snet = [int(line.split()[0], 16) for line in d.get("softnet_stat", "").splitlines() if line]
    squeeze = [int(line.split()[2], 16) for line in d.get("softnet_stat", "").splitlines() if line]
    ksoft = {}
    for line in d.get("threads", "").splitlines():
        p = line.split()
        if len(p) >= 5 and p[1].startswith("ksoftirqd/"):
            ksoft[int(p[1].split("/")[1])] = int(p[2]) + int(p[3])
    tcp = {}
    lines = d.get("snmp", "").splitlines()
    for a, b in zip(lines[::2], lines[1::2]):
        for k, v in zip(a.split()[1:], b.split()[1:]):
            if v.lstrip("-").isdigit():
                tcp[k] = int(v)
    rx = {k: v for k, v in irq.items() if re.search(r"-input\.\d+$", k)}
    return {
        "cpus": cpus,
        "clocksource": (d.get("clocksource", "").splitlines() or [""])[0],
        "rx_irqs": [sum(v[c] for v in rx.values()) for c in range(cpus)],
        "timer_irqs": irq.get("LOC", [0] * cpus),
        "resched_ipis": irq.get("RES", [0] * cpus),
        "call_ipis": irq.get("CAL", [0] * cpus),
        "net_rx_softirqs": soft.get("NET_RX", [0] * cpus),
        "busy_ticks": [stat[c]["busy"] for c in sorted(stat)],
        "softirq_ticks": [stat[c]["softirq"] for c in sorted(stat)],
        "all_ticks": [stat[c]["all"] for c in sorted(stat)],
        "packets": snet,
        "time_squeeze": squeeze,
        "ksoftirqd_ticks": [ksoft.get(c, 0) for c in range(cpus)],
        "tcp": {k: tcp.get(k, 0) for k in ("RetransSegs", "ListenOverflows", "ListenDrops",
                                             "TCPTimeouts", "InSegs", "OutSegs")},
    }


def diag_delta(a, b):
    """What the counters of two readings (diag_numbers) say happened between them."""
    if not a or not b or a.get("cpus") != b.get("cpus"):
        return {}
    out = {"cpus": b["cpus"], "clocksource": b["clocksource"]}
    for k, v in b.items():
        if isinstance(v, list):
            out[k] = [y - x for x, y in zip(a[k], v)]
        elif isinstance(v, dict):
            out[k] = {n: v[n] - a[k].get(n, 0) for n in v}
    busy, every = out.get("busy_ticks", []), out.get("all_ticks", [])
    out["busy_pct"] = [round(100 * x / y, 1) if y else None for x, y in zip(busy, every)]
    return out


def stop_all(vms):
    for vm in vms:
        vm.stop()


def on_signals(cleanup):
    """Runs cleanup and exits on SIGINT, SIGTERM and SIGHUP."""
    def handler(s, _f):
        cleanup()
        raise SystemExit(128 + s)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)
