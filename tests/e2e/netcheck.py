#!/usr/bin/env python3
"""netcheck - raw HTTP, load and frame checks for tests/e2e/run-net (runs inside the test's
network namespace; talks to the VM's address only, every loop bounded in count and time).

  netcheck.py [--host 10.0.2.15] [--port 80] CHECK [ARGS]

  pipeline            two requests in one write: two responses, both 200
  head                HEAD /: 200, Content-Length, no body bytes
  connects N          N connections one after another, each GET / (5 s each): all get 200
  malformed           three malformed requests each get 400
  bigheader           a 64 KiB header line gets 431
  bigbody             GET with a Content-Length of 100 MB gets 413
  flood N SECS        N concurrent connections (all opened, then each sends GET /, then all
                      read): prints how many got 200; fails only if the limit of SECS is hit
                      in a way that leaves the checker itself stuck (never: it is bounded)
  vanish N            N clients that go away mid-request (close, reset, partial writes)
  garbage IFACE N     N bad frames (random bytes, bad checksums, bad lengths, fragments,
                      runts, ...) to the VM's MAC through raw socket IFACE (needs root)
  badcsum IFACE       TCP SYN, UDP datagram and ICMP echo, each first with a bad and then
                      with a good checksum, through raw socket IFACE: the bad ones must get no
                      answer (the VM drops them), the good ones their SYN-ACK, port
                      unreachable and echo reply (needs root)
  stats CORES         GET /stats: JSON with a per-core connection counter; fails unless every
                      one of CORES cores served at least one connection
  statsok             GET /stats answers 200 with valid JSON
  connserver SECS PORT  the server of tests/guest/net_connect.c on the namespace's address
                      (10.0.2.1), TCP and UDP on PORT, for at most SECS (or until SIGTERM):
                      "HELLO core n idle" -> "HI core n port"; "ECHO len" + len bytes -> the
                      bytes; if idle > 0, "LATE core n" after idle seconds; UDP datagrams are
                      echoed, except "BIG..." ones, answered with "GOT <length>". Prints what
                      it saw; fails on a reset or a protocol error

Exit status 0 = check passed; the one line printed says what was seen.
"""
import argparse, asyncio, json, os, random, re, resource, select, signal, socket, struct, sys
import threading, time

VM_MAC = bytes.fromhex("525400123456")
HOST_IP = "10.0.2.1"
TIMEOUT = 5.0


def parse_responses(buf, heads=()):
    """Complete responses in buf: list of (status, headers dict, body); stops at the first
    incomplete one. heads: indices of responses to HEAD requests (no body)."""
    out = []
    pos = 0
    while True:
        end = buf.find(b"\r\n\r\n", pos)
        if end < 0:
            break
        lines = buf[pos:end].decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
        if not m:
            break
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = 0 if len(out) in heads else int(hdrs.get("content-length", "0") or 0)
        if end + 4 + n > len(buf):
            break
        out.append((int(m.group(1)), hdrs, buf[end + 4:end + 4 + n]))
        pos = end + 4 + n
    return out, buf[pos:]


def exchange(host, port, data, want=1, heads=(), timeout=TIMEOUT, chunk=None):
    """Sends data (in chunks while reading, so a server that answers early and closes is
    seen), reads until `want` responses, EOF or timeout. Returns (responses, raw bytes, note)."""
    s = socket.create_connection((host, port), timeout=timeout)
    s.setblocking(False)
    deadline = time.monotonic() + timeout
    buf = b""
    sent = 0
    note = ""
    chunk = chunk or len(data) or 1
    try:
        while time.monotonic() < deadline:
            wl = [s] if sent < len(data) else []
            r, w, _ = select.select([s], wl, [], max(0.0, deadline - time.monotonic()))
            if w:
                try:
                    sent += s.send(data[sent:sent + chunk])
                except (BrokenPipeError, ConnectionResetError) as e:
                    note = type(e).__name__
                    sent = len(data)
            if r:
                try:
                    d = s.recv(65536)
                except ConnectionResetError:
                    note = "reset"
                    break
                if not d:
                    note = note or "closed"
                    break
                buf += d
                if len(parse_responses(buf, heads)[0]) >= want:
                    break
        else:
            note = note or "timeout"
    finally:
        s.close()
    return parse_responses(buf, heads)[0], buf, note


