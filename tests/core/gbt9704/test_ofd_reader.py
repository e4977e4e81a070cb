"""OFDReader tolerance: a PublicRes.xml that Document.xml references but the package lacks
(as ofdrw writes for documents without fonts) is a warning, not an error."""

import io
import zipfile
from pathlib import Path

import pytest

from gongwen.documents.gbt9704.ofd_reader import OFDError, OFDReader, OFDWarning

VECTORS = Path("/work/shared/vectors/ofd")


def _without(data: bytes, drop: str) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            if info.filename != drop:
                dst.writestr(info, src.read(info.filename))
    return buf.getvalue()


def test_missing_public_res_is_a_warning_and_the_text_is_read(seed_ofd):
    broken = _without(seed_ofd, "Doc_0/PublicRes.xml")
    with pytest.warns(OFDWarning, match="PublicRes.xml"):
        reader = OFDReader(broken)
    assert reader.fonts == {}
    assert len(reader.warnings) == 1 and "Doc_0/PublicRes.xml" in reader.warnings[0]
    assert reader.text() == OFDReader(seed_ofd).text()


def test_a_complete_package_has_no_warnings(seed_ofd):
    assert OFDReader(seed_ofd).warnings == []


def test_a_missing_page_is_still_an_error(seed_ofd):
    reader = OFDReader(_without(seed_ofd, "Doc_0/Pages/Page_1/Content.xml"))
    with pytest.raises(OFDError) as exc:
        reader.page_text(1)
    assert "缺少文件" in exc.value.message_zh


@pytest.mark.parametrize("name", ["ofdrw_two_seals_h.ofd", "ofdrw_riding_seal_V4RideRight.ofd"])
def test_ofdrw_vectors_without_public_res(name):
    path = VECTORS / name
    if not path.exists():
        pytest.skip(f"vector {name} not on this machine")
    with pytest.warns(OFDWarning):
        reader = OFDReader(path.read_bytes())
    assert reader.page_count >= 1 and reader.warnings
    reader.text()  # every page readable
