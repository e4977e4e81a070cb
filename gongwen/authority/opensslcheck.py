"""``verify-openssl.sh``: a POSIX shell script written next to an export that checks every
exported certificate and CRL with the ``openssl`` command line alone (issue 5).

Why a script and not two commands: our GM certificates and CRLs are signed with the standard
SM2 signer ID 1234567812345678 (GM/T 0009, GB/T 35276). OpenSSL 3.0 verifies certificate
and CRL signatures with an *empty* ID; ``-vfyopt distid:`` reaches only the target
certificate of ``openssl verify`` and ``openssl crl -verify`` has no such option
(openssl/openssl#23471, #24167, #32744; Tongsuo uses the default ID). So for GM the script
checks link by link: each non-root certificate with
``openssl verify -partial_chain -vfyopt distid:… -CAfile <issuer> <cert>``, the self-signed
root and every CRL with ``openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:…``
over the to-be-signed part cut out by ``openssl asn1parse -strparse``. INTL exports run the
standard single commands (``openssl verify -crl_check_all … -untrusted …``,
``openssl crl -verify -CAfile …``). Pure: no Django.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

__all__ = ["SCRIPT_NAME", "CRLItem", "CertItem", "render_script"]

SCRIPT_NAME = "verify-openssl.sh"
SM2_ID = "1234567812345678"


@dataclass(frozen=True)
class CertItem:
    """One exported certificate. ``issuer`` is the issuer's file (itself for the root),
    ``chain`` the intermediate CA files between the root and the issuer (issuer included,
    root excluded), ``crl`` the issuer's CRL file for the revocation check of a leaf."""

    file: str
    suite: str
    issuer: str
    root: str
    chain: tuple[str, ...] = ()
    crl: str = ""


@dataclass(frozen=True)
class CRLItem:
    file: str
    suite: str
    issuer: str


@dataclass
class _Lines:
    lines: list[str] = field(default_factory=list)

    def call(self, *words: str) -> None:
        self.lines.append(" ".join(shlex.quote(w) for w in words))


