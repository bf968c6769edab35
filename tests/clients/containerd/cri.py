"""A small CRI client (what the kubelet and crictl speak to containerd):
hand-encoded protobuf over grpcio, for the few calls the tests make.
Field numbers are those of k8s.io/cri-api runtime/v1 api.proto."""

from __future__ import annotations

import json


# ------------------------------------------------------------ protobuf


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def msg(*fields) -> bytes:
    """fields: (number, value) with value an int (varint), bool, str, bytes
    (length-delimited; a nested message is bytes from msg()), or a list of
    those (repeated), or a dict (map<string,string>)."""
    out = bytearray()
    for num, value in fields:
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        if isinstance(value, dict):
            values = [msg((1, k), (2, v)) for k, v in value.items()]
        for v in values:
            if isinstance(v, bool) or isinstance(v, int):
                out += _varint(num << 3 | 0) + _varint(int(v))
            else:
                b = v.encode() if isinstance(v, str) else bytes(v)
                out += _varint(num << 3 | 2) + _varint(len(b)) + b
    return bytes(out)


def parse(data: bytes) -> dict:
    """{field number: [values]}: ints for varints, bytes for the rest."""
    out: dict = {}
    i = 0

    def varint():
        nonlocal i
        n = shift = 0
        while True:
            b = data[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return n

    while i < len(data):
        key = varint()
        num, wt = key >> 3, key & 7
        if wt == 0:
            v = varint()
        elif wt == 2:
            n = varint()
            v = data[i : i + n]
            i += n
        elif wt == 1:
            v = data[i : i + 8]
            i += 8
        elif wt == 5:
            v = data[i : i + 4]
            i += 4
        else:
            raise ValueError(f"wire type {wt}")
        out.setdefault(num, []).append(v)
    return out


def first(d: dict, num: int, default=None):
    return d.get(num, [default])[0]


def string_map(d: dict, num: int) -> dict:
    out = {}
    for entry in d.get(num, []):
        e = parse(entry)
        out[first(e, 1, b"").decode()] = first(e, 2, b"").decode()
    return out


# ------------------------------------------------------------------ CRI

NODE = 2  # NamespaceMode: the host's namespace (hostNetwork)
CONTAINER_RUNNING = 1


class CRI:
    def __init__(self, socket_path: str):
        import grpc

        self.grpc = grpc
        self.channel = grpc.insecure_channel(f"unix://{socket_path}")
        self.service = "runtime.v1.RuntimeService"

    def call(self, method: str, request: bytes, timeout=60) -> dict:
        fn = self.channel.unary_unary(
            f"/{self.service}/{method}",
            request_serializer=lambda b: b,
            response_deserializer=lambda b: b,
        )
        return parse(fn(request, timeout=timeout))

    def close(self):
        self.channel.close()

    # RuntimeService calls --------------------------------------------

    def status_info(self) -> dict:
        """Status(verbose): the `info` map crictl info prints; `config` is
        the CRI plugin's configuration as JSON."""
        r = self.call("Status", msg((1, True)))
        return {k: json.loads(v) if v[:1] in "{[" else v for k, v in string_map(r, 2).items()}

    @staticmethod
    def sandbox_config(name: str, uid: str, log_dir: str) -> bytes:
        security = msg((1, msg((1, NODE))))  # namespace_options.network = NODE
        # no hostname: the kubelet sets none for host-network pods (they
        # share the host's UTS namespace, where no runtime may set one)
        return msg(
            (1, msg((1, name), (2, uid), (3, "default"), (4, 0))),
            (3, log_dir),
            (8, msg((2, security))),
        )

    def run_pod_sandbox(self, config: bytes, handler: str) -> str:
        r = self.call("RunPodSandbox", msg((1, config), (2, handler)), timeout=120)
        return first(r, 1).decode()

    def create_container(self, sandbox_id: str, sandbox_config: bytes, name: str, image: str,
                         command: list, log_path: str, run_as_user: int | None = None,
                         readonly_rootfs: bool = False, seccomp_default: bool = False) -> str:
        security = msg(
            (5, msg((1, run_as_user)) if run_as_user is not None else None),
            (7, readonly_rootfs or None),
            (10, "runtime/default" if seccomp_default else None),
        )
        config = msg(
            (1, msg((1, name), (2, 0))),
            (2, msg((1, image))),
            (3, command),
            (11, log_path),
            (15, msg((2, security))),  # linux.security_context
        )
        r = self.call("CreateContainer", msg((1, sandbox_id), (2, config), (3, sandbox_config)))
        return first(r, 1).decode()

    def start_container(self, cid: str):
        self.call("StartContainer", msg((1, cid)))

    def exec_sync(self, cid: str, cmd: list, timeout: int = 20):
        r = self.call("ExecSync", msg((1, cid), (2, cmd), (3, timeout)), timeout=timeout + 10)
        return first(r, 1, b"").decode(), first(r, 2, b"").decode(), first(r, 3, 0)

    def container_state(self, cid: str) -> int:
        r = self.call("ContainerStatus", msg((1, cid)))
        return first(parse(first(r, 1, b"")), 3, 0)

    def update_memory(self, cid: str, limit: int):
        self.call("UpdateContainerResources", msg((1, cid), (2, msg((4, limit)))))

    def stop_pod_sandbox(self, sid: str):
        self.call("StopPodSandbox", msg((1, sid)), timeout=120)

    def remove_pod_sandbox(self, sid: str):
        self.call("RemovePodSandbox", msg((1, sid)), timeout=120)
