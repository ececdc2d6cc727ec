"""Use the arcgis-mcp sign-in from Python scripts and notebooks (standard library only).

The token comes from ``arcgis-mcp token``: the same sign-in the MCP server uses (the refresh token
stays in the OS keychain; this module only ever sees a short-lived access token, fetched fresh on
every call). Sign in once with ``arcgis-mcp login``.

    import arcgis_mcp
    rows = arcgis_mcp.query("https://services.arcgis.com/<org>/arcgis/rest/services/Shelters/FeatureServer/0",
                            where="STATUS = 'OPEN'", out_fields="NAME,CAPACITY")

The access token is a secret: it travels only in the ``X-Esri-Authorization`` header of a POST
(never in a URL), is never printed, and is sent only to the https (or loopback http) URL you pass.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shlex
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional

__all__ = ["ArcGisMcpError", "get_token", "query"]

_TIMEOUT_S = 60
_REPO_ENTRY = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "dist", "index.js")


class ArcGisMcpError(RuntimeError):
    """`arcgis-mcp token` failed, or ArcGIS answered with an error envelope."""

    def __init__(self, message: str, code: Optional[int] = None):
        super().__init__(message)
        self.code = code


def _command() -> List[str]:
    """ARCGIS_MCP_BIN, else `arcgis-mcp` on PATH, else `node <repo>/dist/index.js`."""
    configured = os.environ.get("ARCGIS_MCP_BIN")
    if configured:
        if os.path.exists(configured):
            return ["node", configured] if configured.endswith(".js") else [configured]
        return shlex.split(configured)
    on_path = shutil.which("arcgis-mcp")
    if on_path:
        return [on_path]
    entry = os.path.normpath(_REPO_ENTRY)
    if os.path.exists(entry):
        return ["node", entry]
    raise ArcGisMcpError(
        "arcgis-mcp not found: install it (npm install -g arcgis-mcp), "
        "or set ARCGIS_MCP_BIN to the arcgis-mcp binary or to dist/index.js"
    )


def get_token(profile: Optional[str] = None) -> str:
    """A fresh access token of the shared sign-in (`arcgis-mcp token`). Never logged or printed."""
    args = _command() + ["token"] + (["--profile", profile] if profile else [])
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ArcGisMcpError(f"could not run {shlex.join(args)}: {e}") from None
    token = done.stdout.strip()
    if done.returncode != 0 or not token or "\n" in token:
        message = done.stderr.strip() or f"arcgis-mcp token exited with {done.returncode}"
        raise ArcGisMcpError(message)
    return token


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would forward X-Esri-Authorization to wherever a redirect points (NET-REDIRECTS).
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        raise ArcGisMcpError(f"{req.full_url} redirected (HTTP {code}); the token was not sent on", code)


_opener = urllib.request.build_opener(_NoRedirect)


def _is_loopback(host: Optional[str]) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False  # a name such as 127.example.com is not loopback


def _check_url(layer_url: str) -> str:
    url = urllib.parse.urlsplit(layer_url.strip())
    loopback = _is_loopback(url.hostname)
    if url.scheme != "https" and not (url.scheme == "http" and loopback):
        raise ArcGisMcpError(f"{layer_url!r}: only https URLs (http for loopback) receive a token")
    if url.username or url.password:
        raise ArcGisMcpError(f"{layer_url!r}: URLs with a user name are refused")
    if any(k.lower() in ("token", "access_token") for k, _ in urllib.parse.parse_qsl(url.query)):
        raise ArcGisMcpError("remove the token from the URL; the helper signs requests itself")
    return urllib.parse.urlunsplit((url.scheme, url.netloc, url.path.rstrip("/"), "", ""))


def _post(url: str, params: Dict[str, Any], token: str) -> Dict[str, Any]:
    body = urllib.parse.urlencode({**params, "f": "json"}).encode()
    req = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "X-Esri-Authorization": f"Bearer {token}",
            "User-Agent": "arcgis-mcp-python",
        },
    )
    try:
        with _opener.open(req, timeout=_TIMEOUT_S) as res:
            raw = res.read()
    except urllib.error.HTTPError as e:
        raise ArcGisMcpError(f"{url}: HTTP {e.code}", e.code) from None
    except urllib.error.URLError as e:
        raise ArcGisMcpError(f"{url}: {e.reason}") from None
    try:
        data = json.loads(raw)
    except ValueError:
        raise ArcGisMcpError(f"{url} did not answer JSON (is it an ArcGIS layer URL?)") from None
    # ArcGIS reports errors with HTTP 200 and an envelope: {"error": {"code": 498, "message": ...}}.
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        err = data["error"]
        details = "; ".join(str(d) for d in err.get("details") or [] if d)
        raise ArcGisMcpError(
            f"ArcGIS error {err.get('code')}: {err.get('message')}{f' ({details})' if details else ''}",
            err.get("code") if isinstance(err.get("code"), int) else None,
        )
    if not isinstance(data, dict):
        raise ArcGisMcpError(f"{url}: unexpected answer")
    return data


def query(
    layer_url: str,
    where: str = "1=1",
    out_fields: str = "*",
    limit: int = 100,
    profile: Optional[str] = None,
) -> List[Dict[str, Any]]:
    """Rows (attribute dicts) of a feature layer or table, at most `limit`, paging as the server asks."""
    url = _check_url(layer_url) + "/query"
    token = get_token(profile)
    rows: List[Dict[str, Any]] = []
    retried = False
    while len(rows) < limit:
        params = {
            "where": where,
            "outFields": out_fields,
            "returnGeometry": "false",
            "resultOffset": len(rows),
            "resultRecordCount": limit - len(rows),
        }
        try:
            page = _post(url, params, token)
        except ArcGisMcpError as e:
            if e.code != 498 or retried:
                raise
            token, retried = get_token(profile), True  # expired meanwhile: one fresh token, one retry
            continue
        features = page.get("features") or []
        rows.extend(f.get("attributes") or {} for f in features)
        if not features or not page.get("exceededTransferLimit"):
            break
    return rows[:limit]
