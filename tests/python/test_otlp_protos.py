"""producers/otlp/proto/*.proto carry exactly the field names, numbers, types and enum values
of the upstream OpenTelemetry protos (as shipped in the pinned opentelemetry-proto package)."""
import pathlib
import shutil
import subprocess

import pytest
from google.protobuf import descriptor_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

PROTO_DIR = pathlib.Path(__file__).resolve().parents[2] / "producers" / "otlp" / "proto"


def shape(fdp):
    out = {}

    def walk(msg, prefix):
        for f in msg.field:
            out[f"{prefix}{msg.name}.{f.name}"] = (f.number, f.type, f.label, f.type_name, f.HasField("oneof_index"))
        for e in msg.enum_type:
            for v in e.value:
                out[f"{prefix}{msg.name}.{e.name}.{v.name}"] = v.number
        for n in msg.nested_type:
            walk(n, f"{prefix}{msg.name}.")

    for m in fdp.message_type:
        walk(m, fdp.package + ".")
    for e in fdp.enum_type:
        for v in e.value:
            out[f"{fdp.package}.{e.name}.{v.name}"] = v.number
    return out


@pytest.mark.skipif(shutil.which("protoc") is None, reason="protoc not installed")
@pytest.mark.parametrize("module", [common_pb2, resource_pb2, trace_pb2, trace_service_pb2],
                         ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_protos_match_upstream(module, tmp_path):
    out = tmp_path / "set.pb"
    subprocess.run(["protoc", "-I", str(PROTO_DIR), "--include_imports", f"--descriptor_set_out={out}",
                    "opentelemetry/proto/collector/trace/v1/trace_service.proto"], check=True)
    mine = descriptor_pb2.FileDescriptorSet()
    mine.ParseFromString(out.read_bytes())
    upstream = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(upstream)
    ours = next(f for f in mine.file if f.name == upstream.name)
    assert ours.package == upstream.package
    assert shape(ours) == shape(upstream)
