"""Schemathesis hooks for cluster/fuzz: a check that a refused request wrote nothing to Redis.

Redis publishes a keyspace event for every key a command modifies (and a `new` event for every
key it creates), synchronously, before it replies. This module keeps one subscribed connection
(`__keyevent@<db>__:*`) open for the whole run and drains it around each call with a PING
barrier (a subscribed connection answers PING in order, after the events queued before it), so
the events seen between `before_call` and `after_call` are the writes made while the request was
served, together with whatever the cluster did on its own meanwhile: the scheduler moving tasks
accepted earlier (their records, timelines and queues), lease renewals, heartbeats.

The check `refused_request_wrote_nothing` fails a case answered 4xx or 5xx during which
  1. a key was created, other than the scheduler's own queues, leases and membership;
  2. a key only requests write was modified: tenant config (settings, tokens, the door's rate
     state), the idempotency keys, the tenant's listing index, the slot's tenant set, desired
     states, join tokens and the record of issued certificates, the audit stream, the cluster hash;
  3. the door's live count of any tenant went up (the scheduler only ever lowers it).
Schemathesis runs it for every response once this file is named by SCHEMATHESIS_HOOKS.
"""

import os
import re
import socket
import threading

import schemathesis

# Keys the cluster may create on its own while a request is served.
CREATED_IN_BACKGROUND = re.compile(
    r"^ff:(\{s\d+\}:(lease|epoch|ingest|ready|delayed|inflight)|members|member:[^:]+)$"
)
# Keys nothing but a request (one that is carried out) writes.
WRITTEN_ONLY_BY_REQUESTS = re.compile(
    r"^ff:(audit|cluster|\{revocations\}:(serials|version)|\{s\d+\}:(idem|idemv|tenants|desired|t:[^:]+:(config|tasks|desired|desired:[^:]+|join:[0-9a-f]+|joins|certs)))$"
)


class _Connection:
    """A minimal RESP2 connection (the fuzz environment has no Redis client library)."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=5)
        self.buffer = b""

    def _send(self, *parts: str) -> None:
        out = [f"*{len(parts)}\r\n".encode()]
        for part in parts:
            data = part.encode()
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(out))

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the keyspace-event connection")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def _read_reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-", b":"):
            return rest.decode()
        if kind == b"$":
            length = int(rest)
            if length < 0:
                return None
            while len(self.buffer) < length + 2:
                self.buffer += self.sock.recv(65536)
            data, self.buffer = self.buffer[:length], self.buffer[length + 2:]
            return data.decode(errors="replace")
        if kind == b"*":
            return [self._read_reply() for _ in range(int(rest))]
        raise ValueError(f"unexpected RESP line {line!r}")



class _KeyEvents(_Connection):
    """A connection subscribed to every keyspace event of one database, read only at barriers."""

    def __init__(self, host: str, port: int, db: int) -> None:
        super().__init__(host, port)
        self.lock = threading.Lock()
        self._send("CONFIG", "SET", "notify-keyspace-events", "KEAn")
        self._read_reply()
        self._send("PSUBSCRIBE", f"__keyevent@{db}__:*")
        self._read_reply()

    def drain(self) -> list[tuple[str, str]]:
        """Every (event, key) published before now, in order."""
        with self.lock:
            self._send("PING", "barrier")
            events = []
            while True:
                reply = self._read_reply()
                if isinstance(reply, list) and reply[:1] == ["pong"]:
                    return events
                if isinstance(reply, list) and reply[:1] == ["pmessage"]:
                    channel, key = reply[2], reply[3]
                    events.append((channel.rsplit(":", 1)[-1], key))


class _Reader(_Connection):
    """A plain connection for reads between calls."""

    def __init__(self, host: str, port: int, db: int) -> None:
        super().__init__(host, port)
        self._send("SELECT", str(db))
        self._read_reply()

    def live_counts(self) -> dict[str, int]:
        """Every `<live key>/<tenant>` → its count."""
        self._send("KEYS", "ff:{s*}:live")
        counts = {}
        for key in self._read_reply() or []:
            self._send("HGETALL", key)
            pairs = self._read_reply() or []
            for tenant, value in zip(pairs[::2], pairs[1::2]):
                counts[f"{key}/{tenant}"] = int(value)
        return counts


_host = os.environ.get("FLUXFORGE_FUZZ_REDIS_HOST", "127.0.0.1")
_port = int(os.environ["FLUXFORGE_FUZZ_REDIS_PORT"])
_db = int(os.environ.get("FLUXFORGE_FUZZ_REDIS_DB", "0"))
_events = _KeyEvents(_host, _port, _db)
_reader = _Reader(_host, _port, _db)
_live_before: dict[str, int] = {}
_problems: dict[int, list[str]] = {}


@schemathesis.hook
def before_call(context, case, kwargs):
    _events.drain()
    _live_before.clear()
    _live_before.update(_reader.live_counts())


@schemathesis.hook
def after_call(context, case, response):
    problems = []
    for event, key in _events.drain():
        if event == "new" and not CREATED_IN_BACKGROUND.match(key):
            problems.append(f"created {key}")
        elif event not in ("new", "expired", "evicted") and WRITTEN_ONLY_BY_REQUESTS.match(key):
            problems.append(f"{event} {key}")
    for field, count in _reader.live_counts().items():
        if count > _live_before.get(field, 0):
            problems.append(f"live count {field} {_live_before.get(field, 0)} -> {count}")
    _problems[id(case)] = problems


@schemathesis.check
def refused_request_wrote_nothing(ctx, response, case):
    """A request answered 4xx or 5xx leaves Redis as it found it."""
    if response.status_code < 400:
        return None
    problems = _problems.get(id(case), [])
    if problems:
        raise AssertionError(
            f"answered {response.status_code} but wrote to Redis: " + "; ".join(problems[:8])
        )
    return None
