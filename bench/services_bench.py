"""Whole-program benchmark of corrald's [[service]]s (issue 20's targets), on one private corrald
(a release build):

  echo      a line written to a `cat` service's stdin (POST .../stdin) reaches a watcher waiting on its
            output (a long-poll GET .../output?wait=), against the same `cat` driven directly over a
            pipe by this script, and against one bare API round trip (GET /healthz) on the same
            keep-alive connections: median and p90 of CALLS lines each, in alternating turns.
            Target: echo <= 2 x the direct pipe round trip.
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


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def echo():
    d = Corrald('[[service]]\nname = "echo"\ncommand = ["cat"]\n')
    try:
        d.wait_running(["echo"])
        poll, post, health = d.conn(), d.conn(), d.conn()
        pipe = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        line = b"x" * 63 + b"\n"
        offset = 0
        service_times, pipe_times, api_times = [], [], []
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
            if i >= 50:  # warm-up
                service_times.append(t1 - t0)
                pipe_times.append(t3 - t2)
                api_times.append(t4 - t3)
        pipe.stdin.close()
        pipe.wait()
        s, p, a = (statistics.median(x) * 1e6 for x in (service_times, pipe_times, api_times))
        print(f"echo: {CALLS} lines; median (p90) in microseconds")
        print(f"  through the service to a watcher: {s:8.1f} ({percentile(service_times, 0.9) * 1e6:.1f})")
        print(f"  cat over a pipe, directly:        {p:8.1f} ({percentile(pipe_times, 0.9) * 1e6:.1f})")
        print(f"  one API round trip (/healthz):    {a:8.1f} ({percentile(api_times, 0.9) * 1e6:.1f})")
        print(f"  ratio service/pipe: {s / p:.1f} (target <= 2); service/(2 API round trips): {s / (2 * a):.2f}")
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