def req(path="/", method="GET", extra=""):
    return f"{method} {path} HTTP/1.1\r\nHost: 10.0.2.15\r\n{extra}\r\n".encode()


def check_pipeline(a):
    data = req("/") + req("/stats", extra="Connection: close\r\n")
    rs, raw, note = exchange(a.host, a.port, data, want=2)
    codes = [r[0] for r in rs]
    print(f"pipelined 2 requests in one write: {len(rs)} responses {codes}"
          + (f" ({note})" if len(rs) < 2 else ""))
    return len(rs) == 2 and codes == [200, 200]


def check_connects(a):
    """N connections one after another, each GET / with Connection: close, 5 s each."""
    n, bad = int(a.args[0]), []
    for i in range(n):
        try:
            rs, raw, note = exchange(a.host, a.port, req("/", extra="Connection: close\r\n"),
                                     timeout=5)
        except OSError as e:
            rs, note = [], f"connect: {e}"
        if not rs or rs[0][0] != 200:
            bad.append(note or "no 200")
    print(f"{n} connections one after another: {n - len(bad)} answered 200"
          + (f"; failed: {', '.join(sorted(set(bad)))}" if bad else ""))
    return not bad


def check_head(a):
    rs, raw, note = exchange(a.host, a.port, req("/", "HEAD", "Connection: close\r\n"),
                             heads=(0,), want=9)
    if not rs:
        print(f"HEAD /: no response ({note})")
        return False
    st, h, _ = rs[0]
    extra = raw[raw.find(b"\r\n\r\n") + 4:]
    ok = st == 200 and "content-length" in h and len(extra) == 0
    print(f"HEAD /: status {st}, Content-Length {h.get('content-length')}, "
          f"{len(extra)} bytes after the headers")
    return ok


def check_malformed(a):
    cases = [b"GET / HTTP/1.1\r\nHost: 10.0.2.15\r\nno colon in this field\r\n\r\n",
             b"GET\r\n\r\n",
             b"\x00\x01\x02\xff garbage \x7f\r\n\r\n"]
    got = []
    for c in cases:
        rs, raw, note = exchange(a.host, a.port, c)
        got.append(rs[0][0] if rs else note)
    print(f"malformed requests: {got} (want 400 each)")
    return got == [400] * len(cases)


def check_bigheader(a):
    data = req("/", extra="X-Big: " + "a" * 65536 + "\r\n")
    rs, raw, note = exchange(a.host, a.port, data, chunk=1024)
    st = rs[0][0] if rs else (raw[:40] or note)
    print(f"64 KiB header: {st} (want 431)")
    return st == 431


def check_bigbody(a):
    data = req("/", "GET", "Content-Length: 100000000\r\n") + b"x" * 4096
    rs, raw, note = exchange(a.host, a.port, data, chunk=1024)
    st = rs[0][0] if rs else (raw[:40] or note)
    print(f"100 MB body announced: {st} (want 413)")
    return st == 413


async def flood(a, n, secs):
    counts = {"connected": 0, "ok": 0, "refused": 0, "timeout": 0, "error": 0, "other": 0}
    conns = []
    other = {}
    deadline = time.monotonic() + secs

    async def opener():
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(a.host, a.port),
                                          max(0.1, min(10, deadline - time.monotonic())))
            counts["connected"] += 1
            conns.append((r, w))
        except asyncio.TimeoutError:
            counts["timeout"] += 1
        except ConnectionRefusedError:
            counts["refused"] += 1
        except OSError:
            counts["error"] += 1

    # Open all first, so that they are really concurrent (in waves, not to overflow the SYN
    # queue at once).
    for i in range(0, n, 200):
        await asyncio.gather(*(opener() for _ in range(min(200, n - i))))
    open_at_once = len(conns)

    async def use(r, w):
        try:
            w.write(req("/", extra="Connection: close\r\n"))
            await w.drain()
            data = await asyncio.wait_for(r.read(), max(0.1, deadline - time.monotonic()))
            rs, _ = parse_responses(data)
            st = rs[0][0] if rs else None
            counts["ok" if st == 200 else "other"] += 1
            if st != 200:
                other[st or "no response"] = other.get(st or "no response", 0) + 1
        except asyncio.TimeoutError:
            counts["timeout"] += 1
        except OSError:
            counts["error"] += 1
        finally:
            w.close()

    await asyncio.gather(*(use(r, w) for r, w in conns))
    counts["other"] = ", ".join(f"{v} {k}" for k, v in other.items()) or "0"
    return open_at_once, counts


