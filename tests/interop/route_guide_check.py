#!/usr/bin/python3
"""Interop check: drive a RouteGuide server with Python's grpcio.

An independent client for the RouteGuide contract in protos/route_guide.proto.
Stubs are generated at run time with grpc_tools.protoc into a temporary
directory (nothing generated is kept), then all four RPCs are called against
--target and every answer is compared with what this script works out by
itself from the feature database given by --db.

Run it with Debian's Python, which has the grpc packages:

    apt-get install python3-grpcio python3-grpc-tools
    /usr/bin/python3 tests/interop/route_guide_check.py --target 127.0.0.1:50051

Prints one "ok - ..." or "not ok - ..." line per check and a last line
"python interop: N passed, M failed". Exit status: 0 when every check passed,
1 when one failed, 2 on a usage error.
"""

import argparse
import collections
import importlib
import json
import math
import os
import queue
import random
import sys
import tempfile
import threading
import time
import traceback
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import Report, UsageError, describe_error, load_stubs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_PROTO = os.path.join(PROJECT, "protos", "route_guide.proto")
DEFAULT_DB = os.path.join(PROJECT, "data", "route_guide_db.json")

E7 = 1e7
EARTH_RADIUS_M = 6371000.0
MAX_LAT = 900000000
MAX_LON = 1800000000

# Seconds any single step may take before it counts as hung.
STEP_TIMEOUT = 10.0


# --------------------------------------------------------------------------
# Reporting


# --------------------------------------------------------------------------
# Expectations, computed here from the DB file


