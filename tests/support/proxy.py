"""A loopback TCP proxy the test controls: put it between a service and a server to slow the
server's replies down or to cut the connection, as a network would.

    with Proxy(target_port) as proxy:     # listens on proxy.port
        proxy.delay_replies(0.4)          # each chunk from the server is held 0.4 s
        proxy.cut()                       # resets every connection and refuses new ones
        proxy.restore()                   # accepts (and forwards) again

Threads, not asyncio: a handful of connections, and the test keeps its plain blocking style.
"""
import socket
import struct
import threading
import time


class Proxy:
    def __init__(self, target_port, host="127.0.0.1"):
        self.target = (host, target_port)
        self.delay_s = 0.0
        self.cut_active = False
        self.cuts = 0
        self._lock = threading.Lock()
        self._conns = set()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(128)
        self.port = self._listener.getsockname()[1]
        self._closed = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        self._closed = True
        try:
            self._listener.close()
        except OSError:
            pass
        self._reset_all()

    def delay_replies(self, seconds):
        self.delay_s = seconds

    def cut(self):
        """Every open connection is reset (RST, as a dropped link ends up); new ones are reset at once."""
        with self._lock:
            self.cut_active = True
            self.cuts += 1
        self._reset_all()

    def restore(self):
        with self._lock:
            self.cut_active = False

    @staticmethod
    def _reset(sock):
        try:  # linger 0: close sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RD)  # wakes the pump thread blocked in recv on it
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass

    def _reset_all(self):
        with self._lock:
            conns, self._conns = self._conns, set()
        for c in conns:
            self._reset(c)

    def _accept_loop(self):
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = None
            if not self.cut_active:
                try:
                    server = socket.create_connection(self.target, timeout=2)
                    server.settimeout(None)
                except OSError:
                    server = None
            with self._lock:  # a cut() during the dial must not miss this pair
                admitted = server is not None and not self.cut_active
                if admitted:
                    self._conns.update((client, server))
            if not admitted:
                self._reset(client)
                if server is not None:
                    self._reset(server)
                continue
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, src, dst, is_reply):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if is_reply and self.delay_s > 0:
                    time.sleep(self.delay_s)
                if self.cut_active:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with self._lock:
                    self._conns.discard(s)
                self._reset(s)
