#!/usr/bin/python3
"""Interop check: describe and call a server through gRPC server reflection alone.

What grpcurl `list` / `describe` and buf curl do, with Python's grpcio and
protobuf and no .proto file of the server's: for each reflection version
(grpc.reflection.v1 and v1alpha) it lists the services, asks for the file
containing each one (file_containing_symbol), then for that file and every
file it depends on, transitively, by name (file_by_filename); loads all of
them into a fresh protobuf DescriptorPool, which checks them as protoc would;
finds every listed service there; and calls Health/Check, Health/List and
RouteGuide/GetFeature through message classes built from those descriptors.

The reflection protocol's own messages are declared below from the field
numbers the protocol fixes, so nothing here comes from the server under test
or from the copy of reflection.proto that ships with grpc-js's packages.

With --health-target (the server's --health-port), it checks that port too:
whatever reflection there lists must resolve the same way (serving no
reflection at all lists nothing), and Health/Check answers there.

    /usr/bin/python3 tests/interop/reflection_check.py --target 127.0.0.1:50051

Prints one "ok - ..." or "not ok - ..." line per check and a last line
"python reflection: N passed, M failed". Exit status: 0 when every check
passed, 1 when one failed, 2 on a usage error.
"""

import os
import queue
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import Report, UsageError, describe_error  # noqa: E402
from route_guide_check import DEFAULT_DB, Db, Parser  # noqa: E402

VERSIONS = ("v1", "v1alpha")
# Seconds one reflection session or one call may take before it counts as hung.
STEP_TIMEOUT = 10.0
NOT_FOUND = 5
HEALTH = "grpc.health.v1.Health"
ROUTE_GUIDE = "routeguide.RouteGuide"


# --------------------------------------------------------------------------
# The reflection protocol's messages


def message_class(pool, full_name):
    """The message class for a type in `pool` (protobuf 3.x and 4.x spell it differently)."""
    from google.protobuf import message_factory

    descriptor = pool.FindMessageTypeByName(full_name)
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def reflection_classes():
    """(request class, response class) for ServerReflectionInfo, both versions alike.

    Only the fields used here are declared; protobuf keeps the others as
    unknown fields. Numbers as in grpc/reflection/v1/reflection.proto.
    """
    from google.protobuf import descriptor_pb2, descriptor_pool

    F = descriptor_pb2.FieldDescriptorProto
    f = descriptor_pb2.FileDescriptorProto(
        name="reflection_check_client.proto", package="reflection_check", syntax="proto3")

    def message(name, fields, oneof=None):
        m = f.message_type.add(name=name)
        if oneof:
            m.oneof_decl.add(name=oneof)
        for field_name, number, kind, label, type_name in fields:
            field = m.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                field.type_name = ".reflection_check." + type_name
            if oneof and label == F.LABEL_OPTIONAL:
                field.oneof_index = 0

    one, many = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    message("Request", [
        ("file_by_filename", 3, F.TYPE_STRING, one, None),
        ("file_containing_symbol", 4, F.TYPE_STRING, one, None),
        ("list_services", 7, F.TYPE_STRING, one, None),
    ], oneof="message_request")
    message("FileDescriptorResponse", [("file_descriptor_proto", 1, F.TYPE_BYTES, many, None)])
    message("ServiceResponse", [("name", 1, F.TYPE_STRING, one, None)])
    message("ListServiceResponse", [("service", 1, F.TYPE_MESSAGE, many, "ServiceResponse")])
    message("ErrorResponse", [
        ("error_code", 1, F.TYPE_INT32, one, None),
        ("error_message", 2, F.TYPE_STRING, one, None),
    ])
    message("Response", [
        ("file_descriptor_response", 4, F.TYPE_MESSAGE, one, "FileDescriptorResponse"),
        ("list_services_response", 6, F.TYPE_MESSAGE, one, "ListServiceResponse"),
        ("error_response", 7, F.TYPE_MESSAGE, one, "ErrorResponse"),
    ], oneof="message_response")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return (message_class(pool, "reflection_check.Request"),
            message_class(pool, "reflection_check.Response"))


class ReflectionSession:
    """One ServerReflectionInfo stream: a request in, its response out, in turn."""

    def __init__(self, channel, version, classes):
        request_class, response_class = classes
        self.request_class = request_class
        self.requests = queue.Queue()
        call = channel.stream_stream(
            "/grpc.reflection.%s.ServerReflection/ServerReflectionInfo" % version,
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString)
        self.responses = call(iter(self.requests.get, None), timeout=STEP_TIMEOUT * 3)

    def ask(self, **request):
        self.requests.put(self.request_class(**request))
        return next(self.responses)

    def close(self):
        self.requests.put(None)
        self.responses.cancel()


# --------------------------------------------------------------------------
# Describing everything a server lists


