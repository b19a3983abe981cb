"""Whole-program benchmark of corrald's [[service]]s (issue 20's targets), on one private corrald
(a release build):

  echo      a line written to a `cat` service's stdin reaches a watcher of its output, two ways:
            over HTTP (POST .../stdin while a long-poll GET .../output?wait= waits), and over one
            WebSocket that follows the run's output and carries the write as a `stdin` message;
            against the same `cat` driven directly over a pipe by this script, and one bare API round
            trip (GET /healthz) on a keep-alive connection: median and p90 of CALLS lines each, in
            alternating turns. Target: echo <= 2 x the direct pipe round trip.
  crashloop a service that exits 1 at once, restarted every BACKOFF: corrald's CPU time (user + system,
            from /proc) over SECONDS, as a share of one core. Target: <= 1 %.
  rss       corrald's RSS with SERVICES services of `sleep infinity` running, against the same
            corrald with none: the difference per service. Target: <= 64 KiB each.

    CORRAL_BUILD=build/release CALLS=2000 SECONDS=20 SERVICES=100 python3 bench/services_bench.py
Read the ratios: the machine is shared and noisy.
"""
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CALLS = int(os.environ.get("CALLS", 2000))
SECONDS = float(os.environ.get("SECONDS", 20))
SERVICES = int(os.environ.get("SERVICES", 100))
BACKOFF = os.environ.get("BACKOFF", "1s")
BUILD = os.environ.get("CORRAL_BUILD", "build/release")
CORRALD = os.path.join(BUILD, "apps/corrald/corrald")


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


class Corrald:
    def __init__(self, services):
        self.dir = tempfile.mkdtemp(prefix="corral-svc-bench-")
        self.socket = os.path.join(self.dir, "cli.sock")
        config = os.path.join(self.dir, "corral.toml")
        with open(config, "w") as f:
            f.write(f'[pod]\nstate_dir = "{self.dir}/state"\nlog_level = "warn"\n'
                    f'[[http]]\nlabel = "cli"\nlisten = "unix:{self.socket}"\n{services}\n')
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen([CORRALD, "run", "-c", config], stdout=self.log, stderr=self.log)
        for _ in range(1000):
            if os.path.exists(self.socket):
                break
            time.sleep(0.01)
        else:
            raise RuntimeError("corrald did not start: " + open(os.path.join(self.dir, "log")).read())

    def conn(self):
        return UnixHTTPConnection(self.socket)

    def get(self, path):
        c = self.conn()
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body

    def wait_running(self, names, limit=60):
        import json
        deadline = time.time() + limit
        while time.time() < deadline:
            status, body = self.get("/api/v1/services")
            states = {s["name"]: s["state"] for s in json.loads(body)["services"]}
            if all(states.get(n) == "running" for n in names):
                return
            time.sleep(0.05)
        raise RuntimeError(f"services not running: {states}")

    def cpu_seconds(self):
        fields = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


