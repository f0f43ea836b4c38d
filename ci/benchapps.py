"""benchapps - booting examples/netbench and examples/pingpong and reading what they report.

Shared by ci/bench-net-internal, ci/bench-msg and ci/bench-scale-tax. Both applications print
one line per core with its measuring window (start and end on the guest clock, which every core
shares), and marker lines when they start and stop measuring. Each function here boots one
(benchlib.run_guest), parses its output, checks that the per-core windows overlap
(benchlib.windows_overlap) and works out what the QEMU process cost the host between the
markers. It returns a run record: "ok" says whether the run counts, "why" says why not, and
"host" splits QEMU's CPU time between the markers into the busy vCPUs, the idle vCPUs and
QEMU's own threads.
"""
import os
import re
import statistics

import benchlib

OVERLAP = 0.9  # the common interval of the windows must cover this much of every core's window

NETBENCH = os.path.join(benchlib.BUILD, "netbench.img")
NB_GO, NB_STOP = r"^netbench: go", r"^netbench: stop"
NB_CORE = re.compile(r"netbench: core (\d+): (\d+) connections, (\d+) Mbit/s, (\d+) bytes in "
                     r"window (\d+)-(\d+) ns")

# Both print what the cores that did not take part did since boot (after the run).
IDLE = re.compile(r"idle cores (\d+)\.\.(\d+) since boot: (\d+) wake-ups "
                  r"\(at most (\d+) per core\), (\d+) messages handled, busy (\d+) us")

PINGPONG = os.path.join(benchlib.BUILD, "pingpong.img")
RTT_GO, RTT_STOP = r"^round trip between cores", r"^round trips: (\d+) in all"
STREAM_GO, STREAM_STOP = r"^one-way streaming for", r"^  total \d+ msgs/s"
RTT_ROW = re.compile(r"^[ \t]*(\d+)((?:[ \t]+(?:-|\d+))+)[ \t]*$", re.M)
PP_CORE = re.compile(r"core (\d+): received (\d+) messages, sent (\d+) to each, (\d+) msgs/s, "
                     r"window (\d+)-(\d+) ns")


def qemu_args(vcpus, mem, app, app_args):
    """ci/qemu-run's arguments: vcpus vCPUs, mem of RAM, image app, the application's words."""
    return ["-c", str(vcpus), "-m", mem, app, "--", "--"] + list(app_args)


def host_between(guest, go, stop, members):
    """What QEMU used between marker lines go and stop: {"wall_s", and CPU seconds "total",
    "busy" (the vCPUs of cores 0..members-1), "idle_vcpus" (the others), "qemu" (QEMU's own
    threads), "busy_min" (the least one busy vCPU got), "cpu_pct" (total in % of one host
    CPU), "busy_share" (busy_min over the interval: 1.0 when every busy vCPU had a host CPU
    all the time)}, or None if it could not be read."""
    m = guest["marks"]
    if go not in m or stop not in m:
        return None
    cpu = benchlib.cpu_between(m[go]["cpu"], m[stop]["cpu"], busy=range(members))
    wall = m[stop]["t"] - m[go]["t"]
    if not cpu or wall <= 0:
        return None
    out = {"wall_s": round(wall, 4), **{k: round(v, 4) for k, v in cpu.items()}}
    out["cpu_pct"] = 100 * cpu["total"] / wall
    out["busy_share"] = cpu["busy_min"] / wall
    return out


def per_unit(host, units_per_s=None, units=None):
    """Adds "cpu_per_unit" to a host_between record: host CPU seconds per unit of work, from the
    guest's rate (CPU share of the interval over units per second) or from a count of units."""
    if host and units_per_s:
        host["cpu_per_unit"] = host["total"] / host["wall_s"] / units_per_s
    elif host and units:
        host["cpu_per_unit"] = host["total"] / units
    return host


def windows(matches, members):
    """[(start, end)] of cores 0..members-1 from regex matches whose groups 5 and 6 are the
    window, and the overlap check: (windows, ok, worst)."""
    w = [(int(matches[c].group(5)), int(matches[c].group(6))) for c in range(members)]
    ok, worst = benchlib.windows_overlap(w, OVERLAP)
    return w, ok, worst


def idle_cores(out):
    """What the idle cores did since boot, from the application's line, or None."""
    m = IDLE.search(out)
    if not m:
        return None
    return {"cores": int(m.group(2)) - int(m.group(1)) + 1, "wakeups": int(m.group(3)),
            "most_wakeups": int(m.group(4)), "messages": int(m.group(5)),
            "busy_us": int(m.group(6))}


def not_overlapping(worst):
    return (f"windows do not overlap: the common interval covers only {worst:.0%} of some core's "
            f"window (need {OVERLAP:.0%})")


