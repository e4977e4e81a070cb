"""The seal lifecycle in a real browser (issue 6): a city bureau's clerk fills the make
application naming its seal keeper, the bureau head signs, the operator of 市政府办公室
approves and executes with the city seal-maker key disk, the register shows the new
seal with its red image, and the keeper's loss report revokes it at once. Screenshots land in test-artifacts/e2e/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from gongwen.accounts.models import Role
from gongwen.seals.models import ApplicationState, SealApplication, SealStatus
from gongwen.units.models import Kind, Level
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

KEEPER_PIN = "80417326"
MAKER_PIN = "55117788"

# Share of the image's pixels that are opaque seal red (#E60012 with anti-aliasing).
RED_SHARE_JS = """img => {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let red = 0, other = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] < 128) continue;
    if (d[i] > 180 && d[i + 1] < 80 && d[i + 2] < 80) red++; else other++;
  }
  return {w: img.naturalWidth, h: img.naturalHeight, red: red / (c.width * c.height),
          other: other};
}"""


@pytest.fixture
def city_bureau(settings, make_unit, make_user, unit_a, operator):
    settings.GONGWEN = {**settings.GONGWEN, "PBKDF2_ITERATIONS": 1000, "SUITE": "GM"}
    from gongwen.authority import services as authority

    authority.init_pki()
    authority.issue_certificate(unit=unit_a, profile="seal-maker", holder=operator,
                                pin=MAKER_PIN)
    make_user(unit_a, Role.HEAD, username="sfb_head")
    bureau = make_unit("连云港市人力资源和社会保障局", level=Level.DEPARTMENT,
                       kind=Kind.DEPARTMENT)
    keeper = make_user(bureau, Role.SEAL_KEEPER, username="rsj_seal")
    keeper.full_name = "周印章"
    keeper.save(update_fields=["full_name"])
    return {"unit": bureau, "keeper": keeper,
            "clerk": make_user(bureau, Role.CLERK, username="rsj_clerk"),
            "head": make_user(bureau, Role.HEAD, username="rsj_head")}


def _switch_user(page, username: str) -> None:
    page.context.clear_cookies()
    login(page, username, PASSWORD)


@pytest.mark.django_db(transaction=True)
def test_make_application_from_clerk_to_issued_seal(page, shot, city_bureau):
    keeper = city_bureau["keeper"]
    # 1. The bureau's clerk fills the unified form (art. 7).
    login(page, "rsj_clerk", PASSWORD)
    page.goto("/seals/applications/new/")
    page.get_by_label("申请事项").select_option("make")
    page.get_by_label("印章管理员").select_option(str(keeper.pk))
    page.get_by_label("申请理由（书面证明）").fill("本局接入电子公文传输平台，申请制作电子印章。")
    shot("filled")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url("**/seals/applications/*/")
    expect(page.get_by_text("请本单位负责人签字")).to_be_visible()
    app = SealApplication.objects.get()
    assert app.state == ApplicationState.FILLED and app.applicant == city_bureau["clerk"]
    url = f"/seals/applications/{app.pk}/"

    # 2. The bureau head agrees and signs.
    _switch_user(page, "rsj_head")
    page.goto(url)
    page.get_by_role("button", name="同意并签字").click()
    expect(page.get_by_text("已签字，报市政府办公室审批")).to_be_visible()
    shot("signed")

    # 3. 市政府办公室's operator approves, then executes with the seal-maker key disk.
    _switch_user(page, "op")
    page.goto(url)
    page.get_by_role("button", name="批准").click()
    expect(page.get_by_text("已批准，待制章单位办理")).to_be_visible()
    page.get_by_label("制章单位密钥盘口令").fill(MAKER_PIN)
    page.get_by_label("新密钥盘初始口令").fill(KEEPER_PIN)
    page.get_by_label("再次输入初始口令").fill(KEEPER_PIN)
    shot("execute")
    page.get_by_role("button", name="办理").click()
    expect(page.get_by_text("已办理。")).to_be_visible()
    app.refresh_from_db()
    seal = app.result_seal
    assert app.state == ApplicationState.EXECUTED and seal.status == SealStatus.ACTIVE
    assert seal.keeper == keeper and seal.diameter_mm == 42

    # 4. The register lists the new seal with its red, round image.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="印章管理").click()
    page.wait_for_url("**/seals/")
    row = page.locator("table.grid tr", has_text=seal.es_id)
    expect(row.get_by_role("link", name="连云港市人力资源和社会保障局")).to_be_visible()
    expect(row.get_by_text("有效")).to_be_visible()
    expect(row.get_by_text("周印章")).to_be_visible()
    img = row.get_by_role("img", name="连云港市人力资源和社会保障局印模")
    img.evaluate("i => i.complete || new Promise(r => i.onload = r)")
    pixels = img.evaluate(RED_SHARE_JS)
    assert pixels["w"] == pixels["h"] == 992  # 42 mm at 600 dpi
    assert pixels["red"] > 0.05 and pixels["other"] == 0
    shot("register")

    # 5. The seal's page (its history) for the bureau's keeper.
    _switch_user(page, "rsj_seal")
    page.goto(f"/seals/{seal.pk}/")
    expect(page.get_by_text(seal.es_id).first).to_be_visible()
    expect(page.get_by_text("制发").first).to_be_visible()
    shot("seal")

    # 6. The keeper reports the key disk lost: the seal is revoked at once (art. 8).
    page.goto(f"/seals/applications/new/?kind=reissue_lost&seal={seal.pk}")
    page.get_by_label("申请理由（书面证明）").fill("密钥盘遗失，申请挂失补发。")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url("**/seals/applications/*/")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="印章管理").click()
    row = page.locator("table.grid tr", has_text=seal.es_id)
    expect(row.get_by_text("已挂失注销")).to_be_visible()
    shot("lost")
    seal.refresh_from_db()
    seal.certificate.refresh_from_db()
    assert seal.status == SealStatus.LOST and seal.certificate.status == "revoked"
    assert seal.certificate.revoked_by == keeper
