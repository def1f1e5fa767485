"""The registry of clusters sts-props started itself, so the ``kubeconfig`` backend can tell them
from everybody else's.

A backend that brings a cluster up records it here (one JSON file per cluster) and removes the
record when it tears the cluster down (the ``kwok`` backend through
:mod:`sts_props.cluster.kwok.registration`). The ``kubeconfig`` backend asks
:func:`is_harness_created` before it touches anything: only a cluster whose apiserver URL is
registered *and* that still answers as the registered cluster counts as harness-created.
Everything else is somebody's cluster and is refused unless the user passes
``--allow-existing-cluster``.

Where the records live::

    $STS_PROPS_REGISTRY                          when set (tests point it at a temporary dir)
    ${STS_PROPS_CACHE:-~/.cache/sts-props}/clusters/<name>.json     otherwise

>>> import tempfile
>>> scratch = tempfile.TemporaryDirectory()
>>> root = Path(scratch.name)
>>> entry = ClusterEntry(name="demo", backend="kwok", kubeconfig="/tmp/demo/kubeconfig.yaml",
...                      server="https://127.0.0.1:32741/", created=1.0)
>>> _ = register(entry, root=root)
>>> [e.name for e in entries(root=root)]
['demo']
>>> find_by_server("HTTPS://127.0.0.1:32741", root=root).name
'demo'
>>> unregister("demo", root=root)
True
>>> entries(root=root)
[]
>>> scratch.cleanup()

The registry is mechanism, not a backend: any backend that starts clusters writes it, the
``kubeconfig`` backend and ``sts-props cluster`` read it.

Every answer errs on the safe side: an unreadable kubeconfig, a registry that cannot be read, an
apiserver that does not answer or answers as a different cluster all mean "not harness-created".
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import ssl
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sts_props.cluster import rawhttp
from sts_props.cluster.base import ClusterError
from sts_props.cluster.lifecycle import cache_dir, pid_alive
from sts_props.errors import BackendUnavailable, KubeconfigError
from sts_props.user_files import home_expanded, not_regular

__all__ = [
    "REGISTRY_ENV",
    "ClusterEntry",
    "KubeconfigError",
    "KubeconfigTarget",
    "Probe",
    "api_client_for",
    "describe_error",
    "entries",
    "find_by_server",
    "is_harness_created",
    "kubeconfig_target",
    "normalize_server",
    "probe_identity",
    "prune_stale",
    "register",
    "registry_dir",
    "unregister",
]

#: Environment variable that overrides the registry directory (default: ``<cache>/clusters``).
REGISTRY_ENV = "STS_PROPS_REGISTRY"

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
#: The namespace whose UID identifies a cluster (it exists from the first apiserver start and
#: is never recreated), so a port reused by another cluster is not mistaken for ours.
_IDENTITY_NAMESPACE = "kube-system"


# -- records ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClusterEntry:
    """One cluster sts-props started.

    ``server`` is the apiserver URL as the cluster's kubeconfig gives it; ``cluster_uid`` is the
    UID of its ``kube-system`` namespace when it could be read (the identity check against port
    reuse); ``pids`` are the processes that make up the cluster, when the backend knows them.

    >>> e = ClusterEntry(name="c1", backend="kwok", kubeconfig="/k", server="https://x:1")
    >>> ClusterEntry.from_dict(e.to_dict()) == e
    True
    """

    name: str
    backend: str
    kubeconfig: str
    server: str
    workdir: str = ""
    pids: tuple[int, ...] = ()
    #: seconds since the epoch
    created: float = field(default_factory=time.time)
    cluster_uid: str = ""
    #: pid of the harness process that registered the cluster
    owner_pid: int = field(default_factory=os.getpid)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pids"] = list(self.pids)
        return data

    @staticmethod
    def from_dict(data: dict[str, Any]) -> ClusterEntry:
        """Build an entry from its JSON form; raises ``ValueError`` on a malformed record."""
        try:
            return ClusterEntry(
                name=str(data["name"]), backend=str(data["backend"]),
                kubeconfig=str(data["kubeconfig"]), server=str(data["server"]),
                workdir=str(data.get("workdir", "")),
                pids=tuple(int(p) for p in data.get("pids") or ()),
                created=float(data.get("created", 0.0)),
                cluster_uid=str(data.get("cluster_uid", "")),
                owner_pid=int(data.get("owner_pid", 0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed registry record: {exc!r}") from None


def registry_dir() -> Path:
    """The registry directory: ``$STS_PROPS_REGISTRY``, else ``<binary cache>/clusters``.

    >>> os.environ[REGISTRY_ENV] = "/tmp/sts-registry"
    >>> str(registry_dir())
    '/tmp/sts-registry'
    >>> del os.environ[REGISTRY_ENV]
    >>> registry_dir().name
    'clusters'
    """
    configured = os.environ.get(REGISTRY_ENV, "")
    if configured:
        return home_expanded(configured, f"${REGISTRY_ENV}", BackendUnavailable)
    return cache_dir() / "clusters"


def _root(root: Path | None) -> Path:
    return root if root is not None else registry_dir()


def _record_path(name: str, root: Path) -> Path:
    if not _NAME_RE.match(name):
        raise ValueError(f"cluster name {name!r} cannot name a registry record: use letters, "
                         "digits, '.', '_' and '-', starting with a letter or digit")
    return root / f"{name}.json"


def register(entry: ClusterEntry, root: Path | None = None) -> Path:
    """Record ``entry`` (replacing a record of the same name); returns the record's path.

    The record is written to a temporary file in the same directory and renamed over the
    final name, so a reader sees either the old record or the new one, never half of one.
    The directory is created private (0700): whoever can write into it can declare a cluster
    "harness-created".

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     register(ClusterEntry("c1", "kwok", "/k", "https://127.0.0.1:6443"), Path(root)).name
    'c1.json'
    """
    base = _root(root)
    target = _record_path(entry.name, base)
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=base, prefix=f".{entry.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(entry.to_dict(), fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def unregister(name: str, root: Path | None = None) -> bool:
    """Remove the record ``name``; ``True`` if there was one. Safe to call twice.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     unregister("never-registered", root=Path(root))
    False
    """
    try:
        _record_path(name, _root(root)).unlink()
    except FileNotFoundError:
        return False
    return True


def _read_record(path: Path) -> ClusterEntry | None:
    try:
        return ClusterEntry.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError):
        return None  # a record being replaced, or garbage: never trusted, never deleted here


def entries(root: Path | None = None) -> list[ClusterEntry]:
    """Every readable record, oldest first (unreadable files are skipped, not removed).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     entries(root=Path(root) / "missing")
    []
    """
    base = _root(root)
    if not base.is_dir():
        return []
    found = [e for p in sorted(base.glob("*.json")) if (e := _read_record(p)) is not None]
    return sorted(found, key=lambda e: (e.created, e.name))


def normalize_server(url: str) -> str:
    """An apiserver URL in one spelling: lower-case scheme and host, explicit port, no
    trailing slash. Different hosts (``localhost`` vs ``127.0.0.1``) stay different.

    >>> normalize_server("HTTPS://127.0.0.1:6443/")
    'https://127.0.0.1:6443'
    >>> normalize_server("https://Example.com")
    'https://example.com:443'
    >>> normalize_server("https://[::1]:6443/prefix/")
    'https://[::1]:6443/prefix'
    """
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or "https").lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if scheme == "https" else 80
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}{parts.path.rstrip('/')}"


def find_by_server(url: str, root: Path | None = None) -> ClusterEntry | None:
    """The newest record whose apiserver URL is ``url`` (compared normalised), or ``None``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     find_by_server("https://127.0.0.1:1", root=Path(root)) is None
    True
    """
    want = normalize_server(url)
    matches = [e for e in entries(root) if normalize_server(e.server) == want]
    return matches[-1] if matches else None


# -- kubeconfig files -------------------------------------------------------------------------
@dataclass(frozen=True)
class KubeconfigTarget:
    """What a kubeconfig context points at."""

    path: Path
    context: str
    cluster: str
    server: str


def kubeconfig_target(path: Path, context: str | None = None) -> KubeconfigTarget:
    """Resolve ``context`` (default: the file's ``current-context``) to its cluster and server.

    Raises :class:`KubeconfigError` with one line naming the file and the context.

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> d = Path(scratch.name)
    >>> _ = (d / "kc").write_text(
    ...     "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443'}}]\\n"
    ...     "contexts: [{name: x, context: {cluster: c}}]\\ncurrent-context: x\\n")
    >>> kubeconfig_target(d / "kc").server
    'https://127.0.0.1:6443'
    >>> try:
    ...     kubeconfig_target(d / "kc", "nope")
    ... except KubeconfigError as exc:
    ...     print(str(exc).replace(str(d), "DIR"))
    DIR/kc: no context 'nope' (it has: x)
    >>> scratch.cleanup()
    """
    import yaml

    why = not_regular(path)
    if why is not None:
        raise KubeconfigError(f"{path}: cannot read the kubeconfig: {why}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KubeconfigError(f"{path}: no such kubeconfig file (pass --kubeconfig FILE or set "
                              "KUBECONFIG)") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        raise KubeconfigError(f"{path}: cannot read the kubeconfig: {reason}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1})" if where is not None else ""
        raise KubeconfigError(f"{path}: not a kubeconfig: invalid YAML{at}") from None
    if not isinstance(data, dict):
        raise KubeconfigError(f"{path}: not a kubeconfig: expected a mapping with clusters, "
                              "contexts and users")
    contexts = _named(data.get("contexts"), "context", path)
    clusters = _named(data.get("clusters"), "cluster", path)
    name = context or data.get("current-context") or ""
    if not isinstance(name, str):
        raise KubeconfigError(f"{path}: current-context: must be a context's name, got "
                              f"{type(name).__name__}")
    if not name:
        raise KubeconfigError(f"{path}: no current-context set; pass --context NAME "
                              f"(it has: {', '.join(sorted(contexts)) or 'no contexts'})")
    if name not in contexts:
        raise KubeconfigError(f"{path}: no context {name!r} "
                              f"(it has: {', '.join(sorted(contexts)) or 'no contexts'})")
    cluster = str(contexts[name].get("cluster") or "")
    if cluster not in clusters:
        raise KubeconfigError(f"{path}: context {name!r} names cluster {cluster!r}, "
                              "which the file does not define")
    server = str(clusters[cluster].get("server") or "")
    if not server:
        raise KubeconfigError(f"{path}: cluster {cluster!r} of context {name!r} has no server")
    return KubeconfigTarget(path=path, context=str(name), cluster=cluster, server=server)


def _named(items: Any, key: str, path: Path) -> dict[str, dict[str, Any]]:
    """``{name: body}`` of a kubeconfig's ``contexts`` or ``clusters`` list (``key``: the
    body's key); entries without a name are skipped, as kubectl does."""
    if items is not None and not isinstance(items, list):
        raise KubeconfigError(f"{path}: {key}s: must be a list of {{name, {key}}}, got "
                              f"{type(items).__name__}")
    out: dict[str, dict[str, Any]] = {}
    for item in items or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            body = item.get(key)
            out.setdefault(item["name"], body if isinstance(body, dict) else {})
    return out


def api_client_for(path: Path, context: str | None = None) -> Any:
    """A ``kubernetes`` ``ApiClient`` for a kubeconfig context that never writes the file back
    (the client's default ``persist_config=True`` may rewrite a user's kubeconfig)."""
    from kubernetes import config

    return config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(path), context=context, persist_config=False)


