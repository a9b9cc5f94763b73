"""Rate limits count by client address; a client must not be able to pick its own."""
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.common.ratelimit import client_address


def request_from(remote_addr, forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return Request(EnvironBuilder(headers=headers, environ_base={"REMOTE_ADDR": remote_addr}).get_environ())


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored():
    assert client_address(request_from("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_behind_one_proxy_the_address_it_saw_counts_not_what_the_client_wrote():
    spoofed = request_from("10.0.0.2", "198.51.100.1, 203.0.113.9")  # the client wrote the first entry
    assert client_address(spoofed, proxy_hops=1) == "203.0.113.9"


def test_a_request_that_bypassed_the_proxy_counts_by_its_own_address():
    assert client_address(request_from("203.0.113.9"), proxy_hops=1) == "203.0.113.9"
