#!/usr/bin/python3
"""TLS interop check: Python's grpcio against a RouteGuide server over TLS.

An independent TLS client (grpcio's own TLS stack, not Deno's): stubs are
generated at run time with grpc_tools.protoc from protos/route_guide.proto into
a temporary directory (nothing generated is kept). Checks:

- over TLS (--tls-target, a server started with --tls-cert/--tls-key),
  GetFeature answers, trusting only --ca; a plaintext channel is refused;
- over mutual TLS (--mtls-target, a server that also has --tls-client-ca),
  GetFeature answers with the client certificate --cert/--key, and the call
  fails with UNAVAILABLE without a client certificate, with the
  self-signed --rogue-cert/--rogue-key when given, and with
  --server-only-cert/--server-only-key (a certificate of the same CA whose
  extendedKeyUsage is serverAuth only) when given.

Targets must name the host as the certificate does, e.g. localhost:PORT.

    /usr/bin/python3 tests/interop/tls_check.py --tls-target localhost:50051 \\
        --mtls-target localhost:50052 --ca ca.pem --cert client.pem --key client.key

Prints one "ok - ..." or "not ok - ..." line per check and a last line
"python tls: N passed, M failed". Exit status: 0 when every check passed,
1 when one failed, 2 on a usage error.
"""

import argparse
import importlib
import os
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import Report, UsageError, describe_error, load_stubs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_PROTO = os.path.join(PROJECT, "protos", "route_guide.proto")

# Seconds any single call may take.
CALL_TIMEOUT = 10.0

EMPIRE_STATE = (407484000, -739857000)
EMPIRE_STATE_NAME = "Empire State Building, New York, NY"

# No proxy, whatever the environment says: the servers are on this machine.
CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]


def read_bytes(path, what):
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise UsageError("cannot read the %s %s: %s" % (what, path, e))


def get_feature(pb2, pb2_grpc, channel):
    stub = pb2_grpc.RouteGuideStub(channel)
    point = pb2.Point(latitude=EMPIRE_STATE[0], longitude=EMPIRE_STATE[1])
    return stub.GetFeature(point, timeout=CALL_TIMEOUT)


def expect_feature(report, pb2, pb2_grpc, description, make_channel):
    try:
        with make_channel() as channel:
            feature = get_feature(pb2, pb2_grpc, channel)
        report.check(
            feature.name == EMPIRE_STATE_NAME
            and feature.location.latitude == EMPIRE_STATE[0]
            and feature.location.longitude == EMPIRE_STATE[1],
            description,
            "got %r at (%d, %d)" % (
                feature.name, feature.location.latitude, feature.location.longitude))
    except Exception as exc:  # noqa: BLE001 - reported as a failed check
        report.error(description, exc)


def expect_refused(report, pb2, pb2_grpc, description, make_channel):
    import grpc

    try:
        with make_channel() as channel:
            feature = get_feature(pb2, pb2_grpc, channel)
        report.check(False, description, "the call succeeded: %r" % feature.name)
    except grpc.RpcError as exc:
        code = exc.code() if hasattr(exc, "code") else None
        report.check(
            code == grpc.StatusCode.UNAVAILABLE,
            description,
            "expected UNAVAILABLE, got %s" % describe_error(exc))
    except Exception as exc:  # noqa: BLE001 - reported as a failed check
        report.error(description, exc)


def run(args):
    import grpc

    ca = read_bytes(args.ca, "CA certificate")
    cert = read_bytes(args.cert, "client certificate")
    key = read_bytes(args.key, "client key")
    rogue_cert = read_bytes(args.rogue_cert, "rogue certificate")
    rogue_key = read_bytes(args.rogue_key, "rogue key")
    server_only_cert = read_bytes(args.server_only_cert, "server-only certificate")
    server_only_key = read_bytes(args.server_only_key, "server-only key")

    report = Report()
    with tempfile.TemporaryDirectory(prefix="routeguide-tls-stubs-") as out_dir:
        pb2, pb2_grpc = load_stubs(args.proto, out_dir)

        def secure(target, credentials):
            return lambda: grpc.secure_channel(target, credentials, options=CHANNEL_OPTIONS)

        if args.tls_target:
            expect_feature(
                report, pb2, pb2_grpc,
                "TLS: GetFeature trusting only the test CA",
                secure(args.tls_target, grpc.ssl_channel_credentials(ca)))
            expect_refused(
                report, pb2, pb2_grpc,
                "TLS: a plaintext channel to the TLS port is refused",
                lambda: grpc.insecure_channel(args.tls_target, options=CHANNEL_OPTIONS))

        if args.mtls_target:
            expect_feature(
                report, pb2, pb2_grpc,
                "mTLS: GetFeature with a client certificate signed by the CA",
                secure(args.mtls_target, grpc.ssl_channel_credentials(ca, key, cert)))
            expect_refused(
                report, pb2, pb2_grpc,
                "mTLS: no client certificate is refused",
                secure(args.mtls_target, grpc.ssl_channel_credentials(ca)))
            refused = [
                ("a self-signed client certificate", rogue_cert, rogue_key),
                ("a serverAuth-only certificate of the same CA", server_only_cert,
                 server_only_key),
            ]
            for what, bad_cert, bad_key in refused:
                if bad_cert is not None and bad_key is not None:
                    expect_refused(
                        report, pb2, pb2_grpc,
                        "mTLS: %s is refused" % what,
                        secure(args.mtls_target,
                               grpc.ssl_channel_credentials(ca, bad_key, bad_cert)))
            # The server still serves good clients after refusing the others.
            expect_feature(
                report, pb2, pb2_grpc,
                "mTLS: GetFeature with the good certificate again",
                secure(args.mtls_target, grpc.ssl_channel_credentials(ca, key, cert)))

    print("python tls: %d passed, %d failed" % (report.passed, report.failed), flush=True)
    return 0 if report.failed == 0 else 1


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def main(argv):
    parser = Parser(description=__doc__.split("\n")[0])
    parser.add_argument("--tls-target", help="HOST:PORT of a TLS server")
    parser.add_argument("--mtls-target", help="HOST:PORT of a server requiring client certs")
    parser.add_argument("--ca", required=True, help="CA certificate (PEM) to trust")
    parser.add_argument("--cert", help="client certificate (PEM), for --mtls-target")
    parser.add_argument("--key", help="client private key (PEM), for --mtls-target")
    parser.add_argument("--rogue-cert", help="a client certificate the server must refuse")
    parser.add_argument("--rogue-key", help="its private key")
    parser.add_argument("--server-only-cert",
                        help="a CA-signed certificate for serverAuth only, which must be refused")
    parser.add_argument("--server-only-key", help="its private key")
    parser.add_argument("--proto", default=DEFAULT_PROTO, help="default: %(default)s")
    try:
        args = parser.parse_args(argv)
        if not args.tls_target and not args.mtls_target:
            raise UsageError("give --tls-target, --mtls-target or both")
        if args.mtls_target and (args.cert is None or args.key is None):
            raise UsageError("--mtls-target needs --cert and --key")
        return run(args)
    except UsageError as e:
        print("usage error: %s" % e, file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
