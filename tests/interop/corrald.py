"""A real corrald for the interop tests: started on free loopback ports with a config in a temporary
state directory, its listeners' ports read from its log, stopped with SIGTERM."""
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

DEMO_USERS = {"anonymous": "anonymous", "user": "user", "admin": "admin", "pepa": "user"}

CONFIG = """
[pod]
state_dir = "{state}"
stop_wait = "5s"
[jobs]
concurrency = 2
[auth]
tokens_file = "{state}/tokens"
[auth.roles.anonymous]
priority = 5
tasks = []
[auth.roles.user]
priority = 4
tasks = ["*"]
[auth.roles.admin]
admin = true
[[http]]
label = "web"
listen = "127.0.0.1:0"
[asexor]
[[asexor.raw]]
label = "raw"
listen = "127.0.0.1:0"
[[asexor.long_poll]]
label = "poll"
listen = "127.0.0.1:0"
poll_timeout = "3s"
[wamp]
realm = "realm1"
[[wamp.websocket]]
label = "wamp-ws"
listen = "127.0.0.1:0"
path = "/ws"
[[wamp.rawsocket]]
label = "wamp-raw"
listen = "127.0.0.1:0"
[[task]]
name = "date"
command = ["date", "{{utc}}", "{{format}}"]
result = "text"
[[task.args]]
name = "format"
prefix = "+"
default = "%d-%m-%Y %H:%M %Z"
[[task.args]]
name = "utc"
type = "bool"
style = "switch"
flag = "-u"
default = false
[[task]]
name = "sleep"
command = ["sleep"]
[[task.args]]
name = "seconds"
type = "float"
required = true
"""


class Corrald:
    """with Corrald() as d: d.port("raw") ..."""

    def __init__(self):
        self.state = tempfile.mkdtemp(prefix="corral-interop-")
        with open(os.path.join(self.state, "tokens"), "w") as f:
            for user, role in DEMO_USERS.items():  # ASEXOR's demo: the token is the user name
                f.write("%s:%s:sha256:%s\n" % (user, role, hashlib.sha256(user.encode()).hexdigest()))
        config = os.path.join(self.state, "corral.toml")
        with open(config, "w") as f:
            f.write(CONFIG.format(state=self.state))
        self.log = ""
        self._ready = threading.Event()
        self.proc = subprocess.Popen([os.environ["CORRALD"], "run", "-c", config],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(30):
            self.stop()
            raise RuntimeError("corrald did not get ready:\n" + self.log)

    def _read(self):
        for line in self.proc.stdout:
            self.log += line
            if "corrald is ready" in line:
                self._ready.set()

    def port(self, label):
        m = re.search(r"\(%s\) started: (?:https?://)?[0-9.]+:(\d+)" % re.escape(label), self.log)
        if not m:
            raise RuntimeError("no listener %s in:\n%s" % (label, self.log))
        return int(m.group(1))

    def wait_log(self, text, limit=10):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if text in self.log:
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        shutil.rmtree(self.state, ignore_errors=True)
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
