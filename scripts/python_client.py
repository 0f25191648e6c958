"""A peerlab client built only from PyPI's grpcio and the server's reflection.

It asks the server for the descriptors of ChallengeService, builds the
message classes at run time, lists challenges with a staff token, and reads
the field violations of a bad request from google.rpc.Status details.
"""
import sys

import grpc
from google.protobuf import any_pb2, duration_pb2, field_mask_pb2, timestamp_pb2  # noqa: F401 (well-known types)
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

address, token = sys.argv[1], sys.argv[2]
channel = grpc.insecure_channel(address)
metadata = [("authorization", f"Bearer {token}")]

# The default pool already knows the well-known types imported above.
pool = descriptor_pool.Default()
stub = reflection_pb2_grpc.ServerReflectionStub(channel)


def fetch(**request):
    """FileDescriptorProtos the server returns for one reflection request."""
    request = reflection_pb2.ServerReflectionRequest(**request)
    out = []
    for response in stub.ServerReflectionInfo(iter([request])):
        out += [descriptor_pb2.FileDescriptorProto.FromString(b) for b in response.file_descriptor_response.file_descriptor_proto]
    return out


def add(proto):
    """Add a file after its dependencies, asking the server for any it lacks."""
    if _has(proto.name):
        return
    for dep in proto.dependency:
        if not _has(dep):
            for p in fetch(file_by_filename=dep):
                add(p)
    pool.Add(proto)


def load(symbol):
    for proto in fetch(file_containing_symbol=symbol):
        add(proto)


def _has(name):
    try:
        pool.FindFileByName(name)
        return True
    except KeyError:
        return False


load("peerlab.v1.ChallengeService")
load("google.rpc.BadRequest")
load("google.rpc.Status")
msg = lambda name: message_factory.GetMessageClass(pool.FindMessageTypeByName(name))

ListRequest, ListResponse = msg("peerlab.v1.ListChallengesRequest"), msg("peerlab.v1.ListChallengesResponse")
CreateRequest, Challenge = msg("peerlab.v1.CreateChallengeRequest"), msg("peerlab.v1.Challenge")
Status, BadRequest = msg("google.rpc.Status"), msg("google.rpc.BadRequest")

list_challenges = channel.unary_unary(
    "/peerlab.v1.ChallengeService/ListChallenges",
    request_serializer=lambda m: m.SerializeToString(),
    response_deserializer=ListResponse.FromString,
)
page = list_challenges(ListRequest(parent="municipalities/-", page_size=100), metadata=metadata)
titles = [c.title for c in page.challenges]
assert "Low digital literacy" in titles, titles
print(f"listed {len(titles)} challenges, e.g. {titles[0]!r}")

create = channel.unary_unary(
    "/peerlab.v1.ChallengeService/CreateChallenge",
    request_serializer=lambda m: m.SerializeToString(),
    response_deserializer=Challenge.FromString,
)
try:
    create(CreateRequest(parent="municipalities/4", challenge=Challenge(working_group="workingGroups/1", title=" ")), metadata=metadata)
    raise SystemExit("a blank title was accepted")
except grpc.RpcError as error:
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.code()
    details = dict(error.trailing_metadata()).get("grpc-status-details-bin")
    status = Status.FromString(details)
    fields = []
    for any_detail in status.details:
        if any_detail.type_url.endswith("google.rpc.BadRequest"):
            bad = BadRequest.FromString(any_detail.value)
            fields += [(v.field, v.description) for v in bad.field_violations]
    assert ("challenge.title", "must not be empty") in fields, fields
    print(f"field violations: {fields}")
