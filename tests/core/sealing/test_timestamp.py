"""PAdES B-T: an RFC 3161 signature time-stamp from a TSA reached over HTTP (a local test
TSA: pyHanko's DummyTimeStamper behind http.server, with a timeStamping certificate
issued by the test root)."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from asn1crypto import keys as a_keys
from asn1crypto import tsp as a_tsp
from asn1crypto import x509 as a_x509
from cryptography import x509 as c_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from gongwen.sealing.errors import SealingError
from gongwen.sealing.pdf_verify import check_pdf
from gongwen.sealing.timestamp import HTTPTimeStamper, build_request, token_from_response
from tests.tools import has_tool, run_tool

from .conftest import AT, SIGNED_AT, T0, seal

TS_TIME = SIGNED_AT + timedelta(minutes=1)


def _tsa(intl_pki):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = c_x509.load_der_x509_certificate(intl_pki.root.cert)
    name = c_x509.Name([c_x509.NameAttribute(c_x509.NameOID.COMMON_NAME, "gongwen 测试时间戳服务")])
    cert = (
        c_x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(c_x509.random_serial_number())
        .not_valid_before(T0)
        .not_valid_after(T0 + timedelta(days=3650))
        .add_extension(c_x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(
            c_x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(intl_pki.root.key, hashes.SHA256())
    )
    key_der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return (
        a_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        a_keys.PrivateKeyInfo.load(key_der),
    )


@pytest.fixture(scope="module")
def tsa_url(intl_pki):
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    cert, key = _tsa(intl_pki)
    dummy = DummyTimeStamper(tsa_cert=cert, tsa_key=key, fixed_dt=TS_TIME)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_response(415)
                self.end_headers()
                return
            resp = dummy.request_tsa_response(a_tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(resp)))
            self.end_headers()
            self.wfile.write(resp)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa", cert
    server.shutdown()
    server.server_close()


def test_b_t_seal_carries_a_valid_time_stamp(intl_pki, small_pdf, tsa_url):
    url, tsa_cert = tsa_url
    out = seal(small_pdf, intl_pki.unit, intl_pki, timestamper=HTTPTimeStamper(url))
    (res,) = check_pdf(out, at=AT).signatures
    assert res.ok, [c.as_dict() for c in res.failures]
    assert res.check("timestamp").ok
    assert res.signing_time == TS_TIME and res.signing_time_source == "timestamp"
    assert res.timestamp.tsa_cert == tsa_cert.dump()


def test_b_t_seal_in_pyhanko_and_pdfsig(intl_pki, small_pdf, tsa_url, tmp_path):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    url, _cert = tsa_url
    out = seal(small_pdf, intl_pki.unit, intl_pki, timestamper=HTTPTimeStamper(url))
    vc = ValidationContext(
        trust_roots=[a_x509.Certificate.load(intl_pki.root.cert)],
        other_certs=[a_x509.Certificate.load(intl_pki.city.cert)],
        allow_fetching=False,
        revocation_mode="soft-fail",
        moment=AT,
    )
    r = PdfFileReader(io.BytesIO(out))
    st = validate_pdf_signature(r.embedded_signatures[0], vc)
    assert st.intact and st.valid and st.trusted
    assert st.timestamp_validity is not None
    assert st.timestamp_validity.intact and st.timestamp_validity.valid
    assert st.timestamp_validity.timestamp == TS_TIME
    if has_tool("pdfsig"):
        p = tmp_path / "bt.pdf"
        p.write_bytes(out)
        text = run_tool(["pdfsig", p], check=False).stdout.decode()
        assert "Signature is Valid." in text


def test_time_stamp_over_another_signature_fails(intl_pki, small_pdf, tsa_url):
    """A token whose imprint covers other bytes than this signature value is refused."""

    class WrongImprint:
        def __init__(self, inner):
            self.inner = inner

        def timestamp(self, data: bytes) -> bytes:
            return self.inner.timestamp(data + b"x")

    url, _cert = tsa_url
    out = seal(small_pdf, intl_pki.unit, intl_pki, timestamper=WrongImprint(HTTPTimeStamper(url)))
    (res,) = check_pdf(out, at=AT).signatures
    assert res.check("timestamp").failed
    assert "时间戳" in res.check("timestamp").reason_zh


def test_time_stamp_request_and_refusals():
    req = a_tsp.TimeStampReq.load(build_request(b"sig", nonce=7))
    assert req["nonce"].native == 7 and req["cert_req"].native is True
    assert req["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    refused = bytes.fromhex("3005300302010" + "2")  # PKIStatusInfo { status rejection (2) }
    with pytest.raises(SealingError):
        token_from_response(refused)
    with pytest.raises(SealingError):
        token_from_response(b"\x30\x03\x02\x01\x00")
    with pytest.raises(SealingError):
        HTTPTimeStamper("ftp://example.invalid/tsa")
    with pytest.raises(SealingError):
        HTTPTimeStamper("http://127.0.0.1:9/tsa", timeout=0.5).timestamp(b"x")