class Db:
    """The features file as the contract describes it.

    A missing name reads as "", a missing location or coordinate as 0; when a
    location repeats, the first entry wins.
    """

    def __init__(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                raw = json.load(f)
        except (OSError, ValueError) as e:
            raise UsageError("cannot read the feature database %s: %s" % (path, e))
        if not isinstance(raw, list):
            raise UsageError("%s: expected a JSON array of features" % path)
        self.features = []  # (name, lat, lon), first entry per location, file order
        self.name_at = {}  # (lat, lon) -> name
        for i, entry in enumerate(raw):
            if not isinstance(entry, dict):
                raise UsageError("%s: feature %d is not an object" % (path, i))
            name = entry.get("name") or ""
            loc = entry.get("location") or {}
            lat = int(loc.get("latitude") or 0)
            lon = int(loc.get("longitude") or 0)
            if (lat, lon) in self.name_at:
                continue
            self.name_at[(lat, lon)] = name
            self.features.append((name, lat, lon))
        if not self.features:
            raise UsageError("%s: the feature database is empty" % path)

    def named(self):
        return [f for f in self.features if f[0] != ""]

    def unnamed(self):
        return [f for f in self.features if f[0] == ""]

    def within(self, a, b):
        """Features inside the box with corners a and b (any order), edges included."""
        lat_lo, lat_hi = sorted((a[0], b[0]))
        lon_lo, lon_hi = sorted((a[1], b[1]))
        return [
            f for f in self.features
            if lat_lo <= f[1] <= lat_hi and lon_lo <= f[2] <= lon_hi
        ]

    def free_point_near(self, lat, lon):
        """A valid point close to (lat, lon) with no feature on it."""
        for step in range(1, 10000):
            for cand in ((lat + step, lon), (lat - step, lon), (lat, lon + step), (lat, lon - step)):
                if abs(cand[0]) <= MAX_LAT and abs(cand[1]) <= MAX_LON and cand not in self.name_at:
                    return cand
        raise RuntimeError("no free point found")


def haversine_m(a, b):
    """Great-circle distance in metres between two E7 points, as a float."""
    lat1 = math.radians(a[0] / E7)
    lat2 = math.radians(b[0] / E7)
    dlat = math.radians((b[0] - a[0]) / E7)
    dlon = math.radians((b[1] - a[1]) / E7)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.atan2(math.sqrt(h), math.sqrt(1 - h))


def spread(items, n):
    """Up to n items taken evenly across the list, in list order."""
    if len(items) <= n:
        return list(items)
    return [items[(i * len(items)) // n] for i in range(n)]


# --------------------------------------------------------------------------
# Stubs


# --------------------------------------------------------------------------
# Streaming helpers


class Reader:
    """Reads a response stream on a thread so the caller can wait with a timeout."""

    END = object()

    def __init__(self, call):
        self.call = call
        self.items = queue.Queue()
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for item in self.call:
                self.items.put(item)
        except Exception as e:  # noqa: BLE001 - handed to the caller
            self.error = e
        self.items.put(self.END)

    def next(self, timeout=STEP_TIMEOUT):
        """The next message, END at the end of the stream, or None on timeout."""
        try:
            return self.items.get(timeout=timeout)
        except queue.Empty:
            return None

    def rest(self, timeout=STEP_TIMEOUT):
        """Every remaining message, and whether the stream ended in time."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            item = self.next(max(0.0, deadline - time.monotonic()))
            if item is None:
                return got, False
            if item is self.END:
                return got, True
            got.append(item)


def note_key(note):
    return (note.location.latitude, note.location.longitude, note.message)


def point_key(p):
    return (p.latitude, p.longitude)


# --------------------------------------------------------------------------
# Checks


def check_get_feature(r, grpc, pb2, stub, db):
    points = [(f, "named") for f in spread(db.named(), 8)]
    points += [(f, "unnamed") for f in spread(db.unnamed(), 3)]
    for (name, lat, lon), kind in points:
        what = "GetFeature on %s DB point (%d, %d)" % (kind, lat, lon)
        try:
            got = stub.GetFeature(pb2.Point(latitude=lat, longitude=lon), timeout=STEP_TIMEOUT)
            r.check(got.name == name and point_key(got.location) == (lat, lon),
                    "%s -> %r" % (what, name),
                    "got name %r at %r" % (got.name, point_key(got.location)))
        except Exception as e:  # noqa: BLE001
            r.error(what, e)

    _, lat0, lon0 = db.features[0]
    for free in (db.free_point_near(lat0, lon0), db.free_point_near(-lat0 // 2, lon0 // 3)):
        what = "GetFeature on a point not in the DB %r" % (free,)
        try:
            got = stub.GetFeature(pb2.Point(latitude=free[0], longitude=free[1]),
                                  timeout=STEP_TIMEOUT)
            r.check(got.name == "" and got.HasField("location")
                    and point_key(got.location) == free,
                    "%s -> empty name, same location" % what,
                    "got name %r at %r" % (got.name, point_key(got.location)))
        except Exception as e:  # noqa: BLE001
            r.error(what, e)

    for field, point in (("latitude", pb2.Point(latitude=900000001, longitude=0)),
                         ("latitude", pb2.Point(latitude=-900000001, longitude=lon0)),
                         ("longitude", pb2.Point(latitude=lat0, longitude=1800000001))):
        what = "GetFeature(%d, %d) -> INVALID_ARGUMENT mentioning %s" % (
            point.latitude, point.longitude, field)
        try:
            got = stub.GetFeature(point, timeout=STEP_TIMEOUT)
            r.check(False, what, "succeeded with name %r at %r" % (
                got.name, point_key(got.location)))
        except grpc.RpcError as e:
            code, details = e.code(), e.details() or ""
            r.check(code == grpc.StatusCode.INVALID_ARGUMENT and field in details, what,
                    "got %s (%r)" % (code, details))
        except Exception as e:  # noqa: BLE001
            r.error(what, e)


def list_features(pb2, stub, a, b):
    rect = pb2.Rectangle(lo=pb2.Point(latitude=a[0], longitude=a[1]),
                         hi=pb2.Point(latitude=b[0], longitude=b[1]))
    return [(f.name, f.location.latitude, f.location.longitude)
            for f in stub.ListFeatures(rect, timeout=STEP_TIMEOUT)]


def compare_sets(got, expected):
    g, e = collections.Counter(got), collections.Counter(expected)
    if g == e:
        return None
    missing = list((e - g).elements())
    extra = list((g - e).elements())
    return "got %d, expected %d; missing %d %r; unexpected or repeated %d %r" % (
        len(got), len(expected), len(missing), missing[:3], len(extra), extra[:3])


def check_list_features(r, grpc, pb2, stub, db):
    # The whole box, corners reversed: lo is the north-east corner.
    ne, sw = (420000000, -730000000), (400000000, -750000000)
    what = "ListFeatures 40..42N -75..-73 with corners reversed"
    try:
        got = list_features(pb2, stub, ne, sw)
        expected = db.within(ne, sw)
        problem = compare_sets(got, expected)
        r.check(problem is None, "%s -> the %d DB features inside (DB has %d)" % (
            what, len(expected), len(db.features)), problem)
    except Exception as e:  # noqa: BLE001
        r.error(what, e)

    # Small boxes whose edge runs exactly through a feature.
    name, lat, lon = spread(db.named(), 3)[1 if len(db.named()) > 1 else 0]
    d = 10000  # 0.001 degree

    def clamp(p):
        return (max(-MAX_LAT, min(MAX_LAT, p[0])), max(-MAX_LON, min(MAX_LON, p[1])))

    boxes = [
        ("on its south edge", (lat, lon - d), (lat + d, lon + d)),
        ("on its north edge", (lat, lon + d), (lat - d, lon - d)),
        ("on its west edge", (lat + d, lon + d), (lat - d, lon)),
        ("on its east edge", (lat - d, lon), (lat + d, lon - d)),
        ("as both corners", (lat, lon), (lat, lon)),
    ]
    for label, a, b in boxes:
        a, b = clamp(a), clamp(b)
        what = "ListFeatures box %r..%r with %r %s" % (a, b, name, label)
        try:
            got = list_features(pb2, stub, a, b)
            problem = compare_sets(got, db.within(a, b))
            if problem is None and (name, lat, lon) not in got:
                problem = "the feature on the edge is missing"
            r.check(problem is None, what + " -> includes it", problem)
        except Exception as e:  # noqa: BLE001
            r.error(what, e)

    # One E7 unit further in, the feature is outside.
    a, b = clamp((lat + 1, lon - d)), clamp((lat + d, lon + d))
    what = "ListFeatures box %r..%r just north of %r" % (a, b, name)
    try:
        got = list_features(pb2, stub, a, b)
        problem = compare_sets(got, db.within(a, b))
        if problem is None and (name, lat, lon) in got:
            problem = "the feature south of the box was listed"
        r.check(problem is None, what + " -> excludes it", problem)
    except Exception as e:  # noqa: BLE001
        r.error(what, e)


def check_record_route(r, grpc, pb2, stub, db):
    unnamed = spread(db.unnamed(), 5)
    named = spread(db.named(), 20 - len(unnamed))
    route = [(f[1], f[2]) for f in db.features if f in unnamed or f in named]
    # Interleave differently from file order, reproducibly.
    random.Random(20240601).shuffle(route)
    free = db.free_point_near(route[0][0], route[0][1])
    route.insert(len(route) // 2, free)

    expected_features = sum(1 for p in route if db.name_at.get(p, "") != "")
    total = 0.0
    for a, b in zip(route, route[1:]):
        total += haversine_m(a, b)
    expected_distance = int(total)
    # Different but correct float code may land on the other side of a whole
    # metre only when the sum is within rounding error of one.
    frac = total - math.floor(total)
    near_integer = frac < 1e-6 or frac > 1 - 1e-6
    accepted = {expected_distance}
    if near_integer:
        accepted.add(int(round(total)))
        accepted.add(int(round(total)) - 1)

    what = "RecordRoute over %d points (%d named, %d unnamed, 1 not in the DB)" % (
        len(route), expected_features, len(route) - expected_features - 1)
    try:
        started = time.monotonic()
        summary = stub.RecordRoute(
            iter([pb2.Point(latitude=p[0], longitude=p[1]) for p in route]),
            timeout=STEP_TIMEOUT)
        took = time.monotonic() - started
        r.check(summary.point_count == len(route), "%s: point_count %d" % (what, len(route)),
                "got %d" % summary.point_count)
        r.check(summary.feature_count == expected_features,
                "%s: feature_count %d (named only)" % (what, expected_features),
                "got %d" % summary.feature_count)
        r.check(summary.distance in accepted,
                "%s: distance %d m (truncated haversine sum %.6f)" % (
                    what, expected_distance, total),
                "got %d" % summary.distance)
        r.check(summary.elapsed_time == 0 or took >= 1,
                "%s: elapsed_time 0 for a fast route (took %.3f s)" % (what, took),
                "got %d" % summary.elapsed_time)
    except Exception as e:  # noqa: BLE001
        r.error(what, e)

    what = "RecordRoute with no points -> all zero"
    try:
        summary = stub.RecordRoute(iter([]), timeout=STEP_TIMEOUT)
        got = (summary.point_count, summary.feature_count, summary.distance)
        r.check(got == (0, 0, 0), what, "got %r" % (got,))
    except Exception as e:  # noqa: BLE001
        r.error(what, e)


def check_route_chat(r, grpc, pb2, stub, db):
    rng = random.SystemRandom()
    while True:
        here = (rng.randint(-MAX_LAT, MAX_LAT), rng.randint(-MAX_LON, MAX_LON))
        if here not in db.name_at:
            break
    tag = uuid.uuid4().hex[:12]
    loc = pb2.Point(latitude=here[0], longitude=here[1])

    def note(text):
        return pb2.RouteNote(location=loc, message="%s %s" % (text, tag))

    a1, a2, b1, b2 = note("A1"), note("A2"), note("B1"), note("B2")
    a_stored = threading.Event()  # A's notes are on the server
    b_got_reply = threading.Event()  # B read the replies to B1
    release_a = threading.Event()  # A may half-close
    b_waited = {}

    def requests_a():
        yield a1
        yield a2
        release_a.wait(3 * STEP_TIMEOUT)

    def requests_b():
        if not a_stored.wait(STEP_TIMEOUT):
            return
        yield b1
        # Only send the next note once the reply to B1 came back.
        b_waited["in_time"] = b_got_reply.wait(STEP_TIMEOUT)
        b_waited["sent_b2"] = True
        yield b2

    where = "RouteChat at random location %r" % (here,)
    call_a = stub.RouteChat(requests_a(), timeout=6 * STEP_TIMEOUT)
    call_b = stub.RouteChat(requests_b(), timeout=6 * STEP_TIMEOUT)
    reader_a, reader_b = Reader(call_a), Reader(call_b)
    try:
        first = reader_a.next()
        ok = first is not None and first is not Reader.END and note_key(first) == note_key(a1)
        r.check(ok, "%s: stream A gets its first note back when it sends the second" % where,
                "got %r" % (first if first is None or first is Reader.END
                            else note_key(first),))
        a_stored.set()

        replies = []
        for _ in range(2):
            item = reader_b.next()
            if item is None or item is Reader.END:
                break
            replies.append(note_key(item))
        r.check(replies == [note_key(a1), note_key(a2)],
                "%s: stream B, open at the same time, receives A's two notes, oldest first" % where,
                "got %r" % (replies,))
        r.check("sent_b2" not in b_waited,
                "%s: B received the replies while it was still sending" % where,
                "B sent its next note before the replies arrived")
        b_got_reply.set()

        rest_b, ended_b = reader_b.rest()
        r.check([note_key(n) for n in rest_b] == [note_key(a1), note_key(a2), note_key(b1)]
                and ended_b and reader_b.error is None,
                "%s: B's second note gets A1, A2, B1 back, then B's stream ends OK" % where,
                "got %r, ended %s, error %s" % ([note_key(n) for n in rest_b], ended_b,
                                                reader_b.error and describe_error(reader_b.error)))
        r.check(b_waited.get("in_time") is True,
                "%s: B's request iterator saw the reply before sending B2" % where,
                "timed out waiting %.0f s for the reply" % STEP_TIMEOUT)

        release_a.set()
        rest_a, ended_a = reader_a.rest()
        r.check(rest_a == [] and ended_a and reader_a.error is None,
                "%s: A's stream ends OK with nothing more after B's notes" % where,
                "got %r, ended %s, error %s" % ([note_key(n) for n in rest_a], ended_a,
                                                reader_a.error and describe_error(reader_a.error)))
    except Exception as e:  # noqa: BLE001
        r.error(where, e)
    finally:
        a_stored.set()
        b_got_reply.set()
        release_a.set()
        call_a.cancel()
        call_b.cancel()


def check_cancellation(r, grpc, pb2, stub, db):
    what = "ListFeatures over the whole box cancelled after 1 message"
    try:
        rect = pb2.Rectangle(lo=pb2.Point(latitude=400000000, longitude=-750000000),
                             hi=pb2.Point(latitude=420000000, longitude=-730000000))
        call = stub.ListFeatures(rect, timeout=STEP_TIMEOUT)
        first = next(call)
        cancelled = call.cancel()
        after = 0
        code = None
        try:
            for _ in call:
                after += 1
        except grpc.RpcError as e:
            code = e.code()
        r.check(first.name != "" or first.HasField("location"),
                what + ": the first message is a feature", "got %r" % (first,))
        r.check(code == grpc.StatusCode.CANCELLED and call.code() == grpc.StatusCode.CANCELLED,
                what + " -> CANCELLED",
                "cancel() returned %s, iteration ended with %s after %d more, call.code() %s"
                % (cancelled, code, after, call.code()))
    except Exception as e:  # noqa: BLE001
        r.error(what, e)

    name, lat, lon = db.named()[0]
    what = "GetFeature still works after the cancellation"
    try:
        got = stub.GetFeature(pb2.Point(latitude=lat, longitude=lon), timeout=STEP_TIMEOUT)
        r.check(got.name == name, what, "got %r" % got.name)
    except Exception as e:  # noqa: BLE001
        r.error(what, e)


def check_deadlines(r, grpc, pb2, stub, db):
    release = threading.Event()

    def silent():
        # Sends nothing and does not half-close until released.
        release.wait(3 * STEP_TIMEOUT)
        return
        yield  # pragma: no cover - makes this a generator

    what = "RouteChat sending nothing with timeout=0.5 s -> DEADLINE_EXCEEDED"
    started = time.monotonic()
    try:
        got = list(stub.RouteChat(silent(), timeout=0.5))
        r.check(False, what, "ended OK with %d notes" % len(got))
    except grpc.RpcError as e:
        took = time.monotonic() - started
        r.check(e.code() == grpc.StatusCode.DEADLINE_EXCEEDED and took < STEP_TIMEOUT,
                "%s (after %.2f s)" % (what, took), "got %s (%r)" % (e.code(), e.details()))
    except Exception as e:  # noqa: BLE001
        r.error(what, e)

    what = "RecordRoute sending nothing with timeout=0.5 s -> DEADLINE_EXCEEDED"
    started = time.monotonic()
    try:
        summary = stub.RecordRoute(silent(), timeout=0.5)
        r.check(False, what, "ended OK with %r" % (summary,))
    except grpc.RpcError as e:
        took = time.monotonic() - started
        r.check(e.code() == grpc.StatusCode.DEADLINE_EXCEEDED and took < STEP_TIMEOUT,
                "%s (after %.2f s)" % (what, took), "got %s (%r)" % (e.code(), e.details()))
    except Exception as e:  # noqa: BLE001
        r.error(what, e)
    finally:
        release.set()

    name, lat, lon = db.named()[-1]
    what = "GetFeature still works after the deadlines"
    try:
        got = stub.GetFeature(pb2.Point(latitude=lat, longitude=lon), timeout=STEP_TIMEOUT)
        r.check(got.name == name, what, "got %r" % got.name)
    except Exception as e:  # noqa: BLE001
        r.error(what, e)


# --------------------------------------------------------------------------
# Main


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write("%s: error: %s\n" % (self.prog, message))
        sys.exit(2)


def main(argv):
    parser = Parser(description="Check a RouteGuide server with an independent Python client.")
    parser.add_argument("--target", required=True, help="HOST:PORT of the server")
    parser.add_argument("--db", default=DEFAULT_DB,
                        help="features JSON the server was started with (default: %(default)s)")
    parser.add_argument("--proto", default=DEFAULT_PROTO, help="default: %(default)s")
    args = parser.parse_args(argv)
    if ":" not in args.target:
        parser.error("--target must be HOST:PORT, got %r" % args.target)

    try:
        import grpc
    except ImportError:
        sys.stderr.write("grpc is missing: apt-get install python3-grpcio python3-grpc-tools "
                         "and run with /usr/bin/python3\n")
        return 2
    try:
        db = Db(args.db)
        with tempfile.TemporaryDirectory(prefix="rg_interop_stubs_") as stub_dir:
            pb2, pb2_grpc = load_stubs(args.proto, stub_dir)
    except UsageError as e:
        sys.stderr.write("%s\n" % e)
        return 2

    r = Report()
    # The target is local or named explicitly: never go through a proxy.
    channel = grpc.insecure_channel(args.target, options=[("grpc.enable_http_proxy", 0)])
    try:
        try:
            grpc.channel_ready_future(channel).result(timeout=STEP_TIMEOUT)
            r.check(True, "connected to %s" % args.target)
        except grpc.FutureTimeoutError:
            r.check(False, "connected to %s" % args.target,
                    "not ready after %.0f s" % STEP_TIMEOUT)
        else:
            stub = pb2_grpc.RouteGuideStub(channel)
            for check in (check_get_feature, check_list_features, check_record_route,
                          check_route_chat, check_cancellation, check_deadlines):
                try:
                    check(r, grpc, pb2, stub, db)
                except Exception as e:  # noqa: BLE001
                    r.error(check.__name__, e)
    finally:
        channel.close()

    print("python interop: %d passed, %d failed" % (r.passed, r.failed), flush=True)
    return 0 if r.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