def described_files(r, what, response):
    """The FileDescriptorProtos in a file_descriptor_response, or None (reported)."""
    from google.protobuf import descriptor_pb2

    kind = response.WhichOneof("message_response")
    if not r.check(kind == "file_descriptor_response" and
                   len(response.file_descriptor_response.file_descriptor_proto) > 0,
                   "%s answers with file descriptors" % what,
                   "got %s: %s" % (kind, response)):
        return None
    return [descriptor_pb2.FileDescriptorProto.FromString(b)
            for b in response.file_descriptor_response.file_descriptor_proto]


def defines_service(file, service):
    prefix = file.package + "." if file.package else ""
    return any(prefix + s.name == service for s in file.service)


def load_pool(r, label, files):
    """A fresh DescriptorPool with `files` (name -> proto) added, dependencies first."""
    from google.protobuf import descriptor_pool

    pool = descriptor_pool.DescriptorPool()
    added = set()

    def add(name, path):
        if name in added:
            return True
        if name in path:
            return r.check(False, "%s: %s has no import cycle" % (label, name),
                           " -> ".join(path + [name]))
        if not r.check(name in files, "%s: %s was returned" % (label, name),
                       "imported by %s but never sent" % (path[-1] if path else "?")):
            return False
        if not all([add(dep, path + [name]) for dep in files[name].dependency]):
            return False
        try:
            pool.Add(files[name])
            added.add(name)
            r.check(True, "%s: the descriptor pool accepts %s" % (label, name))
        except Exception as e:  # noqa: BLE001 - the pool's own words are the detail
            r.check(False, "%s: the descriptor pool accepts %s" % (label, name),
                    describe_error(e).replace("\n", " "))
            return False
        return True

    for name in sorted(files):
        add(name, [])
    return pool


def describe_all(r, channel, version, classes, where=""):
    """Lists, fetches and loads what one reflection version offers; (services, pool) or None."""
    label = "%sreflection %s" % (where, version)
    session = ReflectionSession(channel, version, classes)
    try:
        listed = session.ask(list_services="*")
        if not r.check(listed.WhichOneof("message_response") == "list_services_response",
                       "%s: list_services answers with a list" % label, str(listed)):
            return None
        services = [s.name for s in listed.list_services_response.service]
        r.check(len(set(services)) == len(services),
                "%s: no service is listed twice" % label, ", ".join(services))

        files = {}  # name -> FileDescriptorProto
        by_name = set()  # files asked for with file_by_filename
        for service in services:
            what = "%s: file_containing_symbol(%s)" % (label, service)
            got = described_files(r, what, session.ask(file_containing_symbol=service))
            if got is None:
                continue
            r.check(defines_service(got[0], service), "%s: the first file defines it" % what,
                    "first file %s (package %r) defines %s" % (
                        got[0].name, got[0].package, [s.name for s in got[0].service]))
            for file in got:
                files.setdefault(file.name, file)

        # Every file named so far, and what each imports, transitively, by name.
        wanted = sorted(files)
        while wanted:
            name = wanted.pop()
            if name in by_name:
                continue
            by_name.add(name)
            what = "%s: file_by_filename(%s)" % (label, name)
            got = described_files(r, what, session.ask(file_by_filename=name))
            if got is None:
                continue
            r.check(got[0].name == name, "%s: the first file is the one asked for" % what,
                    "got %s" % got[0].name)
            for file in got:
                files.setdefault(file.name, file)
                wanted.extend(dep for dep in file.dependency if dep not in by_name)

        missing = session.ask(file_by_filename="no/such/file.proto")
        r.check(missing.WhichOneof("message_response") == "error_response" and
                missing.error_response.error_code == NOT_FOUND,
                "%s: file_by_filename(no/such/file.proto) -> NOT_FOUND" % label, str(missing))
        again = session.ask(list_services="*")
        r.check([s.name for s in again.list_services_response.service] == services,
                "%s: the stream carries on after an error response" % label, str(again))
    finally:
        session.close()

    pool = load_pool(r, label, files)
    for service in services:
        try:
            found = pool.FindServiceByName(service)
        except KeyError as e:
            r.check(False, "%s: %s resolves in the loaded files" % (label, service), str(e))
            continue
        methods = ["%s(%s) -> %s" % (m.name, m.input_type.full_name, m.output_type.full_name)
                   for m in found.methods]
        r.check(len(methods) > 0, "%s: %s resolves: %s" % (label, service, "; ".join(methods)),
                "no methods")
    return services, pool


# --------------------------------------------------------------------------
# Calls through the descriptors alone


def call_unary(channel, pool, service, method, fields=None):
    """Calls service/method with a request built from `fields`; the decoded response."""
    found = pool.FindServiceByName(service).FindMethodByName(method)
    request_class = message_class(pool, found.input_type.full_name)
    response_class = message_class(pool, found.output_type.full_name)
    call = channel.unary_unary(
        "/%s/%s" % (service, method),
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString)
    return call(request_class(**(fields or {})), timeout=STEP_TIMEOUT)


def serving(pool):
    status = pool.FindEnumTypeByName("grpc.health.v1.HealthCheckResponse.ServingStatus")
    return status.values_by_name["SERVING"].number


