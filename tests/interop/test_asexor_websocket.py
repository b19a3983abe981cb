"""ASEXOR's WebSocket protocol with python3-websockets, a third-party client from Debian."""
import asyncio
import json
import unittest

import websockets

from corrald import Corrald


class AsexorWebSocket(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        cls.corrald = Corrald()
        cls.url = "ws://127.0.0.1:%d/ws" % cls.corrald.port("web")

    @classmethod
    def tearDownClass(cls):
        cls.corrald.stop()

    async def receive(self, ws):
        return json.loads(await asyncio.wait_for(ws.recv(), 10))

    async def test_a_call_gets_its_reply_then_updates_ending_in_its_result(self):
        async with websockets.connect(self.url + "?token=user") as ws:
            await ws.send(json.dumps([1, "date", {"args": ["%Y %Z"], "kwargs": {"utc": True}}]))
            reply = await self.receive(ws)
            self.assertEqual(reply[:2], ["r", 1])
            started = await self.receive(ws)
            self.assertEqual(started, ["m", 1, {"status": "started", "task_id": reply[2]}])
            done = await self.receive(ws)
            self.assertEqual(done[2]["status"], "success")
            self.assertTrue(done[2]["result"].endswith(" UTC"), done)
            self.assertGreaterEqual(done[2]["duration"], 0)

    async def test_without_a_valid_token_the_upgrade_is_refused_with_401(self):
        for query in ("", "?token=nobody"):
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as refused:
                async with websockets.connect(self.url + query):
                    pass
            self.assertEqual(refused.exception.status_code, 401)

    async def test_errors_are_asexors_messages_without_a_stack(self):
        async with websockets.connect(self.url + "?token=anonymous") as ws:
            await ws.send(json.dumps([5, "date", {}]))
            self.assertEqual(await self.receive(ws), ["e", 5, "Not authorised to run date", None])
            await ws.send(json.dumps([3]))
            self.assertEqual(await self.receive(ws),
                             ["e", 3, "not enough values to unpack (expected 3, got 1)", None])

    async def test_a_named_session_replays_its_updates_to_the_next_connection(self):
        async with websockets.connect(self.url + "?token=user&session_id=replay") as ws:
            await ws.send(json.dumps([9, "sleep", {"args": [0.5]}]))
            reply = await self.receive(ws)
            self.assertEqual(reply[0], "r")
        await asyncio.sleep(1)
        async with websockets.connect(self.url + "?token=user&session_id=replay") as ws:
            statuses = []
            while not statuses or statuses[-1] != "success":
                m = await self.receive(ws)
                self.assertEqual(m[1], 9)
                self.assertEqual(m[2]["task_id"], reply[2])
                statuses.append(m[2]["status"])
            self.assertIn(statuses, (["started", "success"], ["success"]))

    async def test_a_second_connection_replaces_the_first_with_code_1000(self):
        first = await websockets.connect(self.url + "?token=user&session_id=twice")
        second = await websockets.connect(self.url + "?token=user&session_id=twice")
        with self.assertRaises(websockets.exceptions.ConnectionClosed):
            await asyncio.wait_for(first.recv(), 10)
        self.assertEqual(first.close_code, 1000)
        self.assertEqual(first.close_reason, "Closing session twice replaced or timeout")
        await second.close()


if __name__ == "__main__":
    unittest.main()