# -- probing ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Probe:
    """How an apiserver answered: ``state`` is ``answers``, ``dead`` (nothing listens: the
    connection was refused) or ``unknown`` (slow, TLS trouble, ...); ``uid`` is the UID of its
    kube-system namespace when it could be read."""

    state: str
    uid: str = ""
    detail: str = ""


def describe_error(exc: BaseException) -> str:
    """A short cause for a failed request: the innermost reason, one line, no object reprs.

    >>> describe_error(ConnectionRefusedError(111, "Connection refused"))
    'connection refused'
    """
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        reason = getattr(cur, "reason", None)  # urllib3 wraps the socket error in .reason
        cur = reason if isinstance(reason, BaseException) else (cur.__cause__ or cur.__context__)
    names = {type(e).__name__ for e in seen}
    if any(isinstance(e, ConnectionRefusedError) for e in seen) or any(
            "Connection refused" in str(e) for e in seen):
        return "connection refused"
    if names & {"ConnectTimeoutError", "ConnectTimeout"} or any(
            isinstance(e, TimeoutError | socket.timeout) and "connect" in str(e).lower()
            for e in seen):
        return "connection timed out"
    if names & {"ReadTimeoutError", "TimeoutError"}:
        return "no answer in time (read timed out)"
    ssl_errors = [e for e in seen if isinstance(e, ssl.SSLError)]
    if ssl_errors or "SSLError" in names:
        text = str(ssl_errors[-1]) if ssl_errors else str(seen[-1])
        return f"TLS handshake failed: {_one_line(text)}"
    if any(isinstance(e, socket.gaierror) for e in seen):
        return "cannot resolve the host name"
    text = str(seen[-1])
    if "Failed to establish a new connection:" in text:
        text = text.split("Failed to establish a new connection:", 1)[1]
    return _one_line(text) or type(seen[-1]).__name__