def check_flood(a):
    n, secs = int(a.args[0]), float(a.args[1])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 256)), hard))
    t0 = time.monotonic()
    try:
        open_at_once, c = asyncio.run(asyncio.wait_for(flood(a, n, secs), secs + 10))
    except asyncio.TimeoutError:
        print(f"{n} concurrent connections: checker gave up after {secs + 10:.0f}s")
        return True  # bounded; whether the server survived is checked afterwards
    print(f"{n} concurrent connections: {open_at_once} open at once, {c['ok']} answered 200, "
          f"{c['refused']} refused, {c['timeout']} timed out, {c['error']} errors, "
          f"other answers: {c['other']}; {time.monotonic() - t0:.1f}s")
    return True


def check_vanish(a):
    n = int(a.args[0])
    kinds = {"close": 0, "partial": 0, "reset": 0, "noread": 0, "slow": 0}
    partial = [b"GET / HT", b"GET / HTTP/1.1\r\nHost: 10.0", b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc",
               b"G"]
    deadline = time.monotonic() + 60
    socks = []
    for i in range(n):
        if time.monotonic() > deadline:
            break
        kind = list(kinds)[i % len(kinds)]
        try:
            s = socket.create_connection((a.host, a.port), timeout=2)
        except OSError:
            continue
        try:
            if kind == "partial":
                s.sendall(random.choice(partial))
            elif kind == "reset":
                s.sendall(random.choice(partial))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif kind == "noread":
                s.sendall(req("/") * 3)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif kind == "slow":
                s.sendall(b"GET / HTTP/1.1\r\n")
                socks.append(s)  # closed below, after the others
                kinds[kind] += 1
                continue
        except OSError:
            pass
        kinds[kind] += 1
        s.close()
    time.sleep(0.5)
    for s in socks:
        s.close()
    print("clients vanishing mid-request: " + ", ".join(f"{v} {k}" for k, v in kinds.items()))
    return True


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip_hdr(proto, payload_len, src=HOST_IP, dst="10.0.2.15", good=True, ihl=5, tot=None,
           frag=0, ttl=64):
    tot = 20 + payload_len if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, 0, tot & 0xFFFF, random.getrandbits(16),
                    frag, ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    c = csum(h) if good else random.getrandbits(16)
    return h[:10] + struct.pack("!H", c) + h[12:]


def tcp_seg(sport, dport, flags, payload=b"", good=True, src=HOST_IP, dst="10.0.2.15"):
    h = struct.pack("!HHIIBBHHH", sport, dport, random.getrandbits(32), random.getrandbits(32),
                    5 << 4, flags, 65535, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(h) + len(payload))
    c = csum(pseudo + h + payload) if good else (csum(pseudo + h + payload) ^ 0x1234)
    return h[:16] + struct.pack("!H", c) + h[18:] + payload


