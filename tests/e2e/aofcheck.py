#!/usr/bin/env python3
"""aofcheck.py - the client side of tests/e2e/run-kv-aof (kvstore's append-only log).

    aofcheck.py write HOST STATE      write a known data set through 8 connections, save it
    aofcheck.py verify HOST STATE     read it all back, compare (values, TTLs, deleted keys)
    aofcheck.py more HOST STATE       change part of it (INCR, DEL, EXPIRE, overwrite), save
    aofcheck.py shutdown HOST         SHUTDOWN: kvstore writes everything and ends the VM
    aofcheck.py fault HOST STATE      (a disk that fills up or fails) write 4 KiB values
                                      through 8 connections until writes fail: every reply
                                      comes within 10 s, +OK or an error (-MISCONF); then reads
                                      of what was acknowledged work, writes keep failing with
                                      an error, INFO says aof_last_write_status:err; saves the
                                      acknowledged keys (verify checks them after a reboot)

Every reply is checked as it comes; exit status 0 only if every check passed. The connections
land on different cores, so keys owned by other cores go through the message rings. STATE is a
JSON file of what the store must hold: {key: [value, ttl_seconds or -1]} plus deleted keys.
"""
import json
import socket
import sys
import time

PORT = 6379
TIMEOUT = 30


def enc(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, host):
        t0 = time.monotonic()
        try:
            self.s = socket.create_connection((host, PORT), timeout=TIMEOUT)
        except OSError as e:
            raise OSError(f"connect to {host}:{PORT} failed after {time.monotonic() - t0:.1f} s: "
                          f"{type(e).__name__}: {e}") from None
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("connection closed")
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-"):
            return (t + rest).decode()
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                d = self.s.recv(65536)
                if not d:
                    raise EOFError("connection closed")
                self.buf += d
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return v.decode()
        if t == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise ValueError("bad reply %r" % line)

    def call(self, *args):
        self.s.sendall(enc(*args))
        return self.reply()

    def pipeline(self, cmds):
        self.s.sendall(b"".join(enc(*c) for c in cmds))
        return [self.reply() for _ in cmds]


failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        if len(failures) <= 10:
            print("    mismatch:", what)


def conns(host, n=8):
    return [Conn(host) for _ in range(n)]


def write(host, path):
    cs = conns(host)
    state = {"keys": {}, "deleted": []}
    for i in range(1200):
        k, v = "key:%d" % i, "value-%d-%s" % (i, "x" * (i % 50))
        check(cs[i % 8].call("SET", k, v) == "+OK", "SET " + k)
        state["keys"][k] = [v, -1]
    # pipelined MSET across shards, through one connection
    pairs = []
    for i in range(300):
        pairs += ["m:%d" % i, "mv%d" % i]
        state["keys"]["m:%d" % i] = ["mv%d" % i, -1]
    check(cs[0].call("MSET", *pairs) == "+OK", "MSET")
    for i in range(50):
        check(cs[i % 8].call("INCRBY", "counter", 3) == 3 * (i + 1), "INCRBY")
    state["keys"]["counter"] = ["150", -1]
    for i in range(20):
        k = "ttl:%d" % i
        check(cs[i % 8].call("SET", k, "t", "EX", 1000) == "+OK", "SET EX")
        state["keys"][k] = ["t", 1000]
    for i in range(0, 1200, 7):
        k = "key:%d" % i
        check(cs[i % 8].call("DEL", k) == 1, "DEL " + k)
        del state["keys"][k]
        state["deleted"].append(k)
    # a short-lived key that must be gone after the reboot
    check(cs[1].call("SET", "short", "s", "PX", 300) == "+OK", "SET PX")
    state["deleted"].append("short")
    for c in cs:
        c.s.close()
    json.dump(state, open(path, "w"))


def more(host, path):
    state = json.load(open(path))
    cs = conns(host)
    for i in range(1, 1200, 5):
        k = "key:%d" % i
        if k in state["keys"]:
            check(cs[i % 8].call("SET", k, "new-%d" % i) == "+OK", "SET " + k)
            state["keys"][k] = ["new-%d" % i, -1]
    check(cs[2].call("INCR", "counter") == 151, "INCR")
    state["keys"]["counter"] = ["151", -1]
    check(cs[3].call("EXPIRE", "m:5", 2000) == 1, "EXPIRE")
    state["keys"]["m:5"][1] = 2000
    check(cs[4].call("DEL", "m:6", "m:7", "m:8") == 3, "DEL several")
    for k in ("m:6", "m:7", "m:8"):
        del state["keys"][k]
        state["deleted"].append(k)
    for c in cs:
        c.s.close()
    json.dump(state, open(path, "w"))


