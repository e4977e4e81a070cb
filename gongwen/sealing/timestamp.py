"""RFC 3161 signature time-stamps for PAdES B-T (ETSI EN 319 142-1 §5.4).

:class:`HTTPTimeStamper` asks a time-stamp authority over HTTP (``application/timestamp-
query``) for a token over the SHA-256 digest of the signature value; the token goes into
the CMS as the unsigned attribute id-aa-signatureTimeStampToken. Configure it with the TSA
URL; without one, INTL seals are B-B.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from typing import Any

from asn1crypto import algos as a_algos
from asn1crypto import tsp as a_tsp

from .errors import SealingError

__all__ = ["HTTPTimeStamper", "build_request", "token_from_response"]


def build_request(data: bytes, *, hash_name: str = "sha256", nonce: int | None = None) -> bytes:
    """DER TimeStampReq for ``data`` (certReq true, so the token carries the TSA cert)."""
    digest = hashlib.new(hash_name, data).digest()
    req = a_tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": a_tsp.MessageImprint(
                {
                    "hash_algorithm": a_algos.DigestAlgorithm({"algorithm": hash_name}),
                    "hashed_message": digest,
                }
            ),
            "nonce": nonce if nonce is not None else int.from_bytes(os.urandom(8), "big"),
            "cert_req": True,
        }
    )
    return req.dump()


def token_from_response(resp_der: bytes, *, nonce: int | None = None) -> bytes:
    """The TimeStampToken (DER ContentInfo) of a granted TimeStampResp."""
    try:
        resp = a_tsp.TimeStampResp.load(resp_der)
        status = resp["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            raise SealingError(
                f"time-stamp authority refused the request: {status}",
                message_zh="时间戳服务拒绝了请求",
            )
        token = resp["time_stamp_token"]
        if nonce is not None:
            tst = token["content"]["encap_content_info"]["content"].parsed
            if tst["nonce"].native != nonce:
                raise SealingError("time-stamp nonce mismatch", message_zh="时间戳随机数不符")
        return token.dump()
    except SealingError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise SealingError(
            f"bad time-stamp response: {exc}", message_zh="时间戳服务应答格式错误"
        ) from exc


class HTTPTimeStamper:
    """A time-stamp authority reached over HTTP(S)."""

    def __init__(self, url: str, *, timeout: float = 10.0, hash_name: str = "sha256") -> None:
        if not url.startswith(("http://", "https://")):
            raise SealingError("time-stamp URL must be http(s)", message_zh="时间戳服务地址无效")
        self.url = url
        self.timeout = timeout
        self.hash_name = hash_name

    def timestamp(self, data: bytes) -> bytes:
        nonce = int.from_bytes(os.urandom(8), "big")
        body = build_request(data, hash_name=self.hash_name, nonce=nonce)
        req = urllib.request.Request(
            self.url,
            data=body,
            headers={"Content-Type": "application/timestamp-query"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                resp: Any = r.read()
        except OSError as exc:
            raise SealingError(
                f"time-stamp authority unreachable: {exc}", message_zh="无法连接时间戳服务"
            ) from exc
        return token_from_response(resp, nonce=nonce)
