#!/usr/bin/env python3
"""attack - hostile clients against httpd, while ordinary clients must keep being served
(tests/e2e/run-attack; runs inside the test's network namespace, sends only to the VM's address
or, for raw frames, on the namespace's own tap; every loop bounded in count and time).

  attack.py [--host 10.0.2.15] [--iface tap0] ATTACK [ARGS]

  smallseg N SECS   N clients each ask for /64k.txt with a 1 KiB receive buffer, never read,
                    and send one-byte segments for SECS seconds: on a server that kept every
                    received segment in its own pool buffer, they empty the pool and every frame
                    of the core is dropped
  slowloris N SECS  N connections that send a request header one byte a second
  synflood N SECS   N TCP SYNs from made-up addresses beyond the gateway (raw frames on IFACE),
                    spread over SECS: they never complete, and each holds a handshake
  arpflood N SECS   N ARP requests for the VM's address from made-up neighbours (raw frames)
  udp68 N SECS      N UDP datagrams to the VM's port 68 (the DHCP client's)
  portreuse N       not an attack: N connections one after the other from the same local port,
                    each closed by the server first (which keeps the old one in TIME_WAIT), as
                    a busy client's reused ports do; each must be answered within PROBE_LIMIT

Every attack runs together with a prober: a fresh connection every 100 ms that fetches "/" and
must have its answer within PROBE_LIMIT (1 s). It prints one line: how many probes were answered
in time, the slowest, and what the attack did; the exit status is 0 when every probe was
answered in time.
"""
import argparse, errno, os, random, socket, struct, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netcheck  # noqa: E402  (frame builders: ip_hdr, tcp_seg, csum)

PROBE_LIMIT = 1.0
PROBE_EVERY = 0.1


class Prober(threading.Thread):
    """Fetches / on a fresh connection every PROBE_EVERY seconds until stopped."""

    def __init__(self, host, port):
        super().__init__(daemon=True)
        self.host, self.port = host, port
        self.times, self.failures = [], []
        self.stop = threading.Event()

    def one(self):
        t0 = time.monotonic()
        try:
            with socket.create_connection((self.host, self.port), timeout=PROBE_LIMIT * 3) as s:
                s.settimeout(PROBE_LIMIT * 3)
                s.sendall(b"GET / HTTP/1.1\r\nHost: isle\r\nConnection: close\r\n\r\n")
                buf = b""
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    buf += d
            if not buf.startswith(b"HTTP/1.1 200"):
                return None, buf[:40]
        except OSError as e:
            return None, str(e)
        return time.monotonic() - t0, None

    def run(self):
        while not self.stop.is_set():
            t, err = self.one()
            if t is None or t > PROBE_LIMIT:
                self.failures.append(err if t is None else f"{t:.2f}s")
            if t is not None:
                self.times.append(t)
            self.stop.wait(PROBE_EVERY)

    def report(self):
        n = len(self.times) + len([f for f in self.failures if not f.endswith("s")])
        slow = max(self.times) if self.times else 0
        ok = n - len(self.failures)
        return ok, n, slow


def attack_smallseg(a):
    n, secs = int(a.args[0]), float(a.args[1])
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(5)
        s.connect((a.host, a.port))
        s.sendall(b"GET /64k.txt HTTP/1.1\r\nHost: isle\r\n\r\n")
        s.setblocking(False)
        socks.append(s)
    sent = 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        for s in socks:
            try:
                sent += s.send(b"x")
            except BlockingIOError:
                pass
            except OSError:
                pass
        time.sleep(0.002)
    for s in socks:
        s.close()
    return f"{n} clients sent {sent} one-byte segments and read nothing"


def attack_slowloris(a):
    n, secs = int(a.args[0]), float(a.args[1])
    socks = []
    for _ in range(n):
        try:
            s = socket.create_connection((a.host, a.port), timeout=5)
            s.setblocking(False)
            socks.append(s)
        except OSError:
            break
    line = b"GET / HTTP/1.1\r\nHost: isle\r\nX-Slow: " + b"a" * 4096
    end, i = time.monotonic() + secs, 0
    while time.monotonic() < end and i < len(line):
        for s in socks:
            try:
                s.send(line[i:i + 1])
            except OSError:
                pass
        i += 1
        time.sleep(1.0)
    alive = 0
    for s in socks:
        try:
            s.send(b"a")
            alive += 1
        except OSError:
            pass
        s.close()
    return f"{len(socks)} slow connections, {alive} still open at the end"


def vm_mac(a):
    """The VM's MAC, from the namespace's neighbour table (a probe has talked to it)."""
    with open("/proc/net/arp") as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] == a.host and parts[3] != "00:00:00:00:00:00":
                return bytes.fromhex(parts[3].replace(":", ""))
    return netcheck.VM_MAC