def verify(host, path):
    state = json.load(open(path))
    cs = conns(host)
    keys = sorted(state["keys"])
    n = 0
    for j, k in enumerate(keys):
        v, ttl = state["keys"][k]
        c = cs[j % 8]
        got = c.call("GET", k)
        check(got == v, "GET %s = %r, want %r" % (k, got, v))
        t = c.call("TTL", k)
        if ttl < 0:
            check(t == -1, "TTL %s = %r, want -1" % (k, t))
        else:
            check(0 < t <= ttl, "TTL %s = %r, want 1..%d" % (k, t, ttl))
        n += 1
    for k in state["deleted"]:
        check(cs[0].call("EXISTS", k) == 0, "%s should be gone" % k)
    size = cs[0].call("DBSIZE")
    maybe = len(state.get("maybe", []))  # writes answered with an error may or may not be there
    check(len(keys) <= size <= len(keys) + maybe,
          "DBSIZE %r, want %d%s" % (size, len(keys), " to %d" % (len(keys) + maybe) if maybe else ""))
    for c in cs:
        c.s.close()
    print("    %d keys and %d deleted ones checked" % (n, len(state["deleted"])))


def fault(host, path):
    global TIMEOUT
    TIMEOUT = 10  # a write that fails must be answered, not left waiting
    state = {"keys": {}, "deleted": [], "maybe": []}
    try:
        fault_writes(host, state)
    finally:  # what was acknowledged is checked after the reboot, whatever happened here
        json.dump(state, open(path, "w"))


def fault_writes(host, state):
    cs = conns(host)
    errors, rounds, first_error = {}, 0, None
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and rounds < 2000:
        keys = ["f:%d:%d" % (rounds, j) for j in range(8)]
        vals = ["%s=%s" % (k, "v" * 4096) for k in keys]
        for c, k, v in zip(cs, keys, vals):  # one SET per connection at once: group commit
            c.s.sendall(enc("SET", k, v))
        bad = 0
        for c, k, v in zip(cs, keys, vals):
            r = c.reply()
            if r == "+OK":
                state["keys"][k] = [v, -1]
            elif isinstance(r, str) and r.startswith("-"):
                state["maybe"].append(k)  # refused: the outcome is unknown, never acknowledged
                errors[r.split(":")[0]] = errors.get(r.split(":")[0], 0) + 1
                bad += 1
            else:
                check(False, "SET %s answered %r" % (k, r))
        rounds += 1
        if bad and first_error is None:
            first_error = rounds
        if first_error is not None and rounds >= first_error + 10:
            break
    check(first_error is not None, "writes never failed in %d rounds" % rounds)
    # reads of acknowledged keys are served, through every connection
    acked = sorted(state["keys"])
    for j, k in enumerate(acked[-64:] + acked[:16]):
        got = cs[j % 8].call("GET", k)
        check(got == state["keys"][k][0], "GET %s after the fault: %r" % (k, (got or "")[:40]))
    for c in cs:
        check(c.call("PING") == "+PONG", "PING after the fault")
    refused = sum(1 for j, c in enumerate(cs) if str(c.call("SET", "after:%d" % j, "x")).startswith("-"))
    state["maybe"] += ["after:%d" % j for j in range(8)]
    check(refused >= 1, "no write refused after the fault")
    info = cs[0].call("INFO")
    check("aof_last_write_status:err" in info, "INFO has no aof_last_write_status:err")
    for c in cs:
        c.s.close()
    print("    %d rounds of 8 SETs of 4 KiB: %d acknowledged, then errors from round %s: %s; "
          "reads served after the fault, %d/8 further SETs refused" %
          (rounds, len(acked), first_error, ", ".join("%d x %s" % (n, e) for e, n in errors.items()), refused))


def shutdown(host):
    c = Conn(host)
    c.s.sendall(enc("SHUTDOWN"))
    try:
        r = c.reply()
        check(False, "SHUTDOWN answered %r instead of closing" % r)
    except (EOFError, ConnectionError, socket.timeout):
        pass


def main():
    cmd, host = sys.argv[1], sys.argv[2]
    deadline = time.time() + 60
    while True:  # the server may still be starting
        try:
            Conn(host).call("PING")
            break
        except OSError:
            if time.time() > deadline:
                print("    no answer from %s:%d" % (host, PORT))
                return 1
            time.sleep(0.5)
    actions = {"write": write, "more": more, "verify": verify, "fault": fault}
    try:
        if cmd in actions:
            actions[cmd](host, sys.argv[3])
        elif cmd == "shutdown":
            shutdown(host)
        else:
            print(__doc__)
            return 2
    except (OSError, EOFError) as e:
        print(f"    {type(e).__name__}: {e}")
        return 1
    if failures:
        print("    %d mismatches" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