def frames(n):
    src_mac = bytes([0x02]) + os.urandom(5)
    dst = lambda: VM_MAC if random.random() < 0.8 else b"\xff" * 6
    eth = lambda t: dst() + src_mac + struct.pack("!H", t)
    rnd = lambda lo, hi: os.urandom(random.randint(lo, hi))
    makers = [
        lambda: dst() + src_mac + rnd(0, 1500),                          # random ethertype+data
        lambda: rnd(1, 13),                                              # runt, no header
        lambda: eth(0x0800) + rnd(0, 60),                                # IPv4 garbage
        lambda: eth(0x0800) + ip_hdr(6, 40, good=False) + rnd(40, 40),   # bad IP checksum
        lambda: eth(0x0800) + ip_hdr(6, 20, tot=random.choice([0, 19, 21, 1500, 65535])) + rnd(20, 20),
        lambda: eth(0x0800) + ip_hdr(6, 20, ihl=random.choice([0, 1, 4, 15])) + rnd(20, 40),
        lambda: eth(0x0800) + ip_hdr(6, 20) + tcp_seg(random.randint(1024, 65535), 80, 0x02, good=False),
        lambda: (lambda p: eth(0x0800) + ip_hdr(6, len(p)) + p)(
            tcp_seg(random.randint(1024, 65535), 80, random.getrandbits(8), rnd(0, 200))),
        lambda: (lambda p: eth(0x0800) + ip_hdr(6, len(p)) + p)(
            tcp_seg(random.randint(1024, 65535), random.getrandbits(16), 0x02)),
        lambda: eth(0x0800) + ip_hdr(17, 28) + struct.pack("!HHHH", 1234, random.getrandbits(16), 28, 0xBEEF) + rnd(20, 20),
        lambda: eth(0x0800) + ip_hdr(1, 64) + struct.pack("!BBHHH", 8, 0, 0xDEAD, 1, 1) + rnd(56, 56),
        lambda: eth(0x0800) + ip_hdr(random.choice([6, 17, 1]), 64,
                                     frag=random.choice([0x2000, 0x2000 | random.getrandbits(13), random.getrandbits(13)])) + rnd(64, 64),
        lambda: eth(0x0800) + ip_hdr(random.getrandbits(8), 40, ttl=random.choice([0, 1])) + rnd(40, 40),
        lambda: eth(0x0806) + rnd(0, 60),                                # ARP garbage
        lambda: eth(0x0806) + struct.pack("!HHBBH", 1, 0x0800, random.choice([0, 6, 255]),
                                          random.choice([0, 4, 255]), random.choice([1, 2, 9]))
        + src_mac + socket.inet_aton("10.0.2.99") + b"\0" * 6 + socket.inet_aton("10.0.2.15"),
        lambda: eth(0x86DD) + rnd(0, 200),                               # IPv6 garbage
        lambda: eth(0x8100) + struct.pack("!HH", random.getrandbits(12), 0x0800) + rnd(20, 100),
    ]
    for _ in range(n):
        yield random.choice(makers)()


def check_garbage(a):
    iface, n = a.args[0], int(a.args[1])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    sent = failed = 0
    deadline = time.monotonic() + 20
    for i, f in enumerate(frames(n)):
        if time.monotonic() > deadline:
            break
        try:
            s.send(f)
            sent += 1
        except OSError:
            failed += 1
        if i % 100 == 99:
            time.sleep(0.01)  # let the VM drain its queue now and then
    s.close()
    print(f"bad frames to {iface}: {sent} sent, {failed} refused by the host kernel")
    return sent > 0


def icmp_echo(ident, seq, good=True):
    h = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"isle-csum" * 4
    c = csum(h) if good else csum(h) ^ 0x0F0F
    return h[:2] + struct.pack("!H", c) + h[4:]


def udp_dgram(sport, dport, payload, good=True, src=HOST_IP, dst="10.0.2.15"):
    h = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, 8 + len(payload))
    c = csum(pseudo + h + payload) or 0xFFFF
    if not good:
        c = c ^ 0x5A5A or 1
    return h[:6] + struct.pack("!H", c) + payload


