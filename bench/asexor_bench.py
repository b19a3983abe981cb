"""Whole-program benchmark of ASEXOR's protocols and WAMP against corral's native API, on one private
corrald (a release build) running ASEXOR's `date` task:

  latency   call -> reply (the task id) on each transport, one call at a time, against the native
            POST /api/v1/jobs round trip: median and p90 of CALLS calls each;
  updates   JOBS tasks submitted at once on each transport, updates delivered per second until the
            last task's final update, against the native WebSocket stream's events of as many jobs;
  sessions  SESSIONS WebSocket sessions open at once: corrald's RSS per idle session, then each runs
            one task: all complete, every update delivered.

Transports are measured in turns, each round in a new order; read the ratios (the machine is shared).
    CORRAL_BUILD=build/release ROUNDS=3 CALLS=300 JOBS=1000 SESSIONS=1000 python3 bench/asexor_bench.py
STORE=memory keeps jobs in memory only (no commit before a reply: ASEXOR's terms); CONCURRENCY sets
the tasks run at once (ASEXOR's demo runs as many as the machine has cores).
The clients are Debian's: python3-websockets, python3-autobahn, python3-cbor2. With PEER=asexor the
same measurements (less native and WAMP) run against ASEXOR's own backend, already started on
8484-8486 (bench/peers/asexor/README.md).
"""
import asyncio
import hashlib
import json
import os
import random
import re
import resource
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import cbor2
import websockets

ROUNDS = int(os.environ.get("ROUNDS", 3))
CALLS = int(os.environ.get("CALLS", 300))
JOBS = int(os.environ.get("JOBS", 1000))
SESSIONS = int(os.environ.get("SESSIONS", 1000))
PEER = os.environ.get("PEER", "")
TASK = ["date", {"args": ["%Y"]}]

CONFIG = """
[pod]
state_dir = "{state}"
log_level = "info"  # the listeners' ports are read from the "started" lines
{store}
[jobs]
concurrency = {concurrency}
max_queued = 100000
[auth]
tokens_file = "{state}/tokens"
[auth.roles.user]
tasks = ["*"]
[auth.roles.admin]
admin = true
[[http]]
label = "web"
listen = "127.0.0.1:0"
max_connections = 10000
[asexor]
[[asexor.raw]]
label = "raw"
listen = "127.0.0.1:0"
[[asexor.long_poll]]
label = "poll"
listen = "127.0.0.1:0"
[wamp]
[[wamp.websocket]]
label = "wamp"
listen = "127.0.0.1:0"
[[task]]
name = "date"
command = ["date", "{{format}}"]
result = "text"
[[task.args]]
name = "format"
prefix = "+"
default = "%Y"
"""


class Corrald:
    def __init__(self, build):
        self.state = tempfile.mkdtemp(prefix="corral-asexor-bench-")
        with open(os.path.join(self.state, "tokens"), "w") as f:
            f.write("user:user:sha256:%s\n" % hashlib.sha256(b"user").hexdigest())
        config = os.path.join(self.state, "corral.toml")
        with open(config, "w") as f:
            # STORE=memory: no commit to wait for, like ASEXOR (which keeps nothing).
            store = '[store]\nbackend = "memory"' if os.environ.get("STORE") == "memory" else ""
            f.write(CONFIG.format(state=self.state, store=store, concurrency=os.environ.get("CONCURRENCY", 4)))
        self.proc = subprocess.Popen([os.path.join(build, "apps/corrald/corrald"), "run", "-c", config],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        log = ""
        for line in self.proc.stdout:
            log += line
            if "corrald is ready" in line:
                break
        self.log = log
        if "corrald is ready" not in log:
            raise RuntimeError("corrald did not start:\n" + log)
        self.ports = {label: int(port) for label, port in
                      re.findall(r"\(([\w-]+)\) started: (?:https?://)?[0-9.]+:(\d+)", log)}

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)
        shutil.rmtree(self.state, ignore_errors=True)


# --- minimal HTTP/1.1 over asyncio (keep-alive), for the native API and the long-poll ---

