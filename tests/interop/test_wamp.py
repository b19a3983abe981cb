"""The built-in WAMP router with python3-autobahn, a third-party WAMP client from Debian: ticket
authentication, the task procedure and its update events, and clients using the router among
themselves (publish/subscribe, register/call)."""
import asyncio
import unittest

from autobahn.asyncio import rawsocket
from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import ComponentConfig, PublishOptions

from corrald import Corrald

RUN_TASK = "eu.zderadicka.asexor.run_task"
TASK_UPDATE = "eu.zderadicka.asexor.task_update"

# Debian 12's autobahn 22.7: its asyncio RawSocket protocol lacks the transport_details property its
# own session code reads on WELCOME (fixed in later autobahn); without this no RawSocket client joins.
if not hasattr(rawsocket.WampRawSocketMixinGeneral, "transport_details"):
    rawsocket.WampRawSocketMixinGeneral.transport_details = property(lambda self: self._transport_details)


class Client(ApplicationSession):
    def __init__(self, user, ticket):
        super().__init__(ComponentConfig(realm="realm1"))
        self.user, self.ticket = user, ticket
        self.joined = asyncio.get_event_loop().create_future()
        self.left = asyncio.get_event_loop().create_future()

    def onConnect(self):
        self.join("realm1", ["ticket"], self.user)

    def onChallenge(self, challenge):
        return self.ticket

    def onJoin(self, details):
        self.joined.set_result(details)

    def onLeave(self, details):
        if not self.joined.done():
            self.joined.set_exception(RuntimeError(details.reason))
        if not self.left.done():
            self.left.set_result(details)
        self.disconnect()


class Wamp(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        cls.corrald = Corrald()

    @classmethod
    def tearDownClass(cls):
        cls.corrald.stop()

    async def connect(self, user, ticket=None, raw=False):
        session = Client(user, ticket or user)
        loop = asyncio.get_running_loop()
        if raw:
            factory = rawsocket.WampRawSocketClientFactory(lambda: session)
            await loop.create_connection(factory, "127.0.0.1", self.corrald.port("wamp-raw"))
        else:
            port = self.corrald.port("wamp-ws")
            factory = WampWebSocketClientFactory(lambda: session, url="ws://127.0.0.1:%d/ws" % port)
            await loop.create_connection(factory, "127.0.0.1", port)
        await asyncio.wait_for(asyncio.shield(session.joined), 10)
        self.addAsyncCleanup(self.leave, session)
        return session

    async def leave(self, session):
        if session.is_attached():
            session.leave()
            await asyncio.wait_for(session.left, 10)

    async def run_task_and_follow(self, session):
        updates = asyncio.Queue()

        def on_update(task_id, status=None, **kwargs):
            updates.put_nowait((task_id, status, kwargs))
        await session.subscribe(on_update, TASK_UPDATE)
        task_id = await session.call(RUN_TASK, "date", "%Y %Z", utc=True)
        seen = []
        while not seen or seen[-1][1] not in ("success", "error"):
            seen.append(await asyncio.wait_for(updates.get(), 10))
        return task_id, seen

    async def test_a_ticket_session_runs_a_task_and_gets_its_updates(self):
        session = await self.connect("user")
        task_id, seen = await self.run_task_and_follow(session)
        self.assertEqual([s for _, s, _ in seen], ["started", "success"])
        self.assertTrue(all(t == task_id for t, _, _ in seen))
        self.assertTrue(seen[-1][2]["result"].endswith(" UTC"))

    async def test_over_rawsocket_too(self):
        session = await self.connect("user", raw=True)
        task_id, seen = await self.run_task_and_follow(session)
        self.assertEqual([s for _, s, _ in seen], ["started", "success"])

    async def test_a_bad_ticket_or_someone_elses_is_refused(self):
        for user, ticket in (("user", "wrong"), ("admin", "user")):
            session = Client(user, ticket)
            port = self.corrald.port("wamp-ws")
            factory = WampWebSocketClientFactory(lambda: session, url="ws://127.0.0.1:%d/ws" % port)
            await asyncio.get_running_loop().create_connection(factory, "127.0.0.1", port)
            with self.assertRaises(RuntimeError) as refused:
                await asyncio.wait_for(session.joined, 10)
            self.assertEqual(str(refused.exception), "wamp.error.authentication_failed")

    async def test_task_errors_are_application_errors(self):
        session = await self.connect("anonymous")
        with self.assertRaises(ApplicationError) as refused:
            await session.call(RUN_TASK, "date")
        self.assertEqual(refused.exception.error, "wamp.error.runtime_error")
        self.assertEqual(refused.exception.args[0], "Not authorised to run date")

    async def test_updates_go_only_to_the_session_that_ran_the_task(self):
        runner = await self.connect("user")
        other = await self.connect("user")
        stray = asyncio.Queue()
        await other.subscribe(lambda *a, **k: stray.put_nowait(a), TASK_UPDATE)
        await self.run_task_and_follow(runner)
        await asyncio.sleep(0.3)
        self.assertTrue(stray.empty())
        with self.assertRaises(ApplicationError) as refused:
            await other.publish(TASK_UPDATE, 1, status="success", options=PublishOptions(acknowledge=True))
        self.assertEqual(refused.exception.error, "wamp.error.not_authorized")

    async def test_clients_publish_and_subscribe_among_themselves(self):
        a = await self.connect("user")
        b = await self.connect("pepa")
        got = asyncio.Queue()
        await a.subscribe(lambda *args, **kwargs: got.put_nowait((args, kwargs)), "com.example.news")
        await b.publish("com.example.news", "hello", 2, more=True, options=PublishOptions(acknowledge=True))
        self.assertEqual(await asyncio.wait_for(got.get(), 10), (("hello", 2), {"more": True}))

    async def test_clients_offer_procedures_to_each_other(self):
        callee = await self.connect("user")
        caller = await self.connect("pepa")
        await callee.register(lambda x, y: x + y, "com.example.add")
        self.assertEqual(await caller.call("com.example.add", 2, 3), 5)

        def fails():
            raise ApplicationError("com.example.oops", "no")
        await callee.register(fails, "com.example.fails")
        with self.assertRaises(ApplicationError) as failed:
            await caller.call("com.example.fails")
        self.assertEqual(failed.exception.error, "com.example.oops")
        with self.assertRaises(ApplicationError) as missing:
            await caller.call("com.example.nobody")
        self.assertEqual(missing.exception.error, "wamp.error.no_such_procedure")


if __name__ == "__main__":
    unittest.main()
