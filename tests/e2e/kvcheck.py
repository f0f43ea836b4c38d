#!/usr/bin/env python3
"""kvcheck - raw RESP checks of examples/kvstore for tests/e2e/run-kv (runs inside the test's
network namespace; talks to the VM's address only; every loop bounded in count and time).

  kvcheck.py [--host 10.0.2.15] [--port 6379] CHECK [ARGS]

  exact              every command and every error case, reply compared byte for byte with
                     what redis-server 7.0 answers (kvstore's own limits excepted)
  inline             telnet-style inline commands, quoting and escapes
  pipeline N [R]     N mixed requests (keys on every core) in one write: N replies, in order;
                     R rounds (default 1), each on a new connection
  verify NKEYS NCONN NKEYS known values written through NCONN connections and read back
                     (GET and MGET) through NCONN other ones; DEL and EXISTS of half of them
  protocol           malformed requests: Redis' error text, then the connection is closed
  oversize           a 2 MB bulk, an 8 MiB+ request, a huge count: refused with a clear
                     error and closed
  vanish N           N clients that go away mid-request (close, reset, partial bulks, a
                     pipeline of requests for other cores left unread)
  flood N SECS       N connections open at once, each SET + GET its own key
  info CORES         INFO: a section per core; with CORES >= 2 every core ran commands on its
                     shard and sent and served requests to and from other cores
  memsave FILE       FLUSHALL, then every core's heap_bytes (INFO) saved to FILE
  memsame FILE KB    FLUSHALL, then heap_bytes of every core within KB KiB of FILE's
  oom                (a VM with a small maxmemory) writes until -OOM, reads still work, DEL
                     and FLUSHALL make room again
  exhaust N MB       N connections each send MB MiB of a request that never ends, at once
                     (a VM with little memory): they get -OOM or are closed, the server lives
                     through it and serves normally afterwards
  mgetflood N SECS   (2 cores, little memory) big values on core 1's shard; N clients on core
                     0 pipeline MGETs of them and never read; for SECS seconds a client on each
                     core must get PONG and its values within 1 s, and core 1 must keep its
                     reserve for work for others (1/8 of its pages)
  flushhold NKEYS MS (1 core) NKEYS small keys, then FLUSHALL while another connection PINGs:
                     no PING may wait MS ms or more
  manycores CORES    (many cores, a few NIC queues) SET/GET of keys owned by the highest cores,
                     MGET/DEL/EXISTS over every core, DBSIZE, an INFO section per core

Exit status 0 = check passed; the one line printed says what was seen.
"""
import argparse, os, random, resource, select, socket, sys, time

TIMEOUT = 10.0
OOM = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"