def check_badcsum(a):
    """Frames with a bad TCP, UDP or ICMP checksum get no answer; the same with a good one do.
    The VM's answers to 10.0.2.1 come back through the same raw socket."""
    iface = a.args[0]
    with open(f"/sys/class/net/{iface}/address") as f:
        host_mac = bytes.fromhex(f.read().strip().replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))  # ETH_P_ALL
    s.bind((iface, 0x0003))
    eth = VM_MAC + host_mac + b"\x08\x00"
    vm_ip, host_ip = socket.inet_aton("10.0.2.15"), socket.inet_aton(HOST_IP)

    def answered(frame, match, wait):
        """Sends frame, then waits up to `wait` s for an IPv4 packet from the VM to us for
        which match(proto, l4 bytes) holds."""
        s.send(frame)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            r, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            f = s.recv(2048)
            if len(f) < 34 or f[12:14] != b"\x08\x00" or f[26:30] != vm_ip or f[30:34] != host_ip:
                continue
            ihl = (f[14] & 15) * 4
            if match(f[23], f[14 + ihl:]):
                return True
        return False

    results = {}
    base = random.randint(20000, 30000)
    for name, good in (("bad", False), ("good", True)):
        sport = base + (1 if good else 0)
        syn = tcp_seg(sport, 80, 0x02, good=good)
        results[f"tcp {name}"] = answered(eth + ip_hdr(6, len(syn)) + syn,
                                          lambda p, l4: p == 6 and struct.unpack("!H", l4[2:4])[0] == sport,
                                          2.0)
        dgram = udp_dgram(sport, 9, b"checksum test", good=good)
        results[f"udp {name}"] = answered(eth + ip_hdr(17, len(dgram)) + dgram,
                                          lambda p, l4: p == 1 and l4[0] == 3 and len(l4) >= 30 and
                                          struct.unpack("!H", l4[28:30])[0] == sport, 2.0)
        ping = icmp_echo(sport, 1, good=good)
        results[f"icmp {name}"] = answered(eth + ip_hdr(1, len(ping)) + ping,
                                           lambda p, l4: p == 1 and l4[0] == 0 and
                                           struct.unpack("!H", l4[4:6])[0] == sport, 2.0)
    s.close()
    print("answers: " + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in results.items())
          + " (want: bad no, good yes)")
    return all(results[f"{p} good"] and not results[f"{p} bad"] for p in ("tcp", "udp", "icmp"))


def check_connserver(a):
    secs, port = float(a.args[0]), int(a.args[1])
    deadline = time.monotonic() + secs
    lock = threading.Lock()
    seen = {"conns": 0, "cores": set(), "echoed": 0, "late": 0, "resets": 0, "udp": 0,
            "errors": []}
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def count(key, n=1):
        with lock:
            seen[key] += n

    def error(msg):
        with lock:
            seen["errors"].append(msg)

    def handle(c, addr):
        c.settimeout(30)
        f = c.makefile("rb")
        what = f"{addr[1]}"
        try:
            hello = f.readline(200).split()
            if len(hello) != 4 or hello[0] != b"HELLO":
                return error(f"{what}: bad HELLO {hello}")
            core, n, idle = int(hello[1]), int(hello[2]), min(float(hello[3]), 30)
            what = f"core {core} conn {n} (port {addr[1]})"
            with lock:
                seen["cores"].add(core)
            c.sendall(b"HI %d %d %d\n" % (core, n, addr[1]))
            echo = f.readline(200).split()
            if len(echo) != 2 or echo[0] != b"ECHO" or not 0 < int(echo[1]) <= 1 << 20:
                return error(f"{what}: bad ECHO {echo}")
            data = f.read(int(echo[1]))
            c.sendall(data)
            count("echoed")
            if idle > 0:
                time.sleep(idle)
                c.sendall(b"LATE %d %d\n" % (core, n))
                count("late")
            f.read()  # until the guest closes
        except ConnectionResetError:
            count("resets")
            error(f"{what}: reset")
        except (OSError, ValueError) as e:
            error(f"{what}: {type(e).__name__} {e}")
        finally:
            c.close()

    def udp_echo(u):
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                data, addr = u.recvfrom(65535)
            except socket.timeout:
                continue
            u.sendto(b"GOT %d" % len(data) if data.startswith(b"BIG") else data, addr)
            count("udp")

    t = socket.socket()
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((HOST_IP, port))
    t.listen(256)
    t.settimeout(0.2)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((HOST_IP, port))
    u.settimeout(0.2)
    threading.Thread(target=udp_echo, args=(u,), daemon=True).start()
    print("connserver: listening", flush=True)
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            c, addr = t.accept()
        except socket.timeout:
            continue
        count("conns")
        threading.Thread(target=handle, args=(c, addr), daemon=True).start()
    with lock:
        print(f"connserver: {seen['conns']} connections from cores {sorted(seen['cores'])}, "
              f"{seen['echoed']} echoed, {seen['late']} late replies sent, {seen['resets']} "
              f"resets, {seen['udp']} datagrams echoed"
              + (f"; errors: {seen['errors'][:4]}" if seen["errors"] else ""), flush=True)
        return not seen["errors"]


