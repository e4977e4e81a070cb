// Headless driver for ofd.js 0.2.6's own signature code (ses_signature_parser.js,
// verify_signature_util.js from the package's source map). Mirrors ofd_parser.js
// getSignature/getSignatureData; prints one JSON line per signature.
import fs from "node:fs";
import { createRequire } from "node:module";
import { parseSesSignature, digestCheckProcess } from "./ses_signature_parser.mjs";
import { replaceFirstSlash } from "./ofd_util.mjs";
const require = createRequire(import.meta.url);
const JsZip = require("jszip");
const parser = require("ofd-xml-parser");
const ops = { attributeNamePrefix: "@_", ignoreAttributes: false, parseNodeValue: false, trimValues: false };
const origLog = console.log; if (!process.env.OFDJS_DEBUG) console.log = () => {};
async function json(zip, name) { return parser.parse(await zip.files[name].async("string"), ops); }
const zip = await JsZip.loadAsync(fs.readFileSync(process.argv[2]));
const ofd = await json(zip, "OFD.xml");
const out = [];
for (const docbody of [].concat(ofd["ofd:OFD"]["ofd:DocBody"])) {
  const doc = replaceFirstSlash(docbody["ofd:DocRoot"]).split("/")[0];
  let signatures = docbody["ofd:Signatures"];
  if (!signatures) continue;
  signatures = replaceFirstSlash(signatures);
  if (signatures.indexOf(doc) === -1) signatures = `${doc}/${signatures}`;
  const sigs = [].concat((await json(zip, signatures))["ofd:Signatures"]["ofd:Signature"]);
  for (const sign of sigs) {
    if (!sign) continue;
    let loc = replaceFirstSlash(sign["@_BaseLoc"]);
    if (loc.indexOf("Signs") === -1) loc = `Signs/${loc}`;
    if (loc.indexOf(doc) === -1) loc = `${doc}/${loc}`;
    const data = await json(zip, loc);
    let signedValue = data["ofd:Signature"]["ofd:SignedValue"].toString().replace("/", "");
    if (!zip.files[signedValue]) signedValue = `${loc.substring(0, loc.lastIndexOf("/"))}/${signedValue}`;
    const sealObj = await parseSesSignature(zip, signedValue);
    const info = data["ofd:Signature"]["ofd:SignedInfo"];
    const checkMethod = info["ofd:References"]["@_CheckMethod"];
    const arr = [];
    for (const reference of [].concat(info["ofd:References"]["ofd:Reference"])) {
      if (Object.keys(reference).length == 0 || Object.keys(reference["@_FileRef"]).length == 0) continue;
      const key = reference["@_FileRef"].replace("/", "");
      const fileData = zip.files[key] ? await zip.files[key].async("uint8array") : new Uint8Array();
      arr.push({ fileData, hashed: reference["ofd:CheckValue"], checkMethod });
    }
    out.push({ id: sign["@_ID"], verifyRet: sealObj.verifyRet === true, digest: digestCheckProcess(arr) === true,
               stampAnnot: info["ofd:StampAnnot"] !== undefined, sealName: sealObj.SES_Signature?.toSign?.eseal?.esealInfo?.property?.name ?? null });
  }
}
origLog(JSON.stringify(out));