def raw(a):
    r = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    r.bind((a.iface, 0))
    return r


def spoofed():
    while True:
        last = random.randrange(20, 250)
        if last not in (1, 15):
            return f"10.0.2.{last}"


def off_link():
    """A made-up address beyond the gateway (198.18.0.0/15, set aside for benchmarks): the VM's
    SYN-ACKs to it go to the gateway and die there, as on the internet."""
    return f"198.{random.randrange(18, 20)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def attack_synflood(a):
    n, secs = int(a.args[0]), float(a.args[1])
    r, mac = raw(a), vm_mac(a)
    me = bytes.fromhex(open(f"/sys/class/net/{a.iface}/address").read().strip().replace(":", ""))
    gap, t0 = secs / n, time.monotonic()
    for i in range(n):
        src = off_link()
        seg = netcheck.tcp_seg(random.randrange(1024, 65535), a.port, 0x02, src=src, dst=a.host)
        ip = netcheck.ip_hdr(6, len(seg), src=src, dst=a.host)
        r.send(mac + me + b"\x08\x00" + ip + seg)
        pause = t0 + (i + 1) * gap - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    return f"{n} SYNs from made-up addresses in {time.monotonic() - t0:.1f}s"


def attack_arpflood(a):
    n, secs = int(a.args[0]), float(a.args[1])
    r = raw(a)
    vm_ip = socket.inet_aton(a.host)
    gap, t0 = secs / n, time.monotonic()
    for i in range(n):
        mac = bytes([0x02, 0x00]) + os.urandom(4)
        src = socket.inet_aton(spoofed())
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + src + b"\x00" * 6 + vm_ip
        r.send(b"\xff" * 6 + mac + b"\x08\x06" + arp + b"\x00" * 18)
        pause = t0 + (i + 1) * gap - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    return f"{n} ARP requests from made-up neighbours in {time.monotonic() - t0:.1f}s"


def attack_udp68(a):
    n, secs = int(a.args[0]), float(a.args[1])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    gap, t0 = secs / n, time.monotonic()
    for i in range(n):
        try:
            s.sendto(os.urandom(300), (a.host, 68))
        except OSError:
            pass
        pause = t0 + (i + 1) * gap - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    return f"{n} datagrams to port 68 in {time.monotonic() - t0:.1f}s"


def attack_portreuse(a):
    n = int(a.args[0])
    port, slow, worst = random.randrange(40000, 41000), [], 0.0
    for i in range(n):
        took = None
        for _ in range(100):  # our side of the last connection may still be closing
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.settimeout(PROBE_LIMIT * 3)
            t0 = time.monotonic()
            try:
                s.bind(("", port))
                s.connect((a.host, a.port))
                break
            except OSError as e:
                s.close()
                if e.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
                    slow.append(f"#{i}: {e}")
                    s = None
                    break
                time.sleep(0.01)
        else:
            slow.append(f"#{i}: port {port} still busy on our side")
            s = None
        if s is None:
            continue
        try:
            s.sendall(b"GET / HTTP/1.1\r\nHost: isle\r\nConnection: close\r\n\r\n")
            while s.recv(65536):
                pass
            took = time.monotonic() - t0
        except OSError as e:
            slow.append(f"#{i}: {e}")
        s.close()
        if took is not None:
            worst = max(worst, took)
            if took > PROBE_LIMIT:
                slow.append(f"#{i}: {took:.2f}s")
    a.problems += slow
    return (f"{n} connections from port {port}, slowest {worst:.2f} s"
            + (f"; late: {', '.join(slow[:5])}" if slow else ""))


ATTACKS = {"smallseg": attack_smallseg, "slowloris": attack_slowloris,
           "synflood": attack_synflood, "arpflood": attack_arpflood, "udp68": attack_udp68,
           "portreuse": attack_portreuse}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="10.0.2.15")
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--iface", default="tap0")
    ap.add_argument("attack", choices=sorted(ATTACKS))
    ap.add_argument("args", nargs="*")
    a = ap.parse_args()
    a.problems = []
    random.seed(1)
    p = Prober(a.host, a.port)
    p.start()
    time.sleep(0.3)
    what = ATTACKS[a.attack](a)
    time.sleep(0.5)
    p.stop.set()
    p.join(10)
    ok, n, slow = p.report()
    print(f"{what}; meanwhile {ok} of {n} fresh requests answered within {PROBE_LIMIT:.0f} s "
          f"(slowest {slow:.2f} s){'' if ok == n else '; failures: ' + ', '.join(map(str, p.failures[:5]))}")
    return 0 if ok == n and n > 0 and not a.problems else 1


if __name__ == "__main__":
    sys.exit(main())