class WebSocket:
    """The smallest blocking WebSocket client that will do, over corrald's Unix socket: Python's
    own frame handling must not be what is measured."""

    def __init__(self, path, target):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.sendall((f"GET {target} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(head.decode())

    def send(self, text):
        payload = text.encode()
        n = len(payload)
        # A client's frames are masked; a zero key leaves the payload as it is.
        length = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
        self.sock.sendall(b"\x81" + length + b"\0\0\0\0" + payload)

    def _take(self, n):
        while len(self.buffer) < n:
            self.buffer += self.sock.recv(65536)
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def receive(self):
        head = self._take(2)
        n = head[1] & 0x7F
        if n == 126:
            n = int.from_bytes(self._take(2), "big")
        elif n == 127:
            n = int.from_bytes(self._take(8), "big")
        return self._take(n)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def echo():
    # Two `cat` services: one written to over HTTP, one over the WebSocket, so that neither path's
    # watcher also carries the other's lines.
    d = Corrald('[[service]]\nname = "echo"\ncommand = ["cat"]\n[[service]]\nname = "echo2"\ncommand = ["cat"]\n')
    try:
        d.wait_running(["echo", "echo2"])
        poll, post, health = d.conn(), d.conn(), d.conn()
        import json
        job = json.loads(d.get("/api/v1/services/echo2")[1])["job"]
        ws = WebSocket(d.socket, f"/api/v1/stream?job={job}&from=0")
        stdin_message = json.dumps({"type": "stdin", "job": job, "data": "y" * 63 + "\n"})
        pipe = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        line = b"x" * 63 + b"\n"
        offset = 0
        service_times, ws_times, pipe_times, api_times, ws_trip_times = [], [], [], [], []
        for i in range(CALLS + 50):
            # the watcher is waiting before the line is written, as a follower would be
            poll.request("GET", f"/api/v1/services/echo/output?from={offset}&wait=30&format=raw")
            t0 = time.perf_counter()
            post.request("POST", "/api/v1/services/echo/stdin", body=line, headers={"Content-Type": "text/plain"})
            post.getresponse().read()
            r = poll.getresponse()
            got = r.read()
            t1 = time.perf_counter()
            while len(got) < len(line):  # the line came in two pieces: wait for the rest
                poll.request("GET", f"/api/v1/services/echo/output?from={offset + len(got)}&wait=30&format=raw")
                got += poll.getresponse().read()
                t1 = time.perf_counter()
            offset += len(got)
            t2 = time.perf_counter()
            pipe.stdin.write(line)
            back = b""
            while len(back) < len(line):
                back += pipe.stdout.read(len(line) - len(back))
            t3 = time.perf_counter()
            health.request("GET", "/healthz")
            health.getresponse().read()
            t4 = time.perf_counter()
            # The same line over one WebSocket: the write goes out as a message, and the time runs
            # until the output frame carrying the line (an HTTP write's echo came above; the
            # acknowledgement of this write may come before or after its echo).
            acked = echoed = False
            t5 = time.perf_counter()
            ws.send(stdin_message)
            while not echoed:
                frame = ws.receive()
                if b'"type":"stdin"' in frame:
                    acked = True
                elif b'"type":"output"' in frame and b"yyyy\\n" in frame:
                    echoed = True
            t6 = time.perf_counter()
            while not acked:
                acked = b'"type":"stdin"' in ws.receive()
            # The WebSocket's own floor: a message corrald answers at once (an unknown type's error).
            t7 = time.perf_counter()
            ws.send('{"type": "ping?"}')
            while b'"type":"error"' not in ws.receive():
                pass
            t8 = time.perf_counter()
            if i >= 50:  # warm-up
                service_times.append(t1 - t0)
                ws_times.append(t6 - t5)
                ws_trip_times.append(t8 - t7)
                pipe_times.append(t3 - t2)
                api_times.append(t4 - t3)
        pipe.stdin.close()
        pipe.wait()
        s, w, p, a, wt = (statistics.median(x) * 1e6
                          for x in (service_times, ws_times, pipe_times, api_times, ws_trip_times))
        print(f"echo: {CALLS} lines; median (p90) in microseconds")
        print(f"  through the service to a watcher: {s:8.1f} ({percentile(service_times, 0.9) * 1e6:.1f})")
        print(f"  the same over one WebSocket:      {w:8.1f} ({percentile(ws_times, 0.9) * 1e6:.1f})")
        print(f"  cat over a pipe, directly:        {p:8.1f} ({percentile(pipe_times, 0.9) * 1e6:.1f})")
        print(f"  one API round trip (/healthz):    {a:8.1f} ({percentile(api_times, 0.9) * 1e6:.1f})")
        print(f"  one WebSocket message and answer: {wt:8.1f} ({percentile(ws_trip_times, 0.9) * 1e6:.1f})")
        print(f"  ratio service/pipe: {s / p:.1f} over HTTP, {w / p:.1f} over a WebSocket (target <= 2); "
              f"HTTP service/(2 API round trips): {s / (2 * a):.2f}; WebSocket service - its round trip: "
              f"{w - wt:.1f} us = {(w - wt) / p:.1f} x the pipe")
    finally:
        d.stop()


def crashloop():
    d = Corrald(f'[[service]]\nname = "crashy"\ncommand = ["sh", "-c", "exit 1"]\n'
                f'backoff = "{BACKOFF}"\nbackoff_max = "{BACKOFF}"\ngive_up_after = 0\n')
    try:
        time.sleep(2)
        c0, t0 = d.cpu_seconds(), time.time()
        time.sleep(SECONDS)
        c1, t1 = d.cpu_seconds(), time.time()
        import json
        runs = json.loads(d.get("/api/v1/services/crashy")[1])["runs"]
        share = (c1 - c0) / (t1 - t0) * 100
        print(f"crashloop: restarted every {BACKOFF} ({runs} runs so far): corrald used {c1 - c0:.2f} s of CPU "
              f"in {t1 - t0:.1f} s = {share:.2f} % of one core (target <= 1 %)")
    finally:
        d.stop()


def rss():
    base = Corrald("")
    try:
        time.sleep(1)
        before = base.rss_kib()
    finally:
        base.stop()
    services = "".join(f'[[service]]\nname = "s{i}"\ncommand = ["sleep", "infinity"]\n' for i in range(SERVICES))
    d = Corrald(services)
    try:
        d.wait_running([f"s{i}" for i in range(SERVICES)], limit=120)
        time.sleep(1)
        after = d.rss_kib()
    finally:
        d.stop()
    per = (after - before) / SERVICES
    print(f"rss: corrald {before} KiB with no services, {after} KiB with {SERVICES} running: "
          f"{per:.1f} KiB each (target <= 64)")


if __name__ == "__main__":
    which = sys.argv[1:] or ["echo", "crashloop", "rss"]
    for name in which:
        globals()[name]()
