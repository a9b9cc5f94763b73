"""The local SMTP sink behaves like a real MTA when a client vanishes mid-conversation: a message whose final
dot arrived is kept, reply read or not; a message cut off before its final dot is dropped."""
import smtplib
import socket

from tests.newsletter.conftest import wait_until


def converse(port: int, to: str, body: bytes, final_dot: bool) -> None:
    """Speak SMTP up to the body, then hang up without reading the server's answer to it."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        replies = sock.makefile("rb")

        def command(line: bytes, expected: bytes) -> None:
            if line:
                sock.sendall(line + b"\r\n")
            reply = replies.readline()
            while reply[3:4] == b"-":  # a multi-line reply
                reply = replies.readline()
            assert reply.startswith(expected), reply

        command(b"", b"220")
        command(b"EHLO test", b"250")
        command(b"MAIL FROM:<newsletter@dsi.test>", b"250")
        command(f"RCPT TO:<{to}>".encode(), b"250")
        command(b"DATA", b"354")
        sock.sendall(body + (b".\r\n" if final_dot else b""))
        # closing now: the body is in flight and its answer unread, as when a sender is killed


def test_a_message_whose_final_dot_arrived_is_kept_though_the_client_hung_up(sink):
    converse(sink.port, "cut@example.org", b"Subject: cut\r\n\r\nNo final dot.\r\n", final_dot=False)
    for number in range(20):
        converse(sink.port, f"whole{number}@example.org", b"Subject: whole\r\n\r\nDelivered.\r\n", final_dot=True)
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as client:  # the sink still serves the next client
        client.sendmail("newsletter@dsi.test", ["next@example.org"], b"Subject: next\r\n\r\nHello.\r\n")

    assert wait_until(lambda: sink.count() >= 21, 10)
    received = sorted(m["X-Sink-Rcpt-To"] for m in sink.messages())
    assert received == sorted([f"whole{n}@example.org" for n in range(20)] + ["next@example.org"])
    assert all(m.get_content().strip() in ("Delivered.", "Hello.") for m in sink.messages())
