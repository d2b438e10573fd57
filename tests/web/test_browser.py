"""End-to-end in Debian's chromium (Playwright): forced password change, dashboard charts, filtering,
drill-down with the highlighted line, unmasking, export, and CJK rendering. Screenshots in test-artifacts/."""

from __future__ import annotations

import io
import shutil
import socket
import threading
import time
from pathlib import Path

import openpyxl
import pytest

from fundguard.config import Settings
from fundguard.store.db import Store
from fundguard.web.app import create_app

from .conftest import PASSWORD, RULES_DIR

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, warehouse_path, store_template):
    import uvicorn

    path = tmp_path_factory.mktemp("browser") / "store.sqlite"
    shutil.copy(store_template, path)
    store = Store(f"sqlite:///{path}", auto_migrate=False)
    # An extra administrator created the way a first run does: random password, must change it.
    from fundguard.store.passwords import random_password
    from fundguard.store.users import create_user

    first_pw = random_password()
    with store.session() as s:
        create_user(s, "newadmin", first_pw, "admin", admdvs_scope="*", must_change=True)
    app = create_app(Settings(warehouse=str(warehouse_path), store_url=store.url), rules_dir=RULES_DIR, store=store)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:  # readiness wait, not a timing assumption
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "first_pw": first_pw, "store": store}
    srv.should_exit = True
    thread.join(timeout=10)
    store.dispose()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(locale="zh-CN", accept_downloads=True, viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    yield pg
    ctx.close()


def _login(page, base, username, password):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_first_login_forces_password_change(server, page, artifacts_dir):
    _login(page, server["url"], "newadmin", server["first_pw"])
    page.wait_for_url("**/password")
    assert page.locator("text=首次登录或密码被重置").is_visible()
    page.fill("input[name=old_password]", server["first_pw"])
    page.fill("input[name=new_password]", "weak")
    page.fill("input[name=new_password2]", "weak")
    page.evaluate("document.querySelectorAll('input[minlength]').forEach(e => e.removeAttribute('minlength'))")
    page.click("main button[type=submit]")
    assert page.locator("text=密码长度至少 10 位").is_visible()
    page.screenshot(path=str(artifacts_dir / "web-password-change.png"))
    page.fill("input[name=old_password]", server["first_pw"])
    page.fill("input[name=new_password]", "Brand-New-Pw2025")
    page.fill("input[name=new_password2]", "Brand-New-Pw2025")
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin/users**")
    assert page.locator("h1", has_text="用户管理").is_visible()


def test_dashboard_renders_charts_and_chinese(server, page, artifacts_dir):
    _login(page, server["url"], "chief1", PASSWORD)
    page.wait_for_url("**/dashboard")
    page.wait_for_function("window.__chartReady === true")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.locator("#chart-trend canvas").count() == 1
    assert page.evaluate("""() => document.fonts.check('16px "Noto Sans CJK SC"')""")
    # Tofu boxes have the same 1em width as real CJK glyphs, so compare pixels: two different characters
    # rendered as glyphs differ, while missing glyphs draw identical boxes.
    glyphs = page.evaluate("""() => {
        const draw = (ch) => {
            const cv = document.createElement('canvas'); cv.width = 40; cv.height = 40;
            const c = cv.getContext('2d'); c.font = '32px "Noto Sans CJK SC"'; c.fillStyle = '#000';
            c.fillText(ch, 2, 32);
            return Array.from(c.getImageData(0, 0, 40, 40).data).join(',');
        };
        return {same: draw('医') === draw('保'), tofuLike: draw('医') === draw('\\uFFFF'),
                width: document.createElement('canvas').getContext('2d').measureText('医保').width};
    }""")
    assert glyphs == {"same": False, "tofuLike": False, "width": glyphs["width"]} and glyphs["width"] > 0
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK SC" in font
    page.screenshot(path=str(artifacts_dir / "web-dashboard.png"), full_page=True)
    assert page.errors == []


def test_filter_open_unmask_and_export(server, page, artifacts_dir):
    base = server["url"]
    _login(page, base, "auditor1", PASSWORD)
    page.goto(f"{base}/findings")
    assert page.locator("#findings-total").inner_text().startswith("共 4 条")
    page.select_option("select[name=result_type]", "明确违规")
    with page.expect_response(lambda r: "/findings/table" in r.url):
        page.click("#btn-filter")
    page.wait_for_function("document.querySelector('#findings-total').innerText.startsWith('共 2 条')")
    page.screenshot(path=str(artifacts_dir / "web-findings.png"), full_page=True)

    with page.expect_download() as dl:
        page.click("#btn-export")
    assert dl.value.suggested_filename.endswith(".xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))  # the temp path has no suffix
    header = [c.value for c in next(wb.active.iter_rows(max_row=1))]
    assert header[:3] == ["疑点ID", "规则编码", "规则名称"]
    assert len(list(wb.active.iter_rows(min_row=2, values_only=True))) == 2

    page.click("a.open >> nth=0")
    page.wait_for_selector("#violating-line")
    line = page.locator("#violating-line")
    assert "hit" in line.get_attribute("class")
    bg = line.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert bg != "rgba(0, 0, 0, 0)"
    assert page.locator("#person").inner_text().count("*") > 0
    page.click("#btn-unmask")
    page.wait_for_selector("text=本次查看已记入操作日志")
    page.screenshot(path=str(artifacts_dir / "web-finding-detail.png"), full_page=True)
    assert page.errors == []
    from sqlalchemy import select

    from fundguard.store.models import OpLog

    with server["store"].session() as s:
        actions = [r.action for r in s.execute(select(OpLog).where(OpLog.username == "auditor1")).scalars()]
    assert "unmask" in actions and "export" in actions


def test_error_pages_are_chinese(server, page):
    _login(page, server["url"], "analyst1", PASSWORD)
    resp = page.goto(f"{server['url']}/findings/NOPE")
    assert resp.status == 404
    assert page.locator("h1").inner_text().startswith("404 页面不存在")
    resp = page.goto(f"{server['url']}/admin/users")
    assert resp.status == 403 and "禁止访问" in page.locator("h1").inner_text()
