"""ASEXOR's HTTP long-poll with Python's own HTTP client and cookie jar."""
import http.cookiejar
import json
import threading
import time
import unittest
import urllib.error
import urllib.request

from corrald import Corrald


class Poller:
    def __init__(self, port, token):
        self.url = "http://127.0.0.1:%d/" % port
        self.token = token
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, method, body=None, bearer=False):
        headers = {"Content-Type": "application/json"}
        if bearer:
            headers["Authorization"] = "Bearer " + self.token
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url, data=data, headers=headers, method=method)
        with self.opener.open(req, timeout=20) as r:
            return json.loads(r.read())


class AsexorLongPoll(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.corrald = Corrald()
        cls.port = cls.corrald.port("poll")

    @classmethod
    def tearDownClass(cls):
        cls.corrald.stop()

    def test_without_a_session_or_a_token_it_is_401(self):
        p = Poller(self.port, "user")
        with self.assertRaises(urllib.error.HTTPError) as refused:
            p.request("POST", [1, "sleep", {"args": [0]}])
        self.assertEqual(refused.exception.code, 401)

    def test_calls_are_posted_and_their_updates_polled(self):
        p = Poller(self.port, "user")
        self.assertEqual(p.request("GET", bearer=True), [])
        cookie = [c for c in p.jar if c.name == "ASEXOR_LP_SESSION"]
        self.assertEqual(len(cookie), 1)
        self.assertEqual(len(cookie[0].value), 40)
        reply = p.request("POST", [7, "sleep", {"args": [0.2]}])
        self.assertEqual(reply[:2], ["r", 7])
        statuses = []
        while not statuses or statuses[-1] != "success":
            for m in p.request("GET"):
                self.assertEqual(m[:2], ["m", 7])
                self.assertEqual(m[2]["task_id"], reply[2])
                statuses.append(m[2]["status"])
        self.assertEqual(statuses, ["started", "success"])
        self.assertEqual(p.request("POST", {}), ["e", 0, "not enough values to unpack (expected 3, got 0)", None])

    def test_a_poll_waits_for_an_update_and_a_get_with_credentials_releases_it(self):
        p = Poller(self.port, "user")
        p.request("GET", bearer=True)
        waited = {}

        def poll():
            t0 = time.monotonic()
            waited["messages"] = p.request("GET")
            waited["seconds"] = time.monotonic() - t0
        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.3)
        self.assertEqual(p.request("GET", bearer=True), [])
        t.join()
        self.assertEqual(waited["messages"], [])
        self.assertLess(waited["seconds"], 2.5, "released before its 3 s timeout")


if __name__ == "__main__":
    unittest.main()