class Http:
    def __init__(self, port):
        self.port, self.cookie = port, None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def request(self, method, body=None, target="/", token=None):
        data = json.dumps(body).encode() if body is not None else b""
        head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %d\r\n" % (method, target, self.port, len(data))
        if body is not None:
            head += "Content-Type: application/json\r\n"
        if token:
            head += "Authorization: Bearer %s\r\n" % token
        if self.cookie:
            head += "Cookie: %s\r\n" % self.cookie
        self.writer.write(head.encode() + b"\r\n" + data)
        status = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "set-cookie":
                self.cookie = value.strip().split(";")[0]
        payload = await self.reader.readexactly(length)
        return int(status.split()[1]), (json.loads(payload) if payload else None)


# --- one client per transport: call() returns the task id; updates() yields (task_id, status) ---

class NativeClient:
    def __init__(self, ports):
        self.ports = ports

    async def open(self):
        self.http = await Http(self.ports["web"]).open()
        self.ws = await websockets.connect("ws://127.0.0.1:%d/api/v1/stream?token=user" % self.ports["web"], max_size=None)
        await self.ws.send(json.dumps({"type": "subscribe", "all": True}))
        return self

    async def call(self, _id):
        status, body = await self.http.request("POST", {"task": TASK[0], "args": TASK[1]["args"]}, "/api/v1/jobs", "user")
        assert status == 201, (status, body)
        return body["id"]

    async def updates(self):
        async for text in self.ws:
            m = json.loads(text)
            if m.get("type") == "event" and m.get("event") in ("started", "finished"):
                yield m["job"]["id"], "started" if m["event"] == "started" else "success"

    async def close(self):
        await self.ws.close()
        self.http.writer.close()


class AsexorWsClient:
    def __init__(self, port, session=None):
        self.port, self.session = port, session
        self.replies = {}

    async def open(self):
        query = "?token=user" + ("&session_id=%s" % self.session if self.session else "")
        self.ws = await websockets.connect("ws://127.0.0.1:%d/ws%s" % (self.port, query), max_size=None)
        self.inbox = asyncio.Queue()
        self.reader = asyncio.ensure_future(self._read())
        return self

    async def _read(self):
        async for text in self.ws:
            m = json.loads(text)
            if m[0] == "r":
                self.replies.pop(m[1]).set_result(m[2])
            elif m[0] == "m":
                self.inbox.put_nowait((m[2]["task_id"], m[2]["status"]))
            else:
                self.replies.pop(m[1]).set_exception(RuntimeError(m[2]))

    async def send_call(self, call_id):
        self.replies[call_id] = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps([call_id] + TASK))
        return self.replies[call_id]

    async def call(self, call_id):
        return await (await self.send_call(call_id))

    async def updates(self):
        while True:
            yield await self.inbox.get()

    async def close(self):
        self.reader.cancel()
        await self.ws.close()


class AsexorRawClient(AsexorWsClient):
    def __init__(self, port):
        super().__init__(port)

    async def open(self):
        self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port)
        self._send(b"user")
        assert await self._frame() == b"\x00"
        self.inbox = asyncio.Queue()
        self.reader = asyncio.ensure_future(self._read())
        return self

    def _send(self, payload):
        self.w.write(struct.pack(">I", len(payload)) + payload)

    async def _frame(self):
        head = await self.r.readexactly(4)
        return await self.r.readexactly(struct.unpack(">I", b"\0" + head[1:])[0])

    async def _read(self):
        while True:
            m = cbor2.loads(await self._frame())
            if m[0] == "r":
                self.replies.pop(m[1]).set_result(m[2])
            elif m[0] == "m":
                self.inbox.put_nowait((m[2]["task_id"], m[2]["status"]))
            else:
                self.replies.pop(m[1]).set_exception(RuntimeError(m[2]))

    async def send_call(self, call_id):
        self.replies[call_id] = asyncio.get_running_loop().create_future()
        self._send(cbor2.dumps([call_id] + TASK))
        return self.replies[call_id]

    async def close(self):
        self.reader.cancel()
        self.w.close()