def per_core(obj, ncores):
    """Finds the per-core objects in /stats JSON and their connection counter: a list (or a
    dict keyed by core number) of ncores objects with a numeric key naming connections."""
    cands = []

    def walk(o):
        if isinstance(o, dict):
            vals = list(o.values())
            if vals and all(re.fullmatch(r"(core|cpu)?[-_]?\d+", str(k)) for k in o) and \
                    all(isinstance(v, dict) for v in vals):
                cands.append(vals)
            for v in vals:
                walk(v)
        elif isinstance(o, list):
            if o and all(isinstance(x, dict) for x in o):
                cands.append(o)
            for v in o:
                walk(v)

    walk(obj)
    for c in cands:
        if len(c) != ncores:
            continue
        for key in c[0]:
            if re.search(r"conn|accept", key, re.I) and all(isinstance(d.get(key), (int, float)) for d in c):
                return key, [d[key] for d in c]
    return None, None


def get_stats(a):
    rs, raw, note = exchange(a.host, a.port, req("/stats", extra="Connection: close\r\n"))
    if not rs:
        return None, f"GET /stats: no response ({note})"
    st, h, body = rs[0]
    if st != 200:
        return None, f"GET /stats: status {st}"
    try:
        return json.loads(body), ""
    except ValueError as e:
        return None, f"GET /stats: not JSON ({e}): {body[:80]!r}"


def check_stats(a):
    ncores = int(a.args[0])
    obj, err = get_stats(a)
    if obj is None:
        print(err)
        return False
    key, vals = per_core(obj, ncores)
    if key is None:
        print(f"/stats: no list of {ncores} per-core objects with a connection counter: "
              f"{json.dumps(obj)[:200]}")
        return False
    print(f"/stats per-core {key}: {vals}")
    return all(v > 0 for v in vals)


def check_statsok(a):
    """GET /stats answers with JSON, retrying for up to 30 s (see serving() in run-net)."""
    obj, err = None, ""
    for _ in range(6):
        try:
            obj, err = get_stats(a)
        except OSError as e:
            obj, err = None, f"GET /stats: {type(e).__name__}: {e}"
        if obj is not None:
            break
        time.sleep(1)
    print(err or f"GET /stats: 200, JSON ({len(json.dumps(obj))} bytes)")
    return obj is not None


def heap_of(obj):
    return [(c.get("heap_blocks"), c.get("heap_bytes")) for c in obj.get("cores", [])]


def open_of(obj):
    return [c.get("open") for c in obj.get("cores", [])]


def check_memsave(a):
    """Saves every core's heap use (from /stats) in the file a.args[0]."""
    obj, err = get_stats(a)
    if obj is None:
        print(err)
        return False
    with open(a.args[0], "w") as f:
        json.dump(heap_of(obj), f)
    print(f"per-core heap (blocks, bytes): {heap_of(obj)}")
    return True


def check_memsame(a):
    """Every core's heap use is back to what check_memsave saved (retrying for a while, since
    closing connections and remote frees take a moment)."""
    with open(a.args[0]) as f:
        want = [tuple(x) for x in json.load(f)]
    deadline = time.time() + float(a.args[1] if len(a.args) > 1 else 20)
    got = None
    obj = None
    while time.time() < deadline:
        try:
            obj, err = get_stats(a)
        except OSError as e:  # a slow answer while the server still winds connections down
            obj, err = None, str(e)
        if obj is not None:
            got = heap_of(obj)
            if got == want:
                print(f"per-core heap back to baseline: {got}")
                return True
        time.sleep(1)
    print(f"per-core heap (blocks, bytes) {got}, baseline {want}; open connections "
          f"{open_of(obj) if obj else '?'}")
    return False


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="10.0.2.15")
    p.add_argument("--port", type=int, default=80)
    p.add_argument("check")
    p.add_argument("args", nargs="*")
    a = p.parse_args()
    if a.host != "10.0.2.15" and not a.host.startswith("127."):
        sys.exit("netcheck: only 10.0.2.15 (in a private namespace) or loopback")
    fn = globals().get("check_" + a.check)
    if not fn:
        sys.exit(f"netcheck: unknown check {a.check}")
    try:
        ok = fn(a)
    except OSError as e:
        print(f"{a.check}: {type(e).__name__}: {e}")
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
