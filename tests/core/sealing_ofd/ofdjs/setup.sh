#!/bin/sh
# Install ofd.js 0.2.6 (DLTech21, Apache-2.0) into a throw-away directory and extract its own
# signature code (ses_signature_parser.js, verify_signature_util.js, sm3.js, ofd_util.js) from
# the package's source map, so tests/core/sealing_ofd can run it headless in node as an
# independent GB/T 38540 verifier. Nothing here is committed or imported by gongwen.
#
#   sh tests/core/sealing_ofd/ofdjs/setup.sh [DIR]      (default /tmp/gongwen-ofdjs)
#
# @lapo/asn1js is pinned to 1.2.1: from 1.2.4 on, parseStringUTF returns {size, str} and
# ofd.js 0.2.6 fails to read any seal.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${1:-${GONGWEN_OFDJS_DIR:-/tmp/gongwen-ofdjs}}
mkdir -p "$DIR/harness"
cd "$DIR"
[ -f package.json ] || npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts --save-exact ofd.js@0.2.6 @lapo/asn1js@1.2.1 >/dev/null
python3 - "$DIR" <<'PY'
import json, re, sys
from pathlib import Path
d = Path(sys.argv[1])
m = json.loads((d / "node_modules/ofd.js/lib/ofd.common.js.map").read_text())
wanted = {"ses_signature_parser", "verify_signature_util", "sm3", "ofd_util"}
for src, text in zip(m["sources"], m["sourcesContent"]):
    name = src.rsplit("/", 1)[-1].removesuffix(".js")
    if "/src/utils/ofd/" in src and name in wanted and text:
        text = re.sub(r'"@/utils/ofd/([a-z_0-9]+)"', r'"./\1.mjs"', text)
        text = re.sub(r'from "@lapo/asn1js/(hex|base64)"', r'from "@lapo/asn1js/\1.js"', text)
        (d / "harness" / f"{name}.mjs").write_text(text)
        wanted.discard(name)
if wanted:
    sys.exit(f"ofd.js sources not found in the source map: {sorted(wanted)}")
PY
cp "$HERE/verify.mjs" "$DIR/harness/verify.mjs"
echo "ofd.js harness ready: node $DIR/harness/verify.mjs FILE.ofd"