class AsexorPollClient:
    def __init__(self, port):
        self.port = port

    async def open(self):
        self.post = await Http(self.port).open()
        status, _ = await self.post.request("GET", token="user")
        assert status == 200
        self.poll = await Http(self.port).open()
        self.poll.cookie = self.post.cookie
        return self

    async def call(self, call_id):
        status, m = await self.post.request("POST", [call_id] + TASK)
        assert m[0] == "r", m
        return m[2]

    async def updates(self):
        while True:
            _, messages = await self.poll.request("GET")
            for m in messages:
                yield m[2]["task_id"], m[2]["status"]

    async def close(self):
        self.post.writer.close()
        self.poll.writer.close()


class WampClient:
    def __init__(self, port):
        self.port = port

    async def open(self):
        from autobahn.asyncio.wamp import ApplicationSession
        from autobahn.asyncio.websocket import WampWebSocketClientFactory
        from autobahn.wamp.types import ComponentConfig
        loop = asyncio.get_running_loop()
        joined = loop.create_future()
        self.inbox = asyncio.Queue()
        outer = self

        class Session(ApplicationSession):
            def onConnect(self):
                self.join("realm1", ["ticket"], "user")

            def onChallenge(self, challenge):
                return "user"

            async def onJoin(self, details):
                await self.subscribe(lambda task_id, status=None, **kw: outer.inbox.put_nowait((task_id, status)),
                                     "eu.zderadicka.asexor.task_update")
                joined.set_result(self)
        factory = WampWebSocketClientFactory(lambda: Session(ComponentConfig(realm="realm1")),
                                             url="ws://127.0.0.1:%d/ws" % self.port)
        await loop.create_connection(factory, "127.0.0.1", self.port)
        self.session = await asyncio.wait_for(joined, 10)
        return self

    async def call(self, _id):
        return await self.session.call("eu.zderadicka.asexor.run_task", *([TASK[0]] + TASK[1]["args"]))

    async def updates(self):
        while True:
            yield await self.inbox.get()

    async def close(self):
        self.session.leave()


def transports(ports):
    if PEER == "asexor":
        return {"websocket": lambda: AsexorWsClient(8484), "raw": lambda: AsexorRawClient(8485),
                "long-poll": lambda: AsexorPollClient(8486)}
    return {"native": lambda: NativeClient(ports), "websocket": lambda: AsexorWsClient(ports["web"]),
            "raw": lambda: AsexorRawClient(ports["raw"]), "long-poll": lambda: AsexorPollClient(ports["poll"]),
            "wamp": lambda: WampClient(ports["wamp"])}


async def latency(make):
    client = await make().open()
    drain = asyncio.ensure_future(consume(client))
    times = []
    for i in range(1, CALLS + 1):
        t0 = time.perf_counter()
        await client.call(i)
        times.append(time.perf_counter() - t0)
    drain.cancel()
    await client.close()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9)]


async def consume(client):
    async for _ in client.updates():
        pass


def check_done(finals, ids_wanted, done):
    if ids_wanted and finals >= ids_wanted and not done.done():
        done.set_result(time.perf_counter())


async def collect(client, ids_wanted, done, finals):
    """Collects `client`'s final updates; `done` gets the time of the last one of the jobs wanted."""
    async for task_id, status in client.updates():
        if status in ("success", "error"):
            finals.add(task_id)
            check_done(finals, ids_wanted, done)