_PRELUDE = r"""#!/bin/sh
# verify-openssl.sh — written by `gongwen pki export`. Checks every certificate and CRL of
# this directory with the openssl command line alone, link by link; prints one line per
# check (OK/FAIL) and exits 1 if any check fails (2 if it cannot run at all).
#
# GM suite: our SM2 signatures use the standard signer ID 1234567812345678 (GM/T 0009,
# GB/T 35276). OpenSSL 3.0 checks certificate and CRL signatures with an empty ID and
# applies -vfyopt distid: to the target certificate only (openssl/openssl#23471, #24167,
# #32744), so `openssl verify -CAfile root -untrusted …` and `openssl crl -verify` cannot
# accept a standard GM chain; each link is checked here instead. INTL: standard commands.
#
# Usage: sh verify-openssl.sh        (OPENSSL=/path/to/openssl to use another binary)
set -u
cd "$(dirname "$0")" || exit 2
OPENSSL=${OPENSSL:-openssl}
DISTID=distid:1234567812345678
fails=0
checks=0
"$OPENSSL" version >/dev/null 2>&1 || { echo "FAIL openssl not found ($OPENSSL)"; exit 2; }
tmp=$(mktemp -d 2>/dev/null) || { echo "FAIL cannot create a temporary directory"; exit 2; }
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM

ok() { checks=$((checks + 1)); echo "OK   $*"; }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL $*"; }
# result STATUS MESSAGE: OK when STATUS is 0, FAIL otherwise.
result() { st=$1; shift; msg="$*"; msg=${msg% }; if [ "$st" -eq 0 ]; then ok "$msg"; else fail "$msg"; fi; }
# why OUTPUT: openssl's first "error N at D depth lookup: …" line, for a FAIL message.
why() { printf '%s\n' "$1" | sed -n '/^error [0-9]/{s/^/— /;p;q;}'; }

# "Dec  3 17:00:00 2026 GMT" (openssl's date format) -> 20261203170000
ts() {
    echo "$1" | awk '{ m = index("JanFebMarAprMayJunJulAugSepOctNovDec", $1);
        split($3, t, ":"); printf "%04d%02d%02d%02d%02d%02d\n", $4, (m + 2) / 3, $2, t[1], t[2], t[3] }'
}
now=$(date -u +%Y%m%d%H%M%S)

# sm2_sig FILE ISSUER_CERT: SM2 signature of a PEM certificate or CRL over its to-be-signed
# part (the first element of the outer SEQUENCE), SM3, signer ID 1234567812345678.
sm2_sig() {
    "$OPENSSL" x509 -in "$2" -noout -pubkey >"$tmp/pub.pem" 2>/dev/null || return 1
    "$OPENSSL" asn1parse -in "$1" >"$tmp/asn1.txt" 2>/dev/null || return 1
    tbs_at=$(awk -F: '/d=1 / { gsub(/ /, "", $1); print $1; exit }' "$tmp/asn1.txt")
    sig_at=$(awk -F: '/d=1 / && /BIT STRING/ { o = $1 } END { gsub(/ /, "", o); print o }' "$tmp/asn1.txt")
    [ -n "$tbs_at" ] && [ -n "$sig_at" ] || return 1
    "$OPENSSL" asn1parse -in "$1" -strparse "$tbs_at" -noout -out "$tmp/tbs.der" >/dev/null 2>&1 || return 1
    "$OPENSSL" asn1parse -in "$1" -strparse "$sig_at" -noout -out "$tmp/sig.der" >/dev/null 2>&1 || return 1
    "$OPENSSL" pkeyutl -verify -pubin -inkey "$tmp/pub.pem" -rawin -digest sm3 \
        -pkeyopt "$DISTID" -in "$tmp/tbs.der" -sigfile "$tmp/sig.der" >/dev/null 2>&1
}

# validity CERT: notBefore <= now < notAfter (openssl x509 -checkend 0 for notAfter).
validity() {
    nb=$("$OPENSSL" x509 -in "$1" -noout -startdate 2>/dev/null | sed 's/^notBefore=//')
    na=$("$OPENSSL" x509 -in "$1" -noout -enddate 2>/dev/null | sed 's/^notAfter=//')
    if [ -z "$nb" ] || [ "$(ts "$nb")" -gt "$now" ]; then
        fail "validity $1: not yet valid (notBefore=$nb)"
    elif "$OPENSSL" x509 -in "$1" -noout -checkend 0 >/dev/null 2>&1; then
        ok "validity $1: notBefore=$nb notAfter=$na"
    else
        fail "validity $1: expired (notAfter=$na)"
    fi
}

# crl_fresh CRL: lastUpdate <= now < nextUpdate.
crl_fresh() {
    lu=$("$OPENSSL" crl -in "$1" -noout -lastupdate 2>/dev/null | sed 's/^lastUpdate=//')
    nu=$("$OPENSSL" crl -in "$1" -noout -nextupdate 2>/dev/null | sed 's/^nextUpdate=//')
    if [ -z "$lu" ] || [ -z "$nu" ] || [ "$nu" = NONE ]; then
        fail "CRL times $1: cannot read lastUpdate/nextUpdate"
    elif [ "$(ts "$lu")" -gt "$now" ]; then
        fail "CRL times $1: lastUpdate=$lu is in the future"
    elif [ "$(ts "$nu")" -le "$now" ]; then
        fail "CRL times $1: stale, nextUpdate=$nu has passed"
    else
        ok "CRL times $1: lastUpdate=$lu nextUpdate=$nu"
    fi
}

# gm_cert CERT ISSUER: the certificate's SM2 signature by its issuer's key.
gm_cert() {
    if [ "$1" = "$2" ]; then
        sm2_sig "$1" "$2"
        result $? "signature $1 (self-signed): openssl pkeyutl -rawin -digest sm3 -pkeyopt $DISTID"
    else
        out=$("$OPENSSL" verify -partial_chain -vfyopt "$DISTID" -CAfile "$2" "$1" 2>&1)
        st=$?
        result $st "signature $1 by $2: openssl verify -partial_chain -vfyopt $DISTID" \
            "$(why "$out")"
    fi
}

# gm_crl CRL ISSUER: issuer name and SM2 signature of the CRL.
gm_crl() {
    cn=$("$OPENSSL" crl -in "$1" -noout -issuer -nameopt RFC2253 2>/dev/null | sed 's/^issuer=//')
    sn=$("$OPENSSL" x509 -in "$2" -noout -subject -nameopt RFC2253 2>/dev/null | sed 's/^subject=//')
    if [ -z "$cn" ] || [ "$cn" != "$sn" ]; then
        fail "CRL signature $1 by $2: issuer name differs ($cn)"
        return
    fi
    sm2_sig "$1" "$2"
    result $? "CRL signature $1 by $2: openssl pkeyutl -rawin -digest sm3 -pkeyopt $DISTID"
}

# gm_revocation CERT CRL: the certificate's serial is not listed in its issuer's CRL (whose
# signature is checked by gm_crl; OpenSSL 3.0 cannot use a GM CRL in -crl_check).
gm_revocation() {
    serial=$("$OPENSSL" x509 -in "$1" -noout -serial 2>/dev/null | sed 's/^serial=//')
    if [ -z "$serial" ] || ! "$OPENSSL" crl -in "$2" -noout -text >"$tmp/crl.txt" 2>/dev/null; then
        fail "revocation $1: cannot read the serial or $2"
    elif grep -q "Serial Number: *$serial\$" "$tmp/crl.txt"; then
        fail "revocation $1: serial $serial is REVOKED in $2"
    else
        ok "revocation $1: serial $serial not listed in $2"
    fi
}

# intl_chain CERT ROOT [INTERMEDIATE...]: the standard single command, with every CRL.
intl_chain() {
    cert=$1; root=$2; shift 2
    unt=""
    for f in "$@"; do [ -n "$f" ] && unt="$unt -untrusted $f"; done
    # shellcheck disable=SC2086
    out=$("$OPENSSL" verify -check_ss_sig -crl_check_all $CRLS -CAfile "$root" $unt "$cert" 2>&1)
    st=$?
    result $st "chain $cert: openssl verify -check_ss_sig -crl_check_all -CAfile $root$unt" \
        "$(why "$out")"
}

# intl_crl CRL ISSUER: openssl crl -verify.
intl_crl() {
    out=$("$OPENSSL" crl -in "$1" -noout -verify -CAfile "$2" 2>&1)
    st=$?
    case "$out" in *"verify OK"*) ;; *) st=1 ;; esac
    result $st "CRL signature $1 by $2: openssl crl -verify" \
        "$(why "$out")"
}

"""

