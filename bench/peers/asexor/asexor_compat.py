"""NOT corral code: a shim that lets ASEXOR's own 2017 Python code (izderadicka/asexor, Python 3.5
and aiohttp 2) run unmodified on Debian 12's Python 3.11 and aiohttp 3.8, so that its clients (and
its backend, as the benchmarks' peer) can be run against corral. It patches the library, never
ASEXOR's files; research/seeds-inventory.md §4.7 lists what broke and why.

Use: python3 run_asexor.py ASEXOR_CHECKOUT/test/dummy_client.py -n 10 user [--use-raw|--use-long-poll]
"""
import asyncio
import functools
import inspect
import types

# asyncio.coroutine was removed in 3.11; Task.current_task in 3.9.
if not hasattr(asyncio, "coroutine"):
    def _coroutine(fn):
        return fn if inspect.iscoroutinefunction(fn) else types.coroutine(fn)
    asyncio.coroutine = _coroutine
if not hasattr(asyncio.Task, "current_task"):
    # A C type: its attributes cannot be set, so asyncio.Task becomes a subclass that has it.
    asyncio.Task = type("Task", (asyncio.Task,), {"current_task": staticmethod(asyncio.current_task)})


def _drop_loop(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        kwargs.pop("loop", None)
        return fn(*args, **kwargs)
    return wrapper


# `loop=` arguments were removed in 3.10.
for _name in ("sleep", "wait_for", "ensure_future", "gather", "open_connection", "start_server",
              "open_unix_connection", "start_unix_server"):
    setattr(asyncio, _name, _drop_loop(getattr(asyncio, _name)))
for _cls in ("Queue", "PriorityQueue", "Semaphore", "Event", "Lock"):
    _base = getattr(asyncio, _cls)
    setattr(asyncio, _cls, type(_cls, (_base,), {"__init__": _drop_loop(_base.__init__)}))

# The demo binds 0.0.0.0; here every server listens on loopback only.
_create_server = asyncio.base_events.BaseEventLoop.create_server


async def _create_server_on_loopback(self, factory, host=None, *args, **kwargs):
    if host in (None, "", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return await _create_server(self, factory, host, *args, **kwargs)
asyncio.base_events.BaseEventLoop.create_server = _create_server_on_loopback

_wait = asyncio.wait


async def _wait_accepting_coroutines(fs, *args, **kwargs):
    # asyncio.wait no longer takes bare coroutines (3.11).
    kwargs.pop("loop", None)
    fs = [asyncio.ensure_future(f) if inspect.iscoroutine(f) else f for f in fs]
    return await _wait(fs, *args, **kwargs)
asyncio.wait = _wait_accepting_coroutines

try:
    import aiohttp

    # ClientSession(loop=...) is refused by aiohttp 3.8 outside a running loop.
    aiohttp.ClientSession.__init__ = _drop_loop(aiohttp.ClientSession.__init__)
    # send_str became a coroutine in aiohttp 3: ASEXOR calls it without await, so the message
    # would never be sent. Fire and forget, as aiohttp 2 did.
    _send_str = aiohttp.ClientWebSocketResponse.send_str

    def _send_str_now(self, data, compress=None):
        return asyncio.ensure_future(_send_str(self, data, compress))
    aiohttp.ClientWebSocketResponse.send_str = _send_str_now
    aiohttp.ClientWebSocketResponse.__bool__ = lambda self: True
    from aiohttp import web

    # An open server WebSocketResponse is an empty MutableMapping, hence falsy: `if not ws` broke.
    web.WebSocketResponse.__bool__ = lambda self: True
    _server_send_str = web.WebSocketResponse.send_str

    def _server_send_str_now(self, data, compress=None):
        return asyncio.ensure_future(_server_send_str(self, data, compress))
    web.WebSocketResponse.send_str = _server_send_str_now
except ImportError:
    pass

try:
    # Debian 12's autobahn 22.7: the asyncio RawSocket protocol lacks the transport_details property
    # its own session code reads on WELCOME (fixed in later autobahn), so no RawSocket client can join.
    from autobahn.asyncio import rawsocket as _rawsocket

    if not hasattr(_rawsocket.WampRawSocketMixinGeneral, "transport_details"):
        _rawsocket.WampRawSocketMixinGeneral.transport_details = property(lambda self: self._transport_details)
except ImportError:
    pass
