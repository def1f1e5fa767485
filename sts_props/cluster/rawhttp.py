"""Plain HTTP GETs against the apiserver with a kubernetes client's credentials.

The recorder streams watches as raw JSON lines, and the readiness probe asks ``/readyz``; both
go through urllib3 directly so they do not depend on the generated client's internal
``call_api`` signature (which changed between client major versions).

>>> # resp = get(api_client, "/readyz"); resp.status
"""

from __future__ import annotations

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
