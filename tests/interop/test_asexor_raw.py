"""ASEXOR's raw socket: a client written here with python3-cbor2 (Debian's CBOR library), speaking
the 4-byte framing and the token handshake."""
import socket
import struct
import unittest

import cbor2

from corrald import Corrald


class RawClient:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""

    def send_frame(self, payload, frame_type=0):
        header = struct.pack(">I", len(payload))
        self.sock.sendall(bytes([header[0] | frame_type]) + header[1:] + payload)

    def frame(self):
        while True:
            if len(self.buffer) >= 4:
                length = struct.unpack(">I", b"\0" + self.buffer[1:4])[0]
                if len(self.buffer) >= 4 + length:
                    frame_type = self.buffer[0] & 7
                    payload = self.buffer[4:4 + length]
                    self.buffer = self.buffer[4 + length:]
                    return frame_type, payload
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk

    def handshake(self, token):
        self.send_frame(token.encode())
        answer = self.frame()
        return answer[1] if answer else None

    def call(self, message):
        self.send_frame(cbor2.dumps(message))

    def message(self):
        frame_type, payload = self.frame()
        assert frame_type == 0
        return cbor2.loads(payload)


class AsexorRawSocket(unittest.TestCase):
    def client(self):
        c = RawClient(self.port)
        self.addCleanup(c.sock.close)
        return c

    @classmethod
    def setUpClass(cls):
        cls.corrald = Corrald()
        cls.port = cls.corrald.port("raw")

    @classmethod
    def tearDownClass(cls):
        cls.corrald.stop()

    def test_calls_in_cbor_get_a_reply_then_updates(self):
        c = self.client()
        self.assertEqual(c.handshake("user"), b"\x00")
        c.call([1, "date", {"args": ["%Y"], "kwargs": {"utc": True}}])
        reply = c.message()
        self.assertEqual(reply[:2], ["r", 1])
        self.assertEqual(c.message(), ["m", 1, {"status": "started", "task_id": reply[2]}])
        done = c.message()
        self.assertEqual(done[2]["status"], "success")
        self.assertEqual(done[2]["task_id"], reply[2])
        c.call([2, "sleep", {"args": ["a"]}])
        error = c.message()
        self.assertEqual(error[:2], ["e", 2])
        self.assertIsNone(error[3])

    def test_a_bad_token_is_answered_with_one_and_the_connection_closes(self):
        c = self.client()
        self.assertEqual(c.handshake("nobody"), b"\x01")
        self.assertIsNone(c.frame())

    def test_a_ping_gets_a_pong_with_its_payload(self):
        c = self.client()
        self.assertEqual(c.handshake("user"), b"\x00")
        c.send_frame(b"are you there", frame_type=1)
        self.assertEqual(c.frame(), (2, b"are you there"))


if __name__ == "__main__":
    unittest.main()
