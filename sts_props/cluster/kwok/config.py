"""Render the kwokctl configuration and kwok Stages of a local kwok cluster.

``kwokctl create cluster --runtime=binary --config FILE`` reads a multi-document
YAML file. :func:`render_kwokctl_config` writes its ``KwokctlConfiguration``: every
component bound to 127.0.0.1, the locally built binaries (see
:mod:`sts_props.cluster.kwok.binaries`), kube-controller-manager's hostpath
provisioner, no QPS limits and an etcd without fsync.

Pod and node behaviour comes from kwok *Stages*. With ``stage_crd=True`` (the
default) kwok has no stages at all until some are created as API objects:
apply :func:`render_stages` with ``kubectl apply -f -`` right after the cluster is
up, and re-apply or delete single Stages during a test to change behaviour.
With ``stage_crd=False`` the same stages are written into the config file and are
fixed for the life of the cluster.

What the stages from :func:`stage_documents` do:

* ``node-initialize`` / ``node-heartbeat-with-lease``: every Node created through
  the API becomes Ready and stays Ready (kwok also renews its Lease).
* ``pod-ready``: a scheduled Pending pod becomes Running and Ready at once, with a
  pod IP (so a headless Service's EndpointSlice lists it with its hostname).
* ``pod-running-not-ready`` / ``pod-running-not-ready-by-name``: a pod annotated
  ``sts-props.io/hold`` (:data:`~sts_props.snapshot.HOLD_KEY`), or named in
  ``hold_not_ready``, becomes Running but **not** Ready instead (release it later by
  patching its status).
* ``pod-delete``: a pod with a deletionTimestamp and no finalizers is removed
  (grace period 0); optionally only once its grace period has run out.
* Nodes annotated ``sts-props.io/node-failed`` and pods annotated
  ``sts-props.io/node-lost`` are left alone (node failure: no kubelet).

No stage matches a Running or a Failed/Succeeded pod, so status written by the
harness through the ``pods/status`` subresource (Ready=False, phase=Failed, ...)
is never overwritten by kwok.

Example:
    >>> from pathlib import Path
    >>> from sts_props.cluster.kwok.binaries import BinarySet
    >>> bins = BinarySet.in_dir("v1.37.2", Path("/cache/k8s-v1.37.2/bin"))
    >>> text = render_kwokctl_config(bins)
    >>> "bindAddress: 127.0.0.1" in text
    True
    >>> print(render_stages()[:56])
    apiVersion: kwok.x-k8s.io/v1alpha1
    kind: Stage
    metadata:

"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from sts_props.snapshot import HOLD_KEY

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from sts_props.cluster.kwok.binaries import BinarySet

__all__ = [
    "KWOK_API_VERSION",
    "NODE_FAILED_ANNOTATION",
    "NODE_LOST_ANNOTATION",
    "kwokctl_config_document",
    "render_kwokctl_config",
    "render_stages",
    "stage_documents",
    "to_yaml",
    "to_yaml_documents",
]

KWOK_API_VERSION = "config.kwok.x-k8s.io/v1alpha1"
"""apiVersion of ``KwokctlConfiguration``."""

STAGE_API_VERSION = "kwok.x-k8s.io/v1alpha1"
"""apiVersion of ``Stage``."""


NODE_FAILED_ANNOTATION = "sts-props.io/node-failed"
"""A node carrying this annotation is left alone by kwok (no initialise, no heartbeat), so
the NotReady status the harness writes stays: a failed node (``FailNode``)."""

NODE_LOST_ANNOTATION = "sts-props.io/node-lost"
"""A pod carrying this annotation is on a failed node: no kubelet finishes its deletion, so it
stays Terminating until something force-deletes it (pod GC after the node is deleted)."""


# --------------------------------------------------------------------------------------
# KwokctlConfiguration
# --------------------------------------------------------------------------------------


def kwokctl_config_document(
    binaries: BinarySet,
    *,
    bind_address: str = "127.0.0.1",
    stage_crd: bool = True,
    etcd_version: str | None = None,
    feature_gates: Mapping[str, bool] | None = None,
    extra_args: Mapping[str, Mapping[str, str]] | None = None,
    kube_apiserver_port: int = 0,
) -> dict[str, Any]:
    """Return the ``KwokctlConfiguration`` for a binary-runtime cluster as a dict.

    Args:
        binaries: the locally built binaries (plain paths: ``file://`` URLs do not work).
        bind_address: address every component listens on; keep it on loopback.
        stage_crd: enable the ``Stage`` CRD (stages become API objects; none exist
            until the harness applies :func:`render_stages`).
        etcd_version: etcd version for kwokctl's flag selection, e.g. ``3.7.3``
            (kwokctl otherwise asks the binary; either works).
        feature_gates: Kubernetes feature gates for apiserver, controller-manager
            and scheduler, e.g. ``{"MaxUnavailableStatefulSet": True}``.
        extra_args: additional ``--key=value`` flags per component name
            (``etcd``, ``kube-apiserver``, ``kube-controller-manager``,
            ``kube-scheduler``, ``kwok-controller``); they override the defaults below.
        kube_apiserver_port: fixed apiserver port; 0 lets kwokctl pick a free one.

    Example:
        >>> from pathlib import Path
        >>> from sts_props.cluster.kwok.binaries import BinarySet
        >>> doc = kwokctl_config_document(BinarySet.in_dir("v1.37.2", Path("/b")))
        >>> doc["options"]["kubeApiserverBinary"], doc["options"]["kubeVersion"]
        ('/b/kube-apiserver', 'v1.37.2')
        >>> [p["name"] for p in doc["componentsPatches"]]
        ['etcd', 'kube-apiserver', 'kube-controller-manager']

    """
    args: dict[str, dict[str, str]] = {
        "etcd": {"unsafe-no-fsync": "true"},
        "kube-apiserver": {"endpoint-reconciler-type": "none"},
        # stateful_set_control.go at -v=4 logs each sync's revisions and the status written:
        # what a failing run's artifacts need (Cluster.log_excerpts), a few lines per sync
        "kube-controller-manager": {"enable-hostpath-provisioner": "true",
                                    "vmodule": "stateful_set_control=4"},
    }
    for component, values in (extra_args or {}).items():
        args.setdefault(component, {}).update(values)

    options: dict[str, Any] = {
        "runtime": "binary",
        "bindAddress": bind_address,
        "kubeVersion": binaries.version,
        "disableQPSLimits": True,
        "kubeApiserverBinary": str(binaries.kube_apiserver),
        "kubeControllerManagerBinary": str(binaries.kube_controller_manager),
        "kubeSchedulerBinary": str(binaries.kube_scheduler),
        "kubectlBinary": str(binaries.kubectl),
        "etcdBinary": str(binaries.etcd),
        "kwokControllerBinary": str(binaries.kwok),
    }
    if etcd_version:
        options["etcdVersion"] = etcd_version.removeprefix("v")
    if stage_crd:
        options["enableCRDs"] = ["Stage"]
    if feature_gates:
        options["kubeFeatureGates"] = ",".join(
            f"{name}={'true' if on else 'false'}" for name, on in sorted(feature_gates.items())
        )
    if kube_apiserver_port:
        options["kubeApiserverPort"] = kube_apiserver_port

    return {
        "apiVersion": KWOK_API_VERSION,
        "kind": "KwokctlConfiguration",
        "options": options,
        "componentsPatches": [
            {
                "name": component,
                "extraArgs": [
                    {"key": key, "value": value, "override": False}
                    for key, value in sorted(values.items())
                ],
            }
            for component, values in args.items()
            if values
        ],
    }


def render_kwokctl_config(
    binaries: BinarySet,
    *,
    bind_address: str = "127.0.0.1",
    stage_crd: bool = True,
    etcd_version: str | None = None,
    feature_gates: Mapping[str, bool] | None = None,
    extra_args: Mapping[str, Mapping[str, str]] | None = None,
    kube_apiserver_port: int = 0,
    stages: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """Return the YAML text for ``kwokctl create cluster --config``.

    Takes the arguments of :func:`kwokctl_config_document`. Without the Stage CRD
    the file must also carry the stages (default: :func:`stage_documents`),
    because kwok then reads them only from this file; with the CRD, ``stages`` is
    ignored and the harness applies :func:`render_stages` itself.

    Example:
        >>> from pathlib import Path
        >>> from sts_props.cluster.kwok.binaries import BinarySet
        >>> bins = BinarySet.in_dir("v1.37.2", Path("/b"))
        >>> render_kwokctl_config(bins, stage_crd=False).count("kind: Stage")
        6
        >>> render_kwokctl_config(bins).count("kind: Stage")
        0

    """
    docs: list[Mapping[str, Any]] = [
        kwokctl_config_document(
            binaries,
            bind_address=bind_address,
            stage_crd=stage_crd,
            etcd_version=etcd_version,
            feature_gates=feature_gates,
            extra_args=extra_args,
            kube_apiserver_port=kube_apiserver_port,
        )
    ]
    if not stage_crd:
        docs.extend(stage_documents() if stages is None else stages)
    return to_yaml_documents(docs)


# --------------------------------------------------------------------------------------
# Stages
# --------------------------------------------------------------------------------------

_NODE_INITIALIZE_TEMPLATE = """\
{{ $now := Now }}
{{ $lastTransitionTime := or .metadata.creationTimestamp $now }}
conditions:
{{ range NodeConditions }}
- lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $lastTransitionTime | Quote }}
  message: {{ .message | Quote }}
  reason: {{ .reason | Quote }}
  status: {{ .status | Quote }}
  type: {{ .type  | Quote}}
{{ end }}
addresses:
{{ with NodeIP }}
- address: {{ . | Quote }}
  type: InternalIP
{{ end }}
{{ with NodeName }}
- address: {{ . | Quote }}
  type: Hostname
{{ end }}
{{ with NodePort }}
daemonEndpoints:
  kubeletEndpoint:
    Port: {{ . }}
{{ end }}
allocatable:
{{ with .status.allocatable }}
{{ YAML . 1 }}
{{ else }}
  cpu: 1k
  memory: 1Ti
  pods: 1M
{{ end }}
capacity:
{{ with .status.capacity }}
{{ YAML . 1 }}
{{ else }}
  cpu: 1k
  memory: 1Ti
  pods: 1M
{{ end }}
{{ $nodeInfo := .status.nodeInfo }}
{{ $kwokVersion := printf "kwok-%s" Version }}
nodeInfo:
  architecture: {{ or $nodeInfo.architecture "amd64" }}
  bootID: {{ or $nodeInfo.bootID `""` }}
  containerRuntimeVersion: {{ or $nodeInfo.containerRuntimeVersion $kwokVersion }}
  kernelVersion: {{ or $nodeInfo.kernelVersion $kwokVersion }}
  kubeProxyVersion: {{ or $nodeInfo.kubeProxyVersion $kwokVersion }}
  kubeletVersion: {{ or $nodeInfo.kubeletVersion $kwokVersion }}
  machineID: {{ or $nodeInfo.machineID `""` }}
  operatingSystem: {{ or $nodeInfo.operatingSystem "linux" }}
  osImage: {{ or $nodeInfo.osImage `""` }}
  systemUUID: {{ or $nodeInfo.systemUUID `""` }}