async def throughput(make, ports):
    """JOBS tasks submitted on one transport, their updates received there and, for the same jobs,
    by a native WebSocket stream watching every job: (transport's updates/s, native's updates/s)."""
    loop = asyncio.get_running_loop()
    client = await make().open()
    native = await NativeClient(ports).open() if ports else None
    ids = set()
    done, native_done = loop.create_future(), loop.create_future()
    finals, native_finals = set(), set()
    collectors = [asyncio.ensure_future(collect(client, ids, done, finals))]
    if native and not isinstance(client, NativeClient):
        collectors.append(asyncio.ensure_future(collect(native, ids, native_done, native_finals)))
    t0 = time.perf_counter()
    if isinstance(client, (AsexorRawClient, AsexorWsClient)):
        pending = [await client.send_call(i) for i in range(1, JOBS + 1)]  # pipelined, as ASEXOR's clients do
        got = await asyncio.gather(*pending)
    else:
        sem = asyncio.Semaphore(16)

        async def one(i, c):
            async with sem:
                return await c.call(i)
        # HTTP transports post on their one keep-alive connection, in turn; WAMP calls at once.
        got = [await client.call(i) for i in range(1, JOBS + 1)] if not isinstance(client, WampClient) \
            else await asyncio.gather(*(one(i, client) for i in range(1, JOBS + 1)))
    ids.update(got)
    check_done(finals, ids, done)  # every update may have come before the last reply
    check_done(native_finals, ids, native_done)
    end = await asyncio.wait_for(done, 600)
    native_end = await asyncio.wait_for(native_done, 600) if len(collectors) > 1 else end
    for c in collectors:
        c.cancel()
    await client.close()
    if native:
        await native.close()
    return 2 * JOBS / (end - t0), 2 * JOBS / (native_end - t0)


async def sessions(corrald):
    before = corrald.rss_kb()
    clients = []
    for i in range(SESSIONS):
        clients.append(await AsexorWsClient(corrald.ports["web"], "s%d" % i).open())
    await asyncio.sleep(1)
    idle = corrald.rss_kb()
    pending = [await c.send_call(1) for c in clients]
    await asyncio.gather(*pending)
    delivered = 0

    async def finish(c):
        nonlocal delivered
        async for _, status in c.updates():
            delivered += 1
            if status in ("success", "error"):
                return status
    statuses = await asyncio.wait_for(asyncio.gather(*(finish(c) for c in clients)), 600)
    for c in clients:
        await c.close()
    return (idle - before) / SESSIONS, statuses.count("success"), delivered


async def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    corrald = None if PEER else Corrald(os.environ.get("CORRAL_BUILD", "build/release"))
    kinds = transports(corrald.ports if corrald else {})
    lat = {k: [] for k in kinds}
    rate = {k: [] for k in kinds}
    try:
        for r in range(ROUNDS):
            order = list(kinds)
            random.shuffle(order)
            for k in order:
                lat[k].append(await latency(kinds[k]))
                rate[k].append(await throughput(kinds[k], corrald.ports if corrald else None))
                print("round %d %-9s median %.2f ms  updates %.0f/s (native watcher of the same jobs %.0f/s)"
                      % (r + 1, k, lat[k][-1][0] * 1e3, rate[k][-1][0], rate[k][-1][1]), file=sys.stderr)
        base_lat = statistics.median(m for m, _ in lat["native"]) if "native" in lat else None
        print("| transport | call -> reply median | p90 | vs native POST | updates/s | native stream, same jobs | ratio |")
        print("|---|---|---|---|---|---|---|")
        for k in kinds:
            m = statistics.median(x for x, _ in lat[k])
            p = statistics.median(y for _, y in lat[k])
            u = statistics.median(a for a, _ in rate[k])
            n = statistics.median(b for _, b in rate[k])
            ratio = statistics.median(a / b for a, b in rate[k])
            print("| %s | %.2f ms | %.2f ms | %s | %.0f | %s | %s |" % (
                k, m * 1e3, p * 1e3, "%.2f×" % (m / base_lat) if base_lat else "—",
                u, "%.0f" % n if base_lat else "—", "%.2f×" % ratio if base_lat else "—"))
        if corrald:
            per, ok, delivered = await sessions(corrald)
            print("\n%d WebSocket sessions: %.1f KB of corrald RSS per idle session; %d/%d tasks succeeded; "
                  "%d/%d updates delivered" % (SESSIONS, per, ok, SESSIONS, delivered, 2 * SESSIONS))
    finally:
        if corrald:
            corrald.stop()


if __name__ == "__main__":
    asyncio.run(main())