def check_health(r, channel, label, pool):
    for name in ("", ROUTE_GUIDE):
        what = "%s: Health/Check(%r) through reflection -> SERVING" % (label, name)
        try:
            got = call_unary(channel, pool, HEALTH, "Check", {"service": name})
            r.check(got.status == serving(pool), what, "got %s" % got)
        except Exception as e:  # noqa: BLE001
            r.error(what, e)


def check_calls(r, channel, label, pool, db):
    check_health(r, channel, label, pool)
    what = "%s: Health/List through reflection (a map field) -> both SERVING" % label
    try:
        got = call_unary(channel, pool, HEALTH, "List")
        statuses = {name: entry.status for name, entry in got.statuses.items()}
        r.check(statuses == {"": serving(pool), ROUTE_GUIDE: serving(pool)}, what,
                "got %r" % statuses)
    except Exception as e:  # noqa: BLE001
        r.error(what, e)
    name, lat, lon = db.named()[0]
    what = "%s: RouteGuide/GetFeature(%d, %d) through reflection -> %r" % (label, lat, lon, name)
    try:
        got = call_unary(channel, pool, ROUTE_GUIDE, "GetFeature",
                         {"latitude": lat, "longitude": lon})
        r.check(got.name == name and (got.location.latitude, got.location.longitude) ==
                (lat, lon), what, "got %s" % got)
    except Exception as e:  # noqa: BLE001
        r.error(what, e)


def check_server(r, channel, classes, db):
    """Checks both reflection versions on the main port; the pools they built, by version."""
    listings = {}
    pools = {}
    for version in VERSIONS:
        label = "reflection %s" % version
        described = describe_all(r, channel, version, classes)
        if described is None:
            continue
        services, pool = described
        listings[version] = services
        pools[version] = pool
        for service in (ROUTE_GUIDE, HEALTH, "grpc.reflection.%s.ServerReflection" % version):
            r.check(service in services, "%s: lists %s" % (label, service), ", ".join(services))
        check_calls(r, channel, label, pool, db)
    if len(listings) == len(VERSIONS):
        r.check(sorted(listings["v1"]) == sorted(listings["v1alpha"]),
                "v1 and v1alpha list the same services", repr(listings))
    return pools


def check_health_port(r, grpc, channel, classes, pool):
    """The --health-port listener: lists only what it can describe; Check answers."""
    for version in VERSIONS:
        label = "health port reflection %s" % version
        try:
            described_or_none = describe_all(r, channel, version, classes, where="health port ")
        except grpc.RpcError as e:
            r.check(e.code() == grpc.StatusCode.UNIMPLEMENTED,
                    "%s: not served (UNIMPLEMENTED), so nothing is listed" % label,
                    describe_error(e))
            continue
        if described_or_none is not None:
            check_health(r, channel, label, described_or_none[1])
    if pool is not None:
        check_health(r, channel, "health port", pool)


# --------------------------------------------------------------------------


def run_against(r, grpc, target, check):
    """Connects to `target` and returns check(channel); None when it could not run."""
    # The target is local or named explicitly: never go through a proxy.
    channel = grpc.insecure_channel(target, options=[("grpc.enable_http_proxy", 0)])
    try:
        grpc.channel_ready_future(channel).result(timeout=STEP_TIMEOUT)
        r.check(True, "connected to %s" % target)
        return check(channel)
    except grpc.FutureTimeoutError:
        r.check(False, "connected to %s" % target, "not ready after %.0f s" % STEP_TIMEOUT)
    except Exception as e:  # noqa: BLE001
        r.error("the checks on %s" % target, e)
    finally:
        channel.close()
    return None


def main(argv):
    parser = Parser(description="Describe and call a server through gRPC reflection alone.")
    parser.add_argument("--target", required=True, help="HOST:PORT of the server (plaintext)")
    parser.add_argument("--health-target", help="HOST:PORT of its --health-port, if any")
    parser.add_argument("--db", default=DEFAULT_DB,
                        help="features JSON the server was started with (default: %(default)s)")
    args = parser.parse_args(argv)
    for flag, value in (("--target", args.target), ("--health-target", args.health_target)):
        if value is not None and ":" not in value:
            parser.error("%s must be HOST:PORT, got %r" % (flag, value))

    try:
        import grpc
        db = Db(args.db)
    except ImportError as e:
        sys.stderr.write("%s: apt-get install python3-grpcio and run with /usr/bin/python3\n" % e)
        return 2
    except UsageError as e:
        sys.stderr.write("%s\n" % e)
        return 2

    r = Report()
    classes = reflection_classes()
    pools = run_against(r, grpc, args.target, lambda channel: check_server(r, channel, classes, db))
    if args.health_target is not None:
        # The health port's Check gets its classes from the main port's reflection.
        pool = (pools or {}).get("v1")
        run_against(r, grpc, args.health_target,
                    lambda channel: check_health_port(r, grpc, channel, classes, pool))

    print("python reflection: %d passed, %d failed" % (r.passed, r.failed), flush=True)
    return 0 if r.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