def enc(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, a, timeout=TIMEOUT):
        self.s = socket.create_connection((a.host, a.port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        d = self.s.recv(1 << 20)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\r\n")
        line, self.buf = self.buf[:i + 2], self.buf[i + 2:]
        return line

    def reply(self):
        """One reply, as raw bytes."""
        line = self._line()
        t = line[:1]
        if t == b"$":
            n = int(line[1:-2])
            if n < 0:
                return line
            while len(self.buf) < n + 2:
                self._fill()
            body, self.buf = self.buf[:n + 2], self.buf[n + 2:]
            return line + body
        if t == b"*":
            n = int(line[1:-2])
            return line + b"".join(self.reply() for _ in range(max(n, 0)))
        return line

    def call(self, *args):
        self.send(enc(*args))
        return self.reply()

    def closed(self, secs=5.0):
        """True if the server closes the connection (EOF or reset) within secs."""
        end = time.monotonic() + secs
        while time.monotonic() < end:
            r, _, _ = select.select([self.s], [], [], max(0.0, end - time.monotonic()))
            if not r:
                break
            try:
                if not self.s.recv(65536):
                    return True
            except (ConnectionResetError, OSError):
                return True
        return False

    def close(self):
        self.s.close()


def value(raw):
    """The value of a bulk reply (None for nil)."""
    head, _, rest = raw.partition(b"\r\n")
    return None if head == b"$-1" else rest[:-2]


def bulk(s):
    s = s if isinstance(s, bytes) else s.encode()
    return b"$%d\r\n%s\r\n" % (len(s), s)


ARITY = "-ERR wrong number of arguments for '%s' command\r\n"
NOT_INT = b"-ERR value is not an integer or out of range\r\n"
SYNTAX = b"-ERR syntax error\r\n"
OVERFLOW = b"-ERR increment or decrement would overflow\r\n"


def exact_cases():
    c = []
    add = lambda args, want: c.append((args, want if isinstance(want, bytes) else want.encode()))
    add(["FLUSHALL"], "+OK\r\n")
    # unknown commands and arity
    add(["foo"], "-ERR unknown command 'foo', with args beginning with: \r\n")
    add(["foo", "a", "b"], "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n")
    add(["foo", "a" * 200], "-ERR unknown command 'foo', with args beginning with: '%s' \r\n" % ("a" * 128))
    add(["foo", "x" * 100, "y" * 100],
        "-ERR unknown command 'foo', with args beginning with: '%s' '%s' \r\n" % ("x" * 100, "y" * 25))
    add(["foo\r\nbar", "x\ny"], "-ERR unknown command 'foo  bar', with args beginning with: 'x y' \r\n")
    for args, name in ((["get"], "get"), (["GET", "a", "b"], "get"), (["set", "a"], "set"), (["del"], "del"),
                       (["exists"], "exists"), (["incr"], "incr"), (["decr", "a", "b"], "decr"),
                       (["incrby", "a"], "incrby"), (["decrby", "a"], "decrby"), (["mget"], "mget"),
                       (["mset", "a"], "mset"), (["mset", "a", "1", "b"], "mset"), (["expire", "a"], "expire"),
                       (["pexpire", "a"], "pexpire"), (["ttl"], "ttl"), (["pttl", "a", "b"], "pttl"),
                       (["persist"], "persist"), (["dbsize", "x"], "dbsize"), (["echo"], "echo"),
                       (["ping", "a", "b"], "ping"), (["select"], "select"), (["config"], "config"),
                       (["config", "get"], "config|get"), (["client"], "client"),
                       (["client", "setname", "a", "b"], "client|setname"),
                       (["command", "count", "x"], "command|count")):
        add(args, ARITY % name)
    add(["config", "foo"], "-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n")
    add(["client", "foo"], "-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n")
    add(["command", "foo"], "-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n")
    # strings
    add(["get", "a"], "$-1\r\n")
    add(["set", "a", "hello"], "+OK\r\n")
    add(["get", "a"], bulk("hello"))
    add(["set", "bin", b"a\x00b\r\nc"], "+OK\r\n")
    add(["get", "bin"], bulk(b"a\x00b\r\nc"))
    add(["set", "", ""], "+OK\r\n")
    add(["get", ""], "$0\r\n\r\n")
    add(["echo", "hi"], bulk("hi"))
    add(["ping"], "+PONG\r\n")
    add(["ping", "hello"], bulk("hello"))
    # SET options
    for opts in (["NX", "XX"], ["XX", "NX"], ["EX"], ["FOO"], ["EX", "10", "PX", "100"], ["EX", "10", "KEEPTTL"],
                 ["KEEPTTL", "EX", "10"], ["EX", "abc", "FOO"], ["FOO", "EX", "abc"]):
        add(["set", "k", "v"] + opts, SYNTAX)
    for bad in ("abc", "1.5", " 5", "+5", "05"):
        add(["set", "k", "v", "EX", bad], NOT_INT)
    for bad in (["EX", "0"], ["EX", "-5"], ["PX", "0"], ["EX", "9223372036854775807"],
                ["EX", "9223372036854775"], ["PX", "9223372036854775807"]):
        add(["set", "k", "v"] + bad, "-ERR invalid expire time in 'set' command\r\n")
    add(["set", "k", "v", "EXAT", "9223372036854775807"], "-ERR invalid expire time in 'set' command\r\n")
    add(["exists", "k"], ":0\r\n")
    add(["set", "k", "v", "EXAT", "100"], "+OK\r\n")  # a Unix time long past (q35 has an RTC)
    add(["exists", "k"], ":0\r\n")
    add(["set", "k", "v", "EX", "10", "EX", "100"], "+OK\r\n")
    add(["ttl", "k"], ":100\r\n")
    add(["set", "k", "v", "NX"], "$-1\r\n")
    add(["set", "k", "v2", "XX", "GET"], bulk("v"))
    add(["set", "k", "v3", "NX", "GET"], bulk("v2"))
    add(["set", "new", "v", "XX", "GET"], "$-1\r\n")
    add(["set", "new", "v", "NX", "GET"], "$-1\r\n")
    add(["get", "new"], bulk("v"))
    add(["set", "k", "w", "EX", "100"], "+OK\r\n")
    add(["set", "k", "w2", "KEEPTTL"], "+OK\r\n")
    add(["ttl", "k"], ":100\r\n")
    add(["set", "k", "w"], "+OK\r\n")
    add(["ttl", "k"], ":-1\r\n")
    add(["ttl", "nokey"], ":-2\r\n")
    add(["pttl", "nokey"], ":-2\r\n")
    # counters
    add(["set", "n", "10"], "+OK\r\n")
    add(["incr", "n"], ":11\r\n")
    add(["incrby", "n", "5"], ":16\r\n")
    add(["decrby", "n", "3"], ":13\r\n")
    add(["decr", "n"], ":12\r\n")
    add(["incrby", "n", "abc"], NOT_INT)
    add(["incrby", "n", "9223372036854775807"], OVERFLOW)
    add(["decrby", "n", "-9223372036854775808"], "-ERR decrement would overflow\r\n")
    add(["decrby", "n", "9223372036854775808"], NOT_INT)
    add(["set", "n", "9223372036854775807"], "+OK\r\n")
    add(["incr", "n"], OVERFLOW)
    add(["set", "n", "-9223372036854775808"], "+OK\r\n")
    add(["decr", "n"], OVERFLOW)
    for bad in ("abc", "05", " 5", "-0", "1e3", "12345678901234567890"):
        add(["set", "s", bad], "+OK\r\n")
        add(["incr", "s"], NOT_INT)
    add(["incr", "fresh"], ":1\r\n")
    add(["decr", "fresh2"], ":-1\r\n")
    # several keys (spread over the cores)
    add(["mset", "a", "1", "b", "2", "c", "3", "d", "4"], "+OK\r\n")
    add(["mget", "a", "b", "zz", "a", "d", "c"],
        b"*6\r\n" + bulk("1") + bulk("2") + b"$-1\r\n" + bulk("1") + bulk("4") + bulk("3"))
    add(["exists", "a", "b", "zz", "a"], ":3\r\n")
    add(["del", "a", "a", "zz", "b"], ":2\r\n")
    add(["mget", "a", "b", "c"], b"*3\r\n$-1\r\n$-1\r\n" + bulk("3"))
    add(["mset", "a", "1", "a", "2"], "+OK\r\n")
    add(["get", "a"], bulk("2"))
    # expiry
    add(["set", "e", "v"], "+OK\r\n")
    add(["expire", "e", "abc"], NOT_INT)
    add(["expire", "e", "100", "xx"], ":0\r\n")
    add(["expire", "e", "100", "nx"], ":1\r\n")
    add(["expire", "e", "100", "nx"], ":0\r\n")
    add(["expire", "e", "50", "gt"], ":0\r\n")
    add(["expire", "e", "200", "gt"], ":1\r\n")
    add(["expire", "e", "50", "lt"], ":1\r\n")
    add(["ttl", "e"], ":50\r\n")
    add(["expire", "e", "10", "nx", "xx"], "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n")
    add(["expire", "e", "10", "gt", "lt"], "-ERR GT and LT options at the same time are not compatible\r\n")
    add(["expire", "e", "10", "foo"], "-ERR Unsupported option foo\r\n")
    add(["expire", "e", "92233720368547758"], "-ERR invalid expire time in 'expire' command\r\n")
    add(["expire", "nokey", "10"], ":0\r\n")
    add(["persist", "e"], ":1\r\n")
    add(["persist", "e"], ":0\r\n")
    add(["expire", "e", "-1"], ":1\r\n")
    add(["exists", "e"], ":0\r\n")
    # the whole keyspace
    add(["dbsize"], ":11\r\n")
    add(["flushall", "x"], SYNTAX)
    add(["flushall", "async"], "+OK\r\n")
    add(["dbsize"], ":0\r\n")
    add(["flushdb"], "+OK\r\n")
    # connection commands
    add(["select", "0"], "+OK\r\n")
    add(["select", "1"], "-ERR DB index is out of range\r\n")
    add(["select", "abc"], NOT_INT)
    add(["client", "getname"], "$-1\r\n")
    add(["client", "setname", "abc"], "+OK\r\n")
    add(["client", "getname"], bulk("abc"))
    add(["client", "setname", "a b"], "-ERR Client names cannot contain spaces, newlines or special characters.\r\n")
    add(["config", "get", "save"], b"*2\r\n" + bulk("save") + bulk(""))
    add(["config", "get", "appendonly"], b"*2\r\n" + bulk("appendonly") + bulk("no"))
    add(["config", "get", "nonexist"], "*0\r\n")
    add(["command", "info", "get"], "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"
                                    "*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*0\r\n*0\r\n")
    add(["command", "docs", "nosuch"], "*0\r\n")
    add(["command", "info", "nosuch"], "*1\r\n$-1\r\n")
    add(["info", "nosuchsection"], "$0\r\n\r\n")
    return c


def check_exact(a):
    c = Conn(a)
    bad = []
    cases = exact_cases()
    for args, want in cases:
        got = c.call(*args)
        if got != want:
            bad.append((args, got, want))
    # QUIT answers +OK, then the server closes
    got = c.call("quit")
    closed = c.closed()
    c.close()
    if got != b"+OK\r\n" or not closed:
        bad.append((["quit"], got + (b" (closed)" if closed else b" (still open)"), b"+OK\r\n (closed)"))
    print(f"{len(cases) + 1} requests, every command and error case: {len(cases) + 1 - len(bad)} exact")
    for args, got, want in bad[:8]:
        print(f"  {[x[:40] for x in args]}: got {got[:120]!r}, want {want[:120]!r}")
    return not bad


def check_inline(a):
    cases = [(b"PING\r\n", b"+PONG\r\n"), (b"ping\n", b"+PONG\r\n"), (b"\r\n\r\nping\r\n", b"+PONG\r\n"),
             (b'set "a b" "c\\x41\\n"\r\nget "a b"\r\n', b"+OK\r\n$3\r\ncA\n\r\n"),
             (b"set 'a' 'it\\'s'\r\nget a\r\n", b"+OK\r\n$4\r\nit's\r\n"),
             (b"  echo   x  \r\n", b"$1\r\nx\r\n"), (b'echo ""\r\n', b"$0\r\n\r\n"),
             (b"*0\r\n*-1\r\nping\r\n", b"+PONG\r\n"), (b"ping\rxx\r\n", b"$2\r\nxx\r\n")]
    bad = []
    for data, want in cases:
        c = Conn(a)
        c.send(data)
        got = b""
        try:
            while len(got) < len(want):
                got += c.reply()
        except (EOFError, OSError) as e:
            got += f" ({e})".encode()
        c.close()
        if got != want:
            bad.append((data, got, want))
    print(f"{len(cases)} inline requests: {len(cases) - len(bad)} exact")
    for d, g, w in bad:
        print(f"  {d!r}: got {g!r}, want {w!r}")
    return not bad


def check_pipeline(a):
    # ROUNDS rounds, each on a new connection: the server's back-pressure (256 replies
    # outstanding) ends differently each time, depending on when the other cores answer
    n, rounds = int(a.args[0]), int(a.args[1]) if len(a.args) > 1 else 1
    reqs, want = [], []
    for i in range(n):
        k = f"p:{i // 5 % 97}"  # a group of 5 requests shares a key
        kind = i % 5
        if kind == 0:
            reqs.append(enc("set", k, f"v{i}"))
            want.append(b"+OK\r\n")
        elif kind == 1:
            reqs.append(enc("get", k))
            want.append(bulk(f"v{i - 1}"))
        elif kind == 2:
            reqs.append(enc("incr", "counter"))
            want.append(None)  # the counter's value: see below
        elif kind == 3:
            reqs.append(enc("mget", k, k, "nokey"))
            want.append(b"*3\r\n" + bulk(f"v{i - 3}") + bulk(f"v{i - 3}") + b"$-1\r\n")
        else:
            reqs.append(b"ping\r\n")
            want.append(b"+PONG\r\n")
    data = b"".join(reqs)
    times, bad, errors = [], [], []
    for r in range(rounds):
        c = Conn(a)
        c.call("flushall")
        t0 = time.monotonic()
        c.send(data)
        got = []
        try:
            while len(got) < n:
                got.append(c.reply())
        except (EOFError, OSError) as e:
            errors.append(f"round {r + 1}: {len(got)} replies, then {type(e).__name__}: {e}")
        times.append(time.monotonic() - t0)
        c.close()
        for i, g in enumerate(got):
            w = want[i] if want[i] is not None else b":%d\r\n" % (i // 5 + 1)
            if g != w:
                bad.append((r + 1, i, g, w))
    print(f"{rounds} x {n} requests in one write (SET GET INCR MGET inline PING, keys on every core): "
          f"{'all replies right, in order' if not bad and not errors else 'FAILED'}; "
          f"slowest round {max(times) * 1000:.0f} ms")
    for e in errors:
        print(f"  {e}")
    for r, i, g, w in bad[:5]:
        print(f"  round {r} #{i}: got {g!r}, want {w!r}")
    return not bad and not errors


def check_verify(a):
    nkeys, nconn = int(a.args[0]), int(a.args[1])
    writers = [Conn(a) for _ in range(nconn)]
    readers = [Conn(a) for _ in range(nconn)]
    writers[0].call("flushall")
    vals = {f"verify:{i}": f"value-{i}-{random.getrandbits(64):016x}" * (1 + i % 7) for i in range(nkeys)}
    keys = list(vals)
    # pipelined SETs, each connection its share of the keys
    for w, conn in enumerate(writers):
        mine = keys[w::nconn]
        conn.send(b"".join(enc("set", k, vals[k]) for k in mine))
        for k in mine:
            r = conn.reply()
            if r != b"+OK\r\n":
                print(f"SET {k}: {r!r}")
                return False
    bad = 0
    for r, conn in enumerate(readers):
        mine = keys[(r + 1) % nconn::nconn]
        conn.send(b"".join(enc("get", k) for k in mine))
        for k in mine:
            if value(conn.reply()) != vals[k].encode():
                bad += 1
    # MGET of 50 keys at a time through the readers
    mbad = 0
    for i in range(0, nkeys, 50):
        chunk = keys[i:i + 50]
        conn = readers[(i // 50) % nconn]
        raw = conn.call("mget", *chunk)
        want = b"*%d\r\n" % len(chunk) + b"".join(bulk(vals[k]) for k in chunk)
        mbad += raw != want
    # DEL half through other connections, EXISTS counts the rest
    half = keys[::2]
    deleted = sum(int(writers[i % nconn].call("del", *half[i:i + 100])[1:-2]) for i in range(0, len(half), 100))
    exists = sum(int(readers[i % nconn].call("exists", *keys[i:i + 100])[1:-2]) for i in range(0, nkeys, 100))
    size = int(readers[0].call("dbsize")[1:-2])
    for conn in writers + readers:
        conn.close()
    ok = bad == 0 and mbad == 0 and deleted == len(half) and exists == nkeys - len(half) and size == exists
    print(f"{nkeys} keys written through {nconn} connections, read through {nconn} others: "
          f"{nkeys - bad} GETs right, {mbad} bad MGETs; DEL {deleted}/{len(half)}, EXISTS {exists}, DBSIZE {size}")
    return ok


def expect_error_close(a, data, want, chunk=None):
    """Sends data; the reply must be want and the connection must then be closed."""
    c = Conn(a)
    got = b""
    try:
        if chunk:
            for i in range(0, len(data), chunk):
                c.send(data[i:i + chunk])
                r, _, _ = select.select([c.s], [], [], 0)
                if r:
                    break
        else:
            c.send(data)
        got = c.reply()
        closed = c.closed()
    except (EOFError, ConnectionResetError, BrokenPipeError, OSError) as e:
        got += f" ({type(e).__name__})".encode()
        closed = True
    c.close()
    return got == want and closed, got, closed


def check_protocol(a):
    cases = [(b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
             (b"*1\r\nping\r\n", b"-ERR Protocol error: expected '$', got 'p'\r\n"),
             (b"*2\r\n$4\r\necho\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
             (b"*2\r\n$4\r\necho\r\n$x\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
             (b"*+1\r\n$4\r\nping\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
             (b'get "a\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
             (b"ping\r\n*x\r\n", b"+PONG\r\n"),
             (b"\x01\x02\xff garbage \x7f\r\n",
              b"-ERR unknown command '\x01\x02\xff', with args beginning with: 'garbage' '\x7f' \r\n")]
    bad = []
    for data, want in cases:
        if want == b"+PONG\r\n":  # the error comes after the good reply
            c = Conn(a)
            c.send(data)
            try:
                got = c.reply() + c.reply()
                closed = c.closed()
            except (EOFError, OSError):
                got, closed = b"", True
            c.close()
            ok = got == want + b"-ERR Protocol error: invalid multibulk length\r\n" and closed
        elif b"garbage" in data:  # not a protocol error: an inline command that does not exist
            c = Conn(a)
            c.send(data)
            got = c.reply()
            ok = got == want
            c.close()
            closed = False
        else:
            ok, got, closed = expect_error_close(a, data, want)
        if not ok:
            bad.append((data, got, closed))
    print(f"{len(cases)} malformed requests: {len(cases) - len(bad)} answered as Redis does (error, then closed)")
    for d, g, cl in bad:
        print(f"  {d!r}: got {g!r}, {'closed' if cl else 'still open'}")
    return not bad


def check_oversize(a):
    results = []
    big = b"*3\r\n$3\r\nset\r\n$1\r\nk\r\n$2000000\r\n" + b"x" * 70000
    results.append(("2 MB bulk",) + expect_error_close(
        a, big, b"-ERR Protocol error: bulk length above the limit of 1048576 bytes\r\n"))
    v = b"y" * (1024 * 1024 - 100)
    # the 9th value's header crosses the limit: nothing after it is sent, so the client does
    # not keep writing into a closed connection (which would reset it before the error is read)
    req = b"*19\r\n$4\r\nmset\r\n" + b"".join(b"$2\r\nk%d\r\n$%d\r\n%s\r\n" % (i, len(v), v) for i in range(8))
    req += b"$2\r\nk8\r\n$%d\r\n" % len(v)
    results.append(("8 MiB+ MSET",) + expect_error_close(
        a, req, b"-ERR Protocol error: request above the limit of 8388608 bytes\r\n", chunk=65536))
    results.append(("count 2^31",) + expect_error_close(
        a, b"*2147483648\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"))
    results.append(("64 KiB+ inline line",) + expect_error_close(
        a, b"a" * 70000, b"-ERR Protocol error: too big inline request\r\n", chunk=16384))
    # the largest value that is allowed works
    c = Conn(a)
    v = os.urandom(1024 * 1024)
    okset = c.call("set", "largest", v) == b"+OK\r\n" and value(c.call("get", "largest")) == v
    c.call("del", "largest")
    c.close()
    bad = [r for r in results if not r[1]]
    print(f"oversized requests refused and closed: {len(results) - len(bad)}/{len(results)}; "
          f"a 1 MiB value {'stored and read back' if okset else 'FAILED'}")
    for name, _, got, closed in bad:
        print(f"  {name}: got {got[:100]!r}, {'closed' if closed else 'still open'}")
    return not bad and okset


def check_vanish(a):
    n = int(a.args[0])
    deadline = time.monotonic() + 60
    done = again = 0
    for i in range(n):
        if time.monotonic() > deadline:
            break
        try:
            try:
                s = socket.create_connection((a.host, a.port), timeout=5)
            except socket.timeout:  # a SYN lost under load (TCG, -smp 4 on 2 CPUs): once more
                again += 1
                s = socket.create_connection((a.host, a.port), timeout=20)
            kind = i % 5
            if kind == 0:
                s.sendall(b"*3\r\n$3\r\nset\r\n$3\r\nkey\r\n$100\r\nabc")  # a partial bulk
            elif kind == 1:
                s.sendall(b"*2\r\n$3\r\nget")  # a partial header
            elif kind == 2:  # many requests for every core, then gone without reading
                s.sendall(b"".join(enc("get", f"vanish:{j}") for j in range(300)) + enc("mget", *[f"m{j}" for j in range(50)]))
            elif kind == 3:  # a reset instead of a close
                s.sendall(b"".join(enc("set", f"vanish:{j}", "x" * 100) for j in range(50)))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
            done += 1
        except OSError:
            pass
    print(f"{done} clients vanished mid-request (partial bulks, partial headers, unread pipelines, resets)"
          + (f"; {again} connected on a second try" if again else ""))
    return done == n


def check_flood(a):
    n, secs = int(a.args[0]), float(a.args[1])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 256)), hard))
    deadline = time.monotonic() + secs
    conns, failed = [], 0
    missed = 0
    for i in range(n):
        if time.monotonic() > deadline:
            break
        try:
            s = socket.create_connection((a.host, a.port), timeout=10)
            conns.append(s)
        except OSError:
            missed += 1
    # a client whose connect timed out under the flood tries again once, as real clients do
    # (TCG on an oversubscribed host can drop a SYN and its retries within 10 s)
    for i in range(missed):
        try:
            conns.append(socket.create_connection((a.host, a.port), timeout=20))
        except OSError:
            failed += 1
    opened = len(conns)
    for i, s in enumerate(conns):
        try:
            s.sendall(enc("set", f"flood:{i}", f"v{i}") + enc("get", f"flood:{i}"))
        except OSError:
            pass
    ok = 0
    for i, s in enumerate(conns):
        want = b"+OK\r\n" + bulk(f"v{i}")
        got = b""
        try:
            s.settimeout(max(0.5, deadline - time.monotonic()))
            while len(got) < len(want):
                d = s.recv(4096)
                if not d:
                    break
                got += d
        except OSError:
            pass
        ok += got == want
        s.close()
    print(f"{n} connections: {opened} open at once ({missed} on a second try), {ok} did SET + GET right, "
          f"{failed} could not connect")
    return ok == n


def info(a):
    c = Conn(a)
    raw = c.call("info")
    c.close()
    text = value(raw).decode()
    cores, cur = {}, None
    for line in text.split("\r\n"):
        if line.startswith("# Core"):
            cur = int(line[6:])
            cores[cur] = {}
        elif line.startswith("#"):
            cur = None
        elif cur is not None and ":" in line:
            k, _, v = line.partition(":")
            cores[cur][k] = int(v) if v.lstrip("-").isdigit() else v
    return cores


def check_info(a):
    n = int(a.args[0])
    cores = info(a)
    fields = ("shard_commands", "total_commands_processed", "remote_requests_sent", "remote_requests_served")
    summary = "; ".join(f"core {c}: " + "/".join(str(cores[c].get(f, "?")) for f in fields) for c in sorted(cores))
    print(f"INFO ({'/'.join(fields)}): {summary}")
    if sorted(cores) != list(range(n)):
        return False
    for c in cores.values():
        if c.get("shard_commands", 0) <= 0:
            return False
        if n >= 2 and (c.get("remote_requests_sent", 0) <= 0 or c.get("remote_requests_served", 0) <= 0
                       or c.get("total_commands_processed", 0) <= 0):
            return False
    return True


def heap_after_flush(a):
    """FLUSHALL, then every core's heap_bytes once only the asking connection is left."""
    c = Conn(a)
    c.call("flushall")
    c.close()
    heaps = None
    for _ in range(20):  # connections wind down (their threads end) after their clients close
        cores = info(a)
        heaps = {k: v.get("heap_bytes", 0) for k, v in cores.items()}
        if sum(v.get("connected_clients", 0) for v in cores.values()) <= 1:
            break
        time.sleep(0.5)
    return heaps


def check_memsave(a):
    heaps = heap_after_flush(a)
    with open(a.args[0], "w") as f:
        f.write(" ".join(f"{k}:{v}" for k, v in sorted(heaps.items())))
    print("heap bytes per core after FLUSHALL: " + ", ".join(f"{k}: {v}" for k, v in sorted(heaps.items())))
    return True


def check_memsame(a):
    with open(a.args[0]) as f:
        base = {int(k): int(v) for k, v in (x.split(":") for x in f.read().split())}
    tol = int(a.args[1]) * 1024
    heaps = None
    for _ in range(10):  # remote frees are batched: the last ones come home a little later
        heaps = heap_after_flush(a)
        if all(heaps.get(k, 0) - base[k] <= tol for k in base):
            break
        time.sleep(1)
    print("heap bytes per core after FLUSHALL, then and now: " +
          ", ".join(f"{k}: {base[k]} -> {heaps.get(k)}" for k in sorted(base)) + f" (at most +{tol // 1024} KiB)")
    return all(heaps.get(k, 0) - base[k] <= tol for k in base)


def check_oom(a):
    c = Conn(a)
    c.call("flushall")
    v = b"o" * 60000
    stored, refused, got = 0, 0, b""
    for i in range(3000):  # until every shard is full: 30 refusals in a row
        got = c.call("set", f"oom:{i}", v)
        if got == b"+OK\r\n":
            stored += 1
            refused = 0
        elif got == OOM:
            refused += 1
            if refused == 30:
                break
        else:
            break
    first = c.call("get", "oom:0")
    again = c.call("set", "another", "x")
    mset = c.call("mset", *[x for i in range(20) for x in (f"oom:m{i}", "x")])
    ping = c.call("ping")
    deleted = c.call("del", *[f"oom:{i}" for i in range(stored + refused)])
    after = c.call("set", "another", "x")
    c.call("flushall")
    c.close()
    ok = (refused == 30 and again == OOM and mset == OOM and value(first) == v and ping == b"+PONG\r\n" and
          deleted == b":%d\r\n" % stored and after == b"+OK\r\n")
    print(f"{stored} values of 60 KB stored, then {refused} x {got[:58]!r}; reads work "
          f"({len(value(first) or b'')} bytes), SET {again[:4]!r} MSET {mset[:4]!r}; DEL {deleted[:-2].decode()} "
          f"makes room: SET {after[:-2].decode()}")
    return ok


def ping_ok(a, timeout=20):
    try:
        c = Conn(a, timeout=timeout)
        ok = c.call("ping") == b"+PONG\r\n"
        c.close()
        return ok
    except (OSError, EOFError):
        return False


def check_exhaust(a):
    n, mb = int(a.args[0]), int(a.args[1])
    deadline = time.monotonic() + 120
    conns = []
    for i in range(n):
        try:
            conns.append(socket.create_connection((a.host, a.port), timeout=10))
        except OSError:
            pass
    # each starts an MSET of mb values of 1 MiB and never finishes it
    v = b"z" * (1024 * 1024 - 64)
    data = b"*%d\r\n$4\r\nmset\r\n" % (2 * mb + 3) + b"".join(
        b"$2\r\nk%d\r\n$%d\r\n%s\r\n" % (j % 10, len(v), v) for j in range(mb))
    sent = [0] * len(conns)
    outcome = {"oom": 0, "closed": 0}
    pings, next_ping = [], time.monotonic() + 3
    for s in conns:
        s.setblocking(False)
    while time.monotonic() < deadline and any(s and sent[i] < len(data) for i, s in enumerate(conns)):
        for i, s in enumerate(conns):
            if s and sent[i] < len(data):
                try:
                    sent[i] += s.send(data[sent[i]:sent[i] + 262144])
                except BlockingIOError:
                    pass
                except OSError:
                    sent[i] = len(data)
        r, _, _ = select.select([s for s in conns if s], [], [], 0.01)
        for s in r:
            try:
                d = s.recv(4096)
            except OSError:
                d = b""
            outcome["oom" if d.startswith(b"-OOM") else "closed"] += 1
            s.close()
            conns[conns.index(s)] = None
        if time.monotonic() > next_ping:
            pings.append(ping_ok(a, 5))
            next_ping = time.monotonic() + 3
    still = sum(1 for s in conns if s)
    during = any(ping_ok(a, 10) for _ in range(3))
    for s in conns:
        if s:
            s.close()
    after = False
    for _ in range(6):  # connections wind down first (their threads linger up to 2 s): 60 s at most
        time.sleep(2)
        try:
            c = Conn(a, timeout=8)
            after = c.call("set", "after", "exhaust") == b"+OK\r\n" and c.call("get", "after") == bulk("exhaust")
            c.call("del", "after")
            c.close()
        except (OSError, EOFError):
            pass
        if after:
            break
    # While memory is short, a new connection may be refused (-OOM, or no room in the TCP/IP
    # stack): PINGs during the flood are reported, not required. The server must live through
    # it, refuse what does not fit, and serve normally once the clients are gone.
    print(f"{n} connections sent up to {mb} MiB each of requests that never end: {outcome['oom']} answered "
          f"-OOM, {outcome['closed']} closed, {still} still open; PING during: {sum(pings)}/{len(pings)} "
          f"and at the end {'PONG' if during else 'FAILED'}; afterwards SET/GET {'work' if after else 'FAIL'}")
    return during and after and outcome["oom"] + outcome["closed"] > 0


def owner(key, ncores):
    """The core that owns key: (fmix64(FNV-1a-64(key)) >> 32) % cores, as cmd_owner."""
    m = (1 << 64) - 1
    h = 14695981039346656037
    for b in (key if isinstance(key, bytes) else key.encode()):
        h = ((h ^ b) * 1099511628211) & m
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & m
    h ^= h >> 33
    h = (h * 0xc4ceb9fe1a85ec53) & m
    h ^= h >> 33
    return (h >> 32) % ncores


def keys_of(core, ncores, prefix, n):
    """n key names owned by core."""
    out, i = [], 0
    while len(out) < n:
        k = f"{prefix}{i}"
        if owner(k, ncores) == core:
            out.append(k)
        i += 1
    return out


def conns_on(a, core, ncores, n, tries=400, rcvbuf=None):
    """n connections served by core (CLIENT ID % cores is the core); others are closed."""
    got = []
    for _ in range(tries):
        if len(got) == n:
            break
        c = Conn(a)
        if rcvbuf:
            c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        cid = int(c.call("client", "id")[1:-2])
        if cid % ncores == core:
            got.append(c)
        else:
            c.close()
    return got


def timed(c, *args):
    t0 = time.monotonic()
    r = c.call(*args)
    return r, time.monotonic() - t0


def check_mgetflood(a):
    nclients, secs = int(a.args[0]), float(a.args[1])
    ncores = 2
    victim, home = 1, 0
    cores = info(a)
    total = cores[victim]["total_pages"] * 4096
    c = Conn(a, timeout=30)
    c.call("flushall")
    # big values on the victim's shard: a quarter of its memory, in 256 KiB values
    vsize = 256 * 1024
    big = keys_of(victim, ncores, "big:", max(8, total // 4 // vsize))
    v = b"v" * vsize
    for k in big:
        if c.call("set", k, v) != b"+OK\r\n":
            print(f"cannot load {k}")
            return False
    probes = {}
    for core in range(ncores):
        conn = conns_on(a, core, ncores, 1)
        if not conn:
            print(f"no connection lands on core {core}")
            return False
        probes[core] = conn[0]
    small = {core: keys_of(core, ncores, "probe:", 1)[0] for core in range(ncores)}
    for core, k in small.items():
        c.call("set", k, f"value-{core}")
    # the attackers: clients of core 0 that pipeline MGETs of 1-4 big values and never read
    attackers = conns_on(a, home, ncores, nclients, rcvbuf=4096)
    if len(attackers) < nclients:
        print(f"only {len(attackers)} of {nclients} connections land on core {home}")
        return False
    rnd = random.Random(7)
    sent = 0
    for at in attackers:
        data = b"".join(enc("mget", *rnd.sample(big, rnd.randint(1, 4))) for _ in range(400))
        at.s.setblocking(False)
        try:
            sent += at.s.send(data)
        except BlockingIOError:
            pass
    worst, bad, rounds, min_free = 0.0, [], 0, None
    end = time.monotonic() + secs
    while time.monotonic() < end:
        rounds += 1
        for core, p in probes.items():
            try:
                r, t = timed(p, "ping")
                worst = max(worst, t)
                if r != b"+PONG\r\n" or t >= 1.0:
                    bad.append(f"core {core}: PING {r[:40]!r} in {t * 1000:.0f} ms")
                for kc, k in small.items():
                    r, t = timed(p, "get", k)
                    worst = max(worst, t)
                    if r != bulk(f"value-{kc}") or t >= 1.0:
                        bad.append(f"core {core}: GET of a key of core {kc}: {r[:60]!r} in {t * 1000:.0f} ms")
            except (OSError, EOFError) as e:
                bad.append(f"core {core}: {type(e).__name__}: {e}")
                probes[core] = Conn(a, timeout=5)
        try:
            r = value(probes[home].call("info", "core%d" % victim)).decode()
            free = int(r.split("free_pages:")[1].split("\r")[0])
            min_free = free if min_free is None else min(min_free, free)
        except (OSError, EOFError, IndexError, ValueError, AttributeError):
            pass
        time.sleep(0.3)
    for at in attackers:
        at.close()
    reserve = cores[victim]["total_pages"] // 8
    held = min_free is not None and min_free >= reserve * 9 // 10
    print(f"{nclients} clients of core {home} pipelined {sent // 1024} KiB of unread MGETs of "
          f"{len(big)} values of 256 KiB on core {victim}: {rounds} rounds of PING+GET on every core, "
          f"slowest {worst * 1000:.0f} ms, {len(bad)} late or wrong; core {victim} free pages at least "
          f"{min_free} of {cores[victim]['total_pages']} (reserve for others {reserve})")
    for b in bad[:6]:
        print("  " + b)
    c.call("del", *big)
    c.close()
    for p in probes.values():
        p.close()
    return not bad and held


def check_flushhold(a):
    nkeys, bound = int(a.args[0]), float(a.args[1]) / 1000
    c = Conn(a, timeout=120)
    c.call("flushall")
    t0 = time.monotonic()
    batch, out, bad = 1000, 0, []
    for i in range(0, nkeys, batch):
        c.send(enc("mset", *[x for j in range(i, min(i + batch, nkeys)) for x in (f"f:{j}", "x")]))
        out += 1
        while out > 16 or (out and i + batch >= nkeys):  # a few requests in flight, not all
            r = c.reply()
            out -= 1
            if r != b"+OK\r\n":
                bad.append(r)
    got = c.call("dbsize")
    if bad or got != b":%d\r\n" % nkeys:
        print(f"loading {nkeys} keys: DBSIZE {got!r}, {bad[:2]!r}")
        return False
    load = time.monotonic() - t0
    p = Conn(a, timeout=30)
    lat, stop = [], [False]

    def pinger():
        while not stop[0]:
            r, t = timed(p, "ping")
            lat.append((t, r == b"+PONG\r\n"))
            time.sleep(0.005)

    import threading
    th = threading.Thread(target=pinger)
    th.start()
    time.sleep(0.3)
    before = len(lat)
    r, flush = timed(c, "flushall")
    time.sleep(0.3)
    stop[0] = True
    th.join()
    during = lat[before:]
    worst = max(t for t, _ in during) if during else 0
    size = c.call("dbsize")
    c.close()
    p.close()
    core = info(a).get(0, {})
    ok = r == b"+OK\r\n" and size == b":0\r\n" and worst < bound and all(good for _, good in lat)
    print(f"{nkeys} keys loaded in {load:.1f} s; FLUSHALL took {flush * 1000:.0f} ms, {len(during)} PINGs "
          f"meanwhile, the slowest {worst * 1000:.0f} ms (bound {bound * 1000:.0f} ms); DBSIZE then {size[:-2].decode()}; "
          f"worker steps {core.get('worker_steps', '-')}, the longest {core.get('longest_step_us', '-')} us")
    return ok


def check_manycores(a):
    n = int(a.args[0])
    c = Conn(a, timeout=60)
    c.call("flushall")
    high = [keys_of(core, n, "hc:", 1)[0] for core in range(n - 4, n)]
    bad = []
    for k in high:
        if c.call("set", k, k + "!") != b"+OK\r\n" or c.call("get", k) != bulk(k + "!"):
            bad.append(k)
    spread = [f"s:{i}" for i in range(4 * n)]
    cores_hit = len({owner(k, n) for k in spread})
    msetr = c.call("mset", *[x for k in spread for x in (k, k)])
    mget = c.call("mget", *spread)
    want = b"*%d\r\n" % len(spread) + b"".join(bulk(k) for k in spread)
    exists = c.call("exists", *spread)
    size = c.call("dbsize")
    sections = len(info(a))
    dels = c.call("del", *spread, *high)
    c.close()
    ok = (not bad and msetr == b"+OK\r\n" and mget == want and exists == b":%d\r\n" % len(spread) and
          size == b":%d\r\n" % (len(spread) + len(high)) and sections == n and
          dels == b":%d\r\n" % (len(spread) + len(high)))
    print(f"{n} cores: SET/GET on cores {n - 4}..{n - 1} {'right' if not bad else 'WRONG: ' + ' '.join(bad)}; "
          f"MSET/MGET/EXISTS/DEL of {len(spread)} keys on {cores_hit} cores "
          f"{'right' if mget == want else 'WRONG'}; DBSIZE {size[1:-2].decode()}; INFO sections {sections}")
    return ok


CHECKS = {"exact": check_exact, "inline": check_inline, "pipeline": check_pipeline, "verify": check_verify,
          "protocol": check_protocol, "oversize": check_oversize, "vanish": check_vanish, "flood": check_flood,
          "info": check_info, "memsave": check_memsave, "memsame": check_memsame, "oom": check_oom,
          "exhaust": check_exhaust, "mgetflood": check_mgetflood, "flushhold": check_flushhold,
          "manycores": check_manycores}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="10.0.2.15")
    p.add_argument("--port", type=int, default=6379)
    p.add_argument("check", choices=sorted(CHECKS))
    p.add_argument("args", nargs="*")
    a = p.parse_args()
    try:
        ok = CHECKS[a.check](a)
    except (OSError, EOFError, ValueError) as e:
        print(f"{a.check}: {type(e).__name__}: {e}")
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
