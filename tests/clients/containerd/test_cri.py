"""docs/kubernetes.md's configuration, checked: containerd started with the
documented CRI runtime entry loads it (no Kubernetes needed), and every
TOML/YAML snippet of the page parses."""

from __future__ import annotations

import re
import subprocess
import tomllib

import pytest

import clientlib
from ctdlib import Containerd, base_config, have_containerd

DOC = clientlib.TOP / "docs" / "kubernetes.md"
DOC_BINARY = "/usr/local/bin/skiff"
DOC_ROOT = "/run/containerd/skiff"


def blocks(lang: str) -> list:
    text = DOC.read_text()
    return re.findall(rf"^```{lang}\n(.*?)^```", text, re.M | re.S)


def cri_entry() -> str:
    found = [b for b in blocks("toml") if 'io.containerd.grpc.v1.cri".containerd.runtimes.skiff]' in b]
    assert len(found) == 1, "docs/kubernetes.md: one containerd v2 CRI runtime entry for skiff"
    return found[0]


def test_doc_snippets_parse():
    tomls = blocks("toml")
    assert len(tomls) >= 4
    for b in tomls:
        tomllib.loads(b)
    entry = tomllib.loads(cri_entry())
    skiff = entry["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]["skiff"]
    assert skiff["runtime_type"] == "io.containerd.runc.v2"
    assert skiff["options"]["BinaryName"] == DOC_BINARY
    crio = [tomllib.loads(b) for b in tomls if "crio.runtime" in b]
    assert crio and crio[0]["crio"]["runtime"]["runtimes"]["skiff"]["runtime_path"] == DOC_BINARY
    yamls = blocks("yaml")
    assert any("kind: RuntimeClass" in y for y in yamls)
    try:
        import yaml
    except ImportError:
        rc = next(y for y in yamls if "kind: RuntimeClass" in y)
        assert re.search(r"^handler: skiff$", rc, re.M)
        return
    docs = [yaml.safe_load(y) for y in yamls]
    rc = next(d for d in docs if d["kind"] == "RuntimeClass")
    assert rc["apiVersion"] == "node.k8s.io/v1" and rc["handler"] == "skiff"
    pod = next(d for d in docs if d["kind"] == "Pod")
    assert pod["spec"]["runtimeClassName"] == rc["metadata"]["name"]


@pytest.fixture(scope="module")
def cri_containerd(workroot, runtime):
    why = have_containerd()
    if why:
        pytest.skip(why)
    base = workroot / "cri"
    entry = cri_entry().replace(DOC_BINARY, runtime).replace(DOC_ROOT, str(base / "skiff-root"))
    entry = re.sub(r"^version = 2\n", "", entry, flags=re.M)
    extra = f"""
{entry}
[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "skiff"

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "{base}/cni"
"""
    c = Containerd(base, runtime, base_config(base, extra, disable_cri=False))
    try:
        c.start()
        yield c
    finally:
        problems = c.stop()
    assert not problems, problems


def test_cri_plugin_loads_skiff_entry(cri_containerd, runtime):
    c = cri_containerd
    rows = [l.split() for l in c.ctr("plugins", "ls").stdout.splitlines()]
    cri = [r for r in rows if r[:2] == ["io.containerd.grpc.v1", "cri"]]
    assert cri and cri[0][-1] == "ok", cri
    # The CRI plugin logs the configuration it runs with (what `crictl
    # info` shows; crictl is not packaged in Debian 12).
    log = clientlib.wait_for(
        lambda: next((l for l in c.log.read_text().splitlines() if "Start cri plugin with config" in l), None),
        what="the CRI plugin's config line",
    )
    assert "DefaultRuntimeName:skiff" in log
    m = re.search(r"skiff:\{Type:(\S+) ", log)
    assert m and m.group(1) == "io.containerd.runc.v2", log
    assert f"BinaryName:{runtime}" in log
    assert f"Root:{c.base / 'skiff-root'}" in log


def test_config_dump_has_entry(cri_containerd, runtime):
    r = subprocess.run(["containerd", "--config", str(cri_containerd.config), "config", "dump"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    dump = tomllib.loads(r.stdout)
    cri = dump["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]
    assert cri["default_runtime_name"] == "skiff"
    assert cri["runtimes"]["skiff"]["runtime_type"] == "io.containerd.runc.v2"
    assert cri["runtimes"]["skiff"]["options"]["BinaryName"] == runtime
