"""Shared pieces of the independent Python clients in this folder: the
checklist report, error descriptions, and protobuf stubs generated at run
time with grpc_tools.protoc (nothing generated is committed)."""

import importlib
import os
import sys
import traceback


class UsageError(Exception):
    """Bad command line or unreadable input: exit status 2."""


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, description, detail=None):
        if ok:
            self.passed += 1
            print("ok - %s" % description, flush=True)
        else:
            self.failed += 1
            line = "not ok - %s" % description
            if detail:
                line += ": %s" % detail
            print(line, flush=True)
        return ok

    def error(self, description, exc):
        """Counts an unexpected exception as a failed check."""
        self.failed += 1
        print("not ok - %s: unexpected %s" % (description, describe_error(exc)), flush=True)
        sys.stderr.write(traceback.format_exc())


def describe_error(exc):
    import grpc

    if isinstance(exc, grpc.RpcError) and hasattr(exc, "code"):
        try:
            return "RPC error %s (%r)" % (exc.code(), exc.details())
        except Exception:  # noqa: BLE001 - best effort description only
            pass
    return "%s: %s" % (type(exc).__name__, exc)


def load_stubs(proto_path, out_dir):
    try:
        from grpc_tools import protoc
    except ImportError:
        raise UsageError(
            "grpc_tools is missing: apt-get install python3-grpcio python3-grpc-tools "
            "and run with /usr/bin/python3")
    if not os.path.isfile(proto_path):
        raise UsageError("proto file not found: %s" % proto_path)
    proto_dir, proto_file = os.path.split(os.path.abspath(proto_path))
    rc = protoc.main([
        "grpc_tools.protoc",
        "--proto_path=" + proto_dir,
        "--python_out=" + out_dir,
        "--grpc_python_out=" + out_dir,
        proto_file,
    ])
    if rc != 0:
        raise UsageError("grpc_tools.protoc failed on %s (exit code %d)" % (proto_path, rc))
    base = os.path.splitext(proto_file)[0]
    sys.path.insert(0, out_dir)
    try:
        return importlib.import_module(base + "_pb2"), importlib.import_module(base + "_pb2_grpc")
    finally:
        sys.path.remove(out_dir)