def _one_line(text: str) -> str:
    text = re.sub(r"<[^<>]* object at 0x[0-9a-f]+>:?", "", text)
    return " ".join(text.split())[:200]


def _is_refused(exc: BaseException) -> bool:
    return describe_error(exc) == "connection refused"


def probe_identity(path: Path, context: str | None = None, timeout: float = 4.0) -> Probe:
    """Ask the apiserver of a kubeconfig context for its kube-system namespace (read timeout
    ``timeout`` seconds, connect timeout 5 s).

    Any HTTP answer means the server answers; only a 200 gives the cluster's identity.
    """

    try:
        api = api_client_for(path, context)
    except Exception as exc:
        return Probe("unknown", detail=f"cannot load the kubeconfig: {_one_line(str(exc))}")
    try:
        resp = rawhttp.get(api, f"/api/v1/namespaces/{_IDENTITY_NAMESPACE}",
                           read_timeout=timeout)
    except Exception as exc:
        return Probe("dead" if _is_refused(exc) else "unknown", detail=describe_error(exc))
    finally:
        api.close()
    if resp.status != 200:
        return Probe("answers", detail=f"HTTP {resp.status}")
    try:
        uid = str(json.loads(resp.data)["metadata"]["uid"])
    except (ValueError, KeyError, TypeError):
        return Probe("answers", detail="unexpected kube-system object")
    return Probe("answers", uid=uid)


