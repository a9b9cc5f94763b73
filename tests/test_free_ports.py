"""The ports tests and benches give their servers: free, and out of reach of any process's outgoing connections,
which the kernel gives ports of its ephemeral range (a port found free there could be taken before it is bound)."""
import socket
from pathlib import Path

import pytest

from tests.processes import FEWEST_BELOW, FIRST_PORT, free_port, free_port_block


def test_a_free_port_lies_below_the_ephemeral_range_and_can_be_bound():
    ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    if ephemeral < FEWEST_BELOW:
        pytest.skip(f"the ephemeral range starts at {ephemeral}: too few ports below it to keep to")
    ports = [free_port() for _ in range(50)]
    assert all(FIRST_PORT <= port < ephemeral for port in ports)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports[0]))


def test_a_block_of_ports_is_free_end_to_end():
    first = free_port_block(4)
    sockets = [socket.socket() for _ in range(4)]
    try:
        for offset, sock in enumerate(sockets):
            sock.bind(("127.0.0.1", first + offset))
    finally:
        for sock in sockets:
            sock.close()