_EPILOGUE = r"""
if [ "$fails" -ne 0 ]; then
    echo "FAILED: $fails of $checks checks"
    exit 1
fi
echo "ALL OK: $checks checks"
exit 0
"""


def render_script(certs: list[CertItem], crls: list[CRLItem]) -> str:
    """The script text for the exported ``certs`` (CA certificates first, then end-entity
    certificates) and ``crls``. File names are relative to the export directory."""
    body = _Lines()
    intl_crls = [c.file for c in crls if c.suite != "GM"]
    if intl_crls:
        body.lines.append("CRLS=" + shlex.quote(" ".join(f"-CRLfile {f}" for f in intl_crls)))
    for item in crls:
        if item.suite == "GM":
            body.call("gm_crl", item.file, item.issuer)
        else:
            body.call("intl_crl", item.file, item.issuer)
        body.call("crl_fresh", item.file)
    for cert in certs:
        body.call("validity", cert.file)
        if cert.suite == "GM":
            body.call("gm_cert", cert.file, cert.issuer)
            if cert.crl:
                body.call("gm_revocation", cert.file, cert.crl)
        else:
            body.call("intl_chain", cert.file, cert.root, *cert.chain)
    return _PRELUDE + "\n".join(body.lines) + "\n" + _EPILOGUE
