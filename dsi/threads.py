"""Blocking work off eventlet's event loop. Native work that releases the GIL (a search index), or pure Python
that would hold the loop for seconds (the gazetteer's build), runs on an OS thread of eventlet's pool when
eventlet runs the process, so that its other green threads keep answering."""
import eventlet
from eventlet import tpool

_os_threading = eventlet.patcher.original("threading")
_this_thread = _os_threading.local()  # per OS thread, even where eventlet patched `threading`


def off_the_loop(work):
    """`work()` on an OS thread when eventlet runs the process; called directly anywhere else, and on such a thread
    already (work made of several steps takes one hop, not one per step)."""
    if eventlet.patcher.is_monkey_patched("thread") and not getattr(_this_thread, "off_the_loop", False):
        return tpool.execute(_marked_off_the_loop, work)
    return work()


def _marked_off_the_loop(work):
    _this_thread.off_the_loop = True
    try:
        return work()
    finally:
        _this_thread.off_the_loop = False


def os_lock():
    """A lock between OS threads (eventlet's patched one only orders green threads of one OS thread). Take it only
    off the loop: waiting for it on the loop would stop every green thread."""
    return _os_threading.Lock()
