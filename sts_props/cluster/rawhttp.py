"""Plain HTTP against the apiserver with a kubernetes client's credentials.

The recorder streams watches as raw JSON lines, and the readiness probe asks ``/readyz``; both
go through urllib3 directly so they do not depend on the generated client's internal
``call_api`` signature (which changed between client major versions).

Some writes need their exact bytes, which the generated client (it serialises every body with
``json.dumps``) cannot send: a ControllerRevision keeps ``data`` as the bytes it was created
with, the apiserver's immutability check compares those bytes, and a patch re-encodes
``data`` the Go way (keys sorted, no spaces, ``<``, ``>`` and ``&`` escaped). A revision
created in another form can never be patched, the controller's adoption of an orphan included
(docs/findings.md F-7). The harness writes revisions in the Go form (:func:`go_json`) with
:func:`send`.

>>> # resp = get(api_client, "/readyz"); resp.status
>>> print(go_json({"b": [1, "x<y"], "a": None, "é": "&"}))
{"a":null,"b":[1,"x\\u003cy"],"é":"\\u0026"}
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import urllib3


def pool_for(api_client: Any) -> urllib3.PoolManager:
    """A connection pool with the TLS settings of ``api_client.configuration``."""
    cfg = api_client.configuration
    kwargs: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED" if cfg.verify_ssl else "CERT_NONE"}
    if cfg.ssl_ca_cert:
        kwargs["ca_certs"] = cfg.ssl_ca_cert
    if getattr(cfg, "ca_cert_data", None):
        kwargs["ca_cert_data"] = cfg.ca_cert_data
    if cfg.cert_file:
        kwargs["cert_file"] = cfg.cert_file
    if cfg.key_file:
        kwargs["key_file"] = cfg.key_file
    if getattr(cfg, "tls_server_name", None):
        kwargs["server_hostname"] = cfg.tls_server_name
    return urllib3.PoolManager(num_pools=4, maxsize=8, **kwargs)


def _headers(api_client: Any) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    token = api_client.configuration.auth_settings().get("BearerToken")
    if token and token.get("value"):
        headers["Authorization"] = str(token["value"])
    return headers


def get(api_client: Any, path: str, query: list[tuple[str, Any]] | None = None,
        stream: bool = False, read_timeout: float = 10.0,
        pool: urllib3.PoolManager | None = None) -> urllib3.BaseHTTPResponse:
    """GET ``path``; with ``stream`` the body is not read (iterate the response)."""
    host = api_client.configuration.host.rstrip("/")
    url = host + path + (("?" + urlencode(query)) if query else "")
    return (pool or pool_for(api_client)).request(
        "GET", url, headers=_headers(api_client), preload_content=not stream,
        timeout=urllib3.Timeout(connect=5.0, read=read_timeout), retries=False)


def send(api_client: Any, method: str, path: str, text: str | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """``method`` on ``path`` with ``text`` (JSON, sent byte for byte) and more ``headers``
    (impersonation, :mod:`sts_props.cluster.quiet_gap`); ``(HTTP status, decoded answer)``."""
    url = api_client.configuration.host.rstrip("/") + path
    sent = {**_headers(api_client), "Content-Type": "application/json", **(headers or {})}
    resp = pool_for(api_client).request(
        method, url, body=None if text is None else text.encode(), headers=sent,
        timeout=urllib3.Timeout(connect=5.0, read=30.0), retries=False)
    try:
        answer = json.loads(resp.data or b"{}")
    except ValueError:
        answer = {"message": resp.data.decode(errors="replace")[:200]}
    return int(resp.status), answer if isinstance(answer, dict) else {}


#: What Go's encoding/json escapes inside strings and Python's json module does not.
_GO_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
               ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def go_json(value: Any) -> str:
    """``value`` as Go's ``json.Marshal`` writes a map of it: keys sorted, no spaces, UTF-8,
    HTML characters escaped. (Floats may be written differently; the harness's revision data
    holds none.) The escaped characters occur only inside strings, so replacing them in the
    whole text is safe."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in _GO_ESCAPES:
        text = text.replace(char, escaped)
    return text
