#!/usr/bin/env python3
"""Regenerate netc/service/api/ from proto/overlaynetwork/v1/overlay_network.proto.

    python3 scripts/gen_proto.py            # rewrite the checked-in modules
    python3 scripts/gen_proto.py --out DIR  # write them to DIR instead (the staleness test)

The modules are checked in, so that installing netc needs no protoc; the test
tests/unit/test_proto.py fails when they no longer match the .proto. protoc writes
``from overlaynetwork.v1 import overlay_network_pb2`` into the gRPC module; it is
rewritten as a relative import so that the generated code lives inside netc's package.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROTO_ROOT = REPO / "proto"
PROTO = "overlaynetwork/v1/overlay_network.proto"
OUT = REPO / "netc" / "service" / "api"
MODULES = ("overlay_network_pb2.py", "overlay_network_pb2.pyi", "overlay_network_pb2_grpc.py")


def generate(out: Path) -> list[Path]:
    import tempfile

    from grpc_tools import protoc

    with tempfile.TemporaryDirectory() as scratch:
        status = protoc.main(["grpc_tools.protoc", f"-I{PROTO_ROOT}", f"--python_out={scratch}",
                              f"--pyi_out={scratch}", f"--grpc_python_out={scratch}", PROTO])
        if status != 0:
            raise SystemExit(f"protoc failed with status {status}")
        generated = Path(scratch) / "overlaynetwork" / "v1"
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name in MODULES:
            text = (generated / name).read_text(encoding="utf-8")
            text = re.sub(r"^from overlaynetwork\.v1 import ", "from . import ", text,
                          flags=re.MULTILINE)
            (out / name).write_text(text, encoding="utf-8")
            written.append(out / name)
        return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    for path in generate(args.out):
        print(path, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