def netbench(vcpus, members, seconds=3, conns=4, mem="512M"):
    """One boot of netbench on cores 0..members-1 of a VM of vcpus vCPUs. The record has the
    per-core Mbit/s, windows, overlap, and host CPU per GB moved ("host"."cpu_per_unit")."""
    args = qemu_args(vcpus, mem, NETBENCH,
                     [f"cores={members}", f"seconds={seconds}", f"conns={conns}"])
    g = benchlib.run_guest(args, marks=[NB_GO, NB_STOP], limit=150 + 2 * seconds)
    per = {int(m.group(1)): m for m in NB_CORE.finditer(g["out"])}
    run = {"vcpus": vcpus, "members": members, "exit": g["rc"], "boot_wall_s": g["wall_s"],
           "ok": False, "why": None}
    if g["rc"] != 0 or sorted(per) != list(range(members)):
        run["why"] = f"exit status {g['rc']}, {len(per)} of {members} cores reported"
        run["log_tail"] = g["out"][-2000:]
        return run
    w, ok, worst = windows(per, members)
    run.update(per_core_mbps=[int(per[c].group(3)) for c in range(members)],
               bytes=[int(per[c].group(4)) for c in range(members)],
               conns=[int(per[c].group(2)) for c in range(members)],
               windows_ns=w, overlap=round(worst, 4))
    run["total_mbps"] = sum(run["per_core_mbps"])
    run["idle_cores"] = idle_cores(g["out"])
    run["host"] = per_unit(host_between(g, NB_GO, NB_STOP, members),
                           units_per_s=run["total_mbps"] / 8 / 1000)  # per GB
    if any(c != conns for c in run["conns"]):
        run["why"] = f"connections up per core: {run['conns']} of {conns}"
    elif not ok:
        run["why"] = not_overlapping(worst)
    else:
        run["ok"] = True
    return run


def parse_rtt(out, members):
    """({"a-b": mean round trip ns}, round trips in all) from pingpong's matrix, or (None,
    None)."""
    seg = out.split("round trip between cores", 1)
    trips = re.search(RTT_STOP, out, re.M)
    if len(seg) < 2 or not trips:
        return None, None
    pairs = {}
    for m in RTT_ROW.finditer(seg[1].split("round trips:", 1)[0]):
        a = int(m.group(1))
        for b, v in enumerate(m.group(2).split()):
            if v != "-" and a != b:
                pairs[f"{a}-{b}"] = int(v)
    if len(pairs) != members * (members - 1):
        return None, None
    return pairs, int(trips.group(1))


def pingpong(vcpus, members, rtt_ms=100, stream_ms=500, mem="256M"):
    """One boot of pingpong on cores 0..members-1 of a VM of vcpus vCPUs; returns (round-trip
    record, streaming record). Host CPU per unit: per round trip, and per message streamed."""
    args = qemu_args(vcpus, mem, PINGPONG,
                     [f"cores={members}", f"rtt_ms={rtt_ms}", f"stream_ms={stream_ms}"])
    marks = ([RTT_GO, RTT_STOP] if rtt_ms else []) + ([STREAM_GO, STREAM_STOP] if stream_ms else [])
    g = benchlib.run_guest(args, marks=marks,
                           limit=150 + (rtt_ms * members * members + stream_ms) // 1000)
    base = {"vcpus": vcpus, "members": members, "exit": g["rc"], "boot_wall_s": g["wall_s"],
            "ok": False, "why": None}
    base["idle_cores"] = idle_cores(g["out"])
    rtt, st = dict(base), dict(base)
    if rtt_ms:
        pairs, trips = parse_rtt(g["out"], members)
        if pairs is None:
            rtt["why"] = f"exit status {g['rc']}, no round-trip matrix"
            rtt["log_tail"] = g["out"][-2000:]
        else:
            rtt.update(ok=True, pairs_ns=pairs, trips=trips,
                       mean_ns=statistics.mean(pairs.values()))
            rtt["host"] = per_unit(host_between(g, RTT_GO, RTT_STOP, members), units=trips)
    if stream_ms:
        per = {int(m.group(1)): m for m in PP_CORE.finditer(g["out"])}
        if g["rc"] != 0 or sorted(per) != list(range(members)):
            st["why"] = f"exit status {g['rc']}, {len(per)} of {members} cores reported"
            st["log_tail"] = g["out"][-2000:]
        else:
            w, ok, worst = windows(per, members)
            st.update(per_core_msgs=[int(per[c].group(4)) for c in range(members)],
                      received=[int(per[c].group(2)) for c in range(members)],
                      sent_each=[int(per[c].group(3)) for c in range(members)],
                      windows_ns=w, overlap=round(worst, 4))
            st["total_msgs"] = sum(st["per_core_msgs"])
            st["host"] = per_unit(host_between(g, STREAM_GO, STREAM_STOP, members),
                                  units_per_s=st["total_msgs"])  # per message
            st["ok"] = ok
            st["why"] = None if ok else not_overlapping(worst)
    return rtt, st