phase: Running
"""

_NODE_HEARTBEAT_TEMPLATE = """\
{{ $now := Now }}
{{ $lastTransitionTime := or .metadata.creationTimestamp $now }}
conditions:
{{ range NodeConditions }}
- lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $lastTransitionTime | Quote }}
  message: {{ .message | Quote }}
  reason: {{ .reason | Quote }}
  status: {{ .status | Quote }}
  type: {{ .type | Quote }}
{{ end }}
"""

# Shared tail of both pod start stages: IPs, phase and start time.
_POD_RUNNING_TAIL = """\
{{ $hostIPs := NodeIPsWith .spec.nodeName }}
{{ with $hostIPs }}
hostIP: {{ index . 0 | Quote }}
hostIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
{{ $podIPs := PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) \
( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
{{ with $podIPs }}
podIP: {{ index . 0 | Quote }}
podIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
phase: Running
startTime: {{ $now | Quote }}
"""


_POD_START_TEMPLATE = """\
{{ $now := Now }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Initialized
- lastTransitionTime: {{ $now | Quote }}
  status: @STATUS@@REASON@
  type: Ready
- lastTransitionTime: {{ $now | Quote }}
  status: @STATUS@@REASON@
  type: ContainersReady
{{ range .spec.readinessGates }}
- lastTransitionTime: {{ $now | Quote }}
  status: @STATUS@
  type: {{ .conditionType | Quote }}
{{ end }}
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: @READY@
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
initContainerStatuses:
{{ range .spec.initContainers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: true
  restartCount: 0
  {{ if eq .restartPolicy "Always" }}
  started: true
  state:
    running:
      startedAt: {{ $now | Quote }}
  {{ else }}
  started: false
  state:
    terminated:
      exitCode: 0
      finishedAt: {{ $now | Quote }}
      reason: Completed
      startedAt: {{ $now | Quote }}
  {{ end }}
{{ end }}
"""


def _pod_start_template(*, ready: bool) -> str:
    """Status template of a scheduled pod that starts Running, Ready or not."""
    return (
        _POD_START_TEMPLATE.replace("@STATUS@", '"True"' if ready else '"False"')
        .replace("@REASON@", "" if ready else "\n  reason: ContainersNotReady")
        .replace("@READY@", "true" if ready else "false")
    ) + _POD_RUNNING_TAIL


def _stage(
    name: str,
    kind: str,
    match: Iterable[Mapping[str, Any]],
    next_: Mapping[str, Any],
    delay: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "resourceRef": {"apiGroup": "v1", "kind": kind},
        "selector": {"matchExpressions": list(match)},
    }
    if delay:
        spec["delay"] = dict(delay)
    spec["next"] = dict(next_)
    return {
        "apiVersion": STAGE_API_VERSION,
        "kind": "Stage",
        "metadata": {"name": name},
        "spec": spec,
    }


def _expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        out["values"] = list(values)
    return out


def stage_documents(
    *,
    hold_not_ready: Sequence[str] = (),
    honor_grace_period: bool = False,
    node_heartbeat_ms: int = 20_000,
) -> list[dict[str, Any]]:
    """Return the kwok Stage objects for StatefulSet tests.

    Args:
        hold_not_ready: names of pods that must come up Running but NotReady (e.g.
            ``["redis-1"]``), in addition to pods annotated
            :data:`HOLD_KEY`. With the Stage CRD, re-apply the
            stages to change the list while the cluster runs.
        honor_grace_period: delete a terminating pod only when its grace period
            (``deletionTimestamp``) has passed, like a kubelet whose containers
            ignore SIGTERM; default: at once.
        node_heartbeat_ms: how often kwok refreshes node conditions (kwok renews
            node Leases on its own; this keeps ``lastHeartbeatTime`` fresh).

    Returns:
        ``node-initialize``, ``node-heartbeat-with-lease``, ``pod-ready``,
        ``pod-running-not-ready`` (annotated pods), ``pod-running-not-ready-by-name``
        (pods named in ``hold_not_ready``; matches nothing when it is empty) and
        ``pod-delete`` -- always these six names.

    Example:
        >>> for doc in stage_documents():
        ...     print(doc["metadata"]["name"])
        node-initialize
        node-heartbeat-with-lease
        pod-ready
        pod-running-not-ready
        pod-running-not-ready-by-name
        pod-delete

    """
    annotation = f'.metadata.annotations["{HOLD_KEY}"]'
    node_failed = f'.metadata.annotations["{NODE_FAILED_ANNOTATION}"]'
    node_lost = f'.metadata.annotations["{NODE_LOST_ANNOTATION}"]'
    pending = [
        _expr(".metadata.deletionTimestamp", "DoesNotExist"),
        _expr(".spec.nodeName", "Exists"),
        _expr(".status.phase", "In", "Pending"),
    ]
    # Always the same six Stage names, so `kubectl apply` of a new rendering replaces
    # every one of them (apply never deletes a Stage left over from an older list).
    # No pod is named "", so an empty list matches no pod.
    held_names = list(hold_not_ready) or [""]
    ready_match = [
        *pending,
        _expr(annotation, "DoesNotExist"),
        _expr(".metadata.name", "NotIn", *held_names),
    ]
    docs = [
        _stage(
            "node-initialize",
            "Node",
            [
                _expr(
                    '.status.conditions.[] | select( .type == "Ready" ) | .status', "NotIn", "True"
                ),
                _expr(node_failed, "DoesNotExist"),
            ],
            {"statusTemplate": _NODE_INITIALIZE_TEMPLATE},
        ),
        _stage(
            "node-heartbeat-with-lease",
            "Node",
            [
                _expr(".status.phase", "In", "Running"),
                _expr('.status.conditions.[] | select( .type == "Ready" ) | .status', "In", "True"),
                _expr(node_failed, "DoesNotExist"),
            ],
            {"statusTemplate": _NODE_HEARTBEAT_TEMPLATE},
            {
                "durationMilliseconds": node_heartbeat_ms,
                "jitterDurationMilliseconds": node_heartbeat_ms + node_heartbeat_ms // 10,
            },
        ),
        _stage(
            "pod-ready", "Pod", ready_match, {"statusTemplate": _pod_start_template(ready=True)}
        ),
    ]
    # Held pods: the annotation, or (second stage) a name from the list. kwok ANDs the
    # expressions of one selector, so "annotation OR name" needs two stages.
    docs.append(
        _stage(
            "pod-running-not-ready",
            "Pod",
            [*pending, _expr(annotation, "Exists")],
            {"statusTemplate": _pod_start_template(ready=False)},
        )
    )
    docs.append(
        _stage(
            "pod-running-not-ready-by-name",
            "Pod",
            [
                *pending,
                _expr(annotation, "DoesNotExist"),
                _expr(".metadata.name", "In", *held_names),
            ],
            {"statusTemplate": _pod_start_template(ready=False)},
        )
    )
    delete_delay: dict[str, Any] | None = None
    if honor_grace_period:
        # A timestamp as duration means "until then". (Upstream's "general" stages use
        # it as *jitter*, which gives a random delay between 0 and the grace period.)
        delete_delay = {
            "durationMilliseconds": 0,
            "durationFrom": {"expressionFrom": ".metadata.deletionTimestamp"},
        }
    docs.append(
        _stage(
            "pod-delete",
            "Pod",
            [
                _expr(".metadata.deletionTimestamp", "Exists"),
                _expr(".metadata.finalizers", "DoesNotExist"),
                _expr(node_lost, "DoesNotExist"),
            ],
            {"delete": True},
            delete_delay,
        )
    )
    return docs


def render_stages(
    *,
    hold_not_ready: Sequence[str] = (),
    honor_grace_period: bool = False,
    node_heartbeat_ms: int = 20_000,
) -> str:
    """Return :func:`stage_documents` as YAML for ``kubectl apply -f -``.

    Example:
        >>> text = render_stages(hold_not_ready=["redis-1"])
        >>> text.count("kind: Stage")
        6

    """
    return to_yaml_documents(
        stage_documents(
            hold_not_ready=hold_not_ready,
            honor_grace_period=honor_grace_period,
            node_heartbeat_ms=node_heartbeat_ms,
        )
    )


# --------------------------------------------------------------------------------------
# YAML output
# --------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line strings (the stage templates) as ``|`` blocks."""


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_representer)


def to_yaml(value: Any) -> str:
    """Return one JSON-like value as block YAML, keys in insertion order.

    Multi-line strings become literal blocks, so status templates stay readable.

    Example:
        >>> print(to_yaml({"a": [1, {"b": True}], "c": "x\\ny\\n"}), end="")
        a:
        - 1
        - b: true
        c: |
          x
          y

    """
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)


def to_yaml_documents(docs: Iterable[Mapping[str, Any]]) -> str:
    """Return several documents as one YAML stream separated by ``---``."""
    return "---\n".join(to_yaml(doc) for doc in docs)