def _refuses_connections(server: str, timeout: float = 2.0) -> bool:
    """Nothing listens at the server's host and port (a definite "dead", unlike a timeout)."""
    parts = urlsplit(server)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        with socket.create_connection((host, port), timeout=timeout):
            return False
    except ConnectionRefusedError:
        return True
    except (OSError, ValueError):
        return False


def _is_stale(entry: ClusterEntry, seen: Probe | None = None) -> bool:
    """The registered cluster is certainly gone: none of its processes is alive and either
    nothing listens at its URL or something else (another kube-system UID) answers there."""
    if any(pid_alive(p) for p in entry.pids):
        return False
    if seen is not None and seen.state == "answers":
        return bool(entry.cluster_uid and seen.uid and seen.uid != entry.cluster_uid)
    return _refuses_connections(entry.server)


def _remove_if_unchanged(entry: ClusterEntry, root: Path | None) -> bool:
    """Delete a stale record unless it was re-registered meanwhile (a different record now)."""
    path = _record_path(entry.name, _root(root))
    if _read_record(path) != entry:
        return False
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return True


def prune_stale(root: Path | None = None) -> list[str]:
    """Remove the records of clusters that are certainly gone; returns their names.

    A record is stale when none of its pids is alive and its apiserver port refuses
    connections. A slow or unreachable-by-timeout server is *not* pruned: only a definite
    answer removes a record.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     prune_stale(root=Path(root))
    []
    """
    return [e.name for e in entries(root) if _is_stale(e) and _remove_if_unchanged(e, root)]


def is_harness_created(kubeconfig_path: Path, context: str | None = None,
                       root: Path | None = None, timeout: float = 4.0) -> bool:
    """Whether the kubeconfig's (current or given) context points at a cluster sts-props
    started: its server URL is registered, the apiserver answers, and (when the record has
    one) it reports the registered kube-system UID.

    A record found dead (pids gone, port refused, or another cluster answering on the port)
    is pruned. Every doubt answers ``False``, the safe side for the guard.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     is_harness_created(Path(root) / "missing-kubeconfig")
    False
    """
    try:
        target = kubeconfig_target(Path(kubeconfig_path), context)
        entry = find_by_server(target.server, root)
    except (ClusterError, ValueError):
        return False
    if entry is None:
        return False
    seen = probe_identity(target.path, target.context, timeout=timeout)
    if seen.state != "answers":
        if seen.state == "dead" and _is_stale(entry):
            _remove_if_unchanged(entry, root)
        return False
    if entry.cluster_uid and seen.uid != entry.cluster_uid:
        if _is_stale(entry, seen):
            _remove_if_unchanged(entry, root)
        return False
    # with its processes gone, whatever answers is not what was registered
    return not entry.pids or any(pid_alive(p) for p in entry.pids)
