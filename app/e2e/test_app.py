"""End-to-end test of the phone app: the real desktop build in the real webview (tauri-driver +
WebKitWebDriver, under Xvfb), against a real pengwang-server on a free port.

Environment (set by .ci/app): APP_BIN (the app built with embedded assets), SERVER_BIN
(pengwang-test-server), PHONE_BIN (the field_phone example: a second device), OUT (screenshots
and logs; wiped at start). Prints "N passed, 0 failed" and exits non-zero on the first failure.
"""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.file_detector import UselessFileDetector
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT.parent / "shared" / "fixtures" / "photos"
BEFORE = PHOTOS / "phone" / "jolla.jpg"
AFTER = PHOTOS / "orientation" / "landscape_2.jpg"
HEIF = PHOTOS / "bad" / "sample.heif"
SHANGHAI = timezone(timedelta(hours=8))
OUT = Path(os.environ.get("OUT", ROOT / "target" / "app-e2e"))
COMMUNITY, STREET = "500103001003", "500103001"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """pengwang-test-server on one port and database; stop() and start() again = offline/online."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(
            os.environ,
            PENGWANG_DATABASE=str(OUT / "server" / "pengwang.sqlite3"),
            PENGWANG_LISTEN=f"127.0.0.1:{self.port}",
        )
        (OUT / "server").mkdir(parents=True)
        self.proc = None

    def cli(self, *args):
        out = subprocess.run([os.environ["SERVER_BIN"], *args], env=self.env, check=True,
                             capture_output=True, text=True)
        return out.stdout.strip().splitlines()[-1]

    def start(self):
        log = open(OUT / "server.log", "a")
        self.proc = subprocess.Popen([os.environ["SERVER_BIN"], "serve"], env=self.env,
                                     stdout=log, stderr=log)
        for _ in range(100):
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)

    def account(self, name, role, kind, scope):
        return self.cli("account", "create", "--name", name, "--role", role,
                        "--scope-kind", kind, "--scope", scope)

    def code(self, account):
        return self.cli("enroll-code", "--account", account)

    def api(self, path, token, raw=False):
        req = urllib.request.Request(self.url + path, headers={
            "authorization": f"Bearer {token}", "pengwang-protocol": "1"})
        body = urllib.request.urlopen(req, timeout=10).read()
        return body if raw else json.loads(body)

    def token(self, code):
        req = urllib.request.Request(
            self.url + "/v1/enroll", method="POST",
            data=json.dumps({"code": code, "device_name": "e2e-ledger"}).encode(),
            headers={"content-type": "application/json", "pengwang-protocol": "1"})
        return json.loads(urllib.request.urlopen(req, timeout=10).read())["token"]


class Phone:
    """The app in its real webview, driven through WebDriver."""

    def __init__(self):
        opts = ArgOptions()
        opts.set_capability("browserName", "wry")
        opts.set_capability("tauri:options", {"application": os.environ["APP_BIN"]})
        self.d = webdriver.Remote(command_executor="http://127.0.0.1:4444", options=opts)
        # The webview runs on this machine: a file input takes the local path as typed.
        self.d.file_detector = UselessFileDetector()
        self.shots = 0

    def wait(self, cond, timeout=20, what=""):
        def attempt(_):
            try:
                return cond()
            except Exception:  # re-rendered under our feet (stale element): look again
                return False
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.2).until(attempt)
        except Exception:
            self.shot("FAILED-" + (what or "wait"))
            raise AssertionError(f"timed out waiting for {what}")

    def el(self, css, timeout=20):
        return self.wait(lambda: self._find(css), timeout, css)

    def attr(self, css, name):
        return self.d.find_element(By.CSS_SELECTOR, css).get_attribute(name) or ""

    def _find(self, css):
        found = self.d.find_elements(By.CSS_SELECTOR, css)
        return found[0] if found and found[0].is_displayed() else None

    def again(self, act):
        """Runs `act` again when the screen re-rendered under it (a sync finishing redraws it)."""
        for attempt in range(10):
            try:
                return act()
            except StaleElementReferenceException:
                if attempt == 9:
                    raise
                time.sleep(0.3)

    def click(self, css):
        def act():
            e = self.el(css)
            self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", e)
            e.click()
        self.again(act)

    def type(self, css, text):
        def act():
            e = self.el(css)
            e.clear()
            e.send_keys(str(text))
        self.again(act)

    def choose(self, css, code):
        """Picks an option as a finger would (a native dropdown is not part of the page)."""
        self.again(lambda: self._choose(css, code))

    def _choose(self, css, code):
        e = self.el(css)
        assert code in [o.get_attribute("value") for o in Select(e).options], f"{css} has no {code}"
        self.d.execute_script(
            "const s = arguments[0]; s.scrollIntoView({block: 'center'}); s.value = arguments[1];"
            " s.dispatchEvent(new Event('input', {bubbles: true}));"
            " s.dispatchEvent(new Event('change', {bubbles: true}));", e, code)

    def text(self, css):
        return self.again(lambda: self.el(css).text)

    def status(self):
        return self.d.find_element(By.ID, "status-bar").text

    def photo(self, path):
        # The input is visually hidden behind its label (the camera button); it still takes a path.
        self.d.find_element(By.ID, "photo-input").send_keys(str(path))
        self.wait(lambda: len(self.d.find_elements(By.CSS_SELECTOR, "#photo-list img")) > 0, 30, "photo ingested")

    def close_buttons(self):
        """The texts of the buttons offering 销号 (read in one go: screens re-render after syncs)."""
        return self.d.execute_script(
            "return [...document.querySelectorAll('button')].map(b => b.textContent.trim())"
            ".filter(t => t.includes('销号'))")

    def shot(self, name, css=None):
        if css:
            self.again(lambda: self.d.execute_script(
                "arguments[0].scrollIntoView({block: 'center'})", self.el(css)))
            time.sleep(0.3)
        self.shots += 1
        self.d.save_screenshot(str(OUT / f"{self.shots:02d}-{name}.png"))
        if not name.startswith("FAILED"):
            # At 360×640 nothing may stick out sideways (cut off on a phone).
            wide = self.d.execute_script(
                "return [document.documentElement.scrollWidth, window.innerWidth]")
            assert wide[0] <= wide[1] <= 360, f"{name}: content {wide[0]} px wide in a {wide[1]} px window"


def run():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    server = Server()
    server.start()
    inspector = server.account("李网格", "community_inspector", "community", COMMUNITY)
    checker = server.account("王核查", "street_checker", "street", STREET)
    ledger = server.token(server.code(checker))
    app_dir = OUT / "app-data"
    driver_log = open(OUT / "tauri-driver.log", "w")
    # The app inherits tauri-driver's environment: its device database goes under OUT.
    driver = subprocess.Popen(["tauri-driver"], env=dict(os.environ, PENGWANG_APP_DIR=str(app_dir)),
                              stdout=driver_log, stderr=driver_log)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", 4444), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    try:
        run_with(server, inspector, checker, ledger)
    finally:
        driver.terminate()
        driver.wait(timeout=10)


def run_with(server, inspector, checker, ledger):
    phone = Phone()
    passed = []
    try:
        d = phone.d
        size = d.get_window_size()
        if (size["width"], size["height"]) != (360, 640):
            d.set_window_size(360, 640)
        assert d.execute_script("return window.innerWidth") <= 360, "viewport wider than 360"

        # Enrollment: an address without http:// is named before anything is sent; the next
        # attempt clears that error.
        phone.el("#server-url")
        phone.shot("enroll")
        code = server.code(inspector)
        phone.type("#server-url", server.url.removeprefix("http://"))
        phone.type("#enroll-code", code)
        phone.click("#enroll-btn")
        phone.wait(lambda: "要以 http:// 或 https:// 开头" in phone.text("#error"), what="no-scheme message")
        phone.shot("enroll-no-scheme", "#error")
        phone.type("#server-url", server.url)
        phone.click("#enroll-btn")
        phone.el("#add-building")
        assert not phone.d.find_elements(By.ID, "error"), "the old enrollment error is still shown"
        phone.wait(lambda: "在线" in phone.status(), what="online after enrollment")
        phone.shot("buildings-empty")
        passed.append("enrollment (a bad address named first)")

        # Offline: the server is gone.
        server.stop()
        phone.wait(lambda: "离线" in phone.status(), what="offline")

        phone.click("#add-building")
        phone.type("#b-estate", "阳光花园")
        phone.type("#b-number", "3栋")
        phone.type("#b-address", "和平路88号")
        phone.type("#b-floors", "10")
        phone.wait(lambda: "".join(phone.text("#b-class").split()) == "高层需核实高度", what="height class")
        phone.shot("add-building", "#b-class")
        phone.click("#save-building")
        phone.el("#gen-grid")
        phone.type("#g-units", "2")
        phone.type("#g-rooms", "2")
        phone.click("#gen-grid")
        phone.el("#hh-2-1002")
        phone.shot("building-grid")
        phone.shot("building-grid-bottom", "#common-items")
        # A household recorded by mistake is deleted only after a confirmation.
        phone.d.execute_script("document.querySelectorAll('details.panel')[1].open = true")
        phone.type("#one-floor", "11")
        phone.type("#one-room", "1101")
        phone.click("#add-one")
        phone.click("#hh-1-1101")
        phone.click("#delete-household")
        assert "删除 1单元 1101？" in phone.text("#delete-modal")
        phone.shot("delete-household-confirm")
        phone.click("#delete-cancel")
        assert not phone.d.find_elements(By.ID, "delete-modal")
        phone.click("#delete-household")
        phone.click("#delete-confirm")
        phone.el("#household-grid")
        assert not phone.d.find_elements(By.ID, "hh-1-1101"), "deleted household still listed"

        phone.click("#hh-1-101")
        phone.click("#sr-hazard")
        phone.wait(lambda: "selected" in phone.attr("#sr-hazard", "class"), what="survey result")
        # Fields save one by one without redrawing the form: nothing typed is lost.
        phone.type("#h-owner", "张三")
        phone.type("#h-phone", "13800001234")
        phone.click("#visit-plus")
        phone.wait(lambda: phone.text("#visit-count") == "入户次数：1", what="visit counted")
        values = phone.d.execute_script(
            "return ['h-owner', 'h-phone'].map(id => document.getElementById(id).value)")
        assert values == ["张三", "13800001234"], values
        assert "selected" in phone.attr("#sr-hazard", "class")
        phone.shot("household")
        passed.append("household fields keep what was typed")

        # A net's escape opening shows pass/fail while it is typed (not saved).
        phone.click("#add-net")
        phone.type("#i-ow", "0.6")
        phone.type("#i-oh", "1.0")
        phone.type("#i-os", "1.0")
        phone.wait(lambda: "不符合逃生口要求：宽 0.60 m < 0.80 m" in phone.text("#i-opening-result"), what="opening check")
        phone.shot("net-form-opening-check", "#i-opening-result")
        phone.click("#back")

        phone.click("#add-awning")
        phone.choose("#i-position", "window")
        phone.choose("#i-material", "sandwich_foam")
        phone.choose("#i-grade", "B2")
        phone.choose("#i-basis", "presumed")
        phone.type("#i-area", "3.5")
        assert not phone.el("#save-item").is_enabled(), "saving an awning without a photo"
        # An iPhone HEIF photo is refused with what to do; a good photo then clears the error.
        phone.d.find_element(By.ID, "photo-input").send_keys(str(HEIF))
        phone.wait(lambda: "JPEG/兼容格式" in phone.text("#error"), 30, "HEIF message")
        assert "JPEG/兼容格式" in phone.text("#photo-status")
        phone.shot("photo-heif", "#photo-status")
        phone.photo(BEFORE)
        phone.wait(lambda: not phone.d.find_elements(By.ID, "error"), what="photo error cleared")
        phone.shot("awning-form", "#save-item")
        phone.click("#save-item")
        phone.el("#item-state")
        assert phone.text("#item-state") == "已登记"
        phone.el("img.photo[data-role=before]")
        phone.wait(lambda: phone.d.execute_script(
            "const i = document.querySelector('img.photo[data-role=before]'); return i.complete && i.naturalWidth > 0"),
            what="before photo displayed")
        assert phone.close_buttons() == [], "an inspector is offered 销号"
        # The history: what, who, when — in Chongqing time (this machine runs on UTC).
        history = phone.text("#history")
        today = datetime.now(SHANGHAI).strftime("%Y-%m-%d")
        assert "登记" in history and "本人" in history and today in history, history
        assert phone.text("#item-place") == "1单元 101"
        phone.shot("item-inspector", "#steps")
        phone.shot("item-history", "#history")
        passed.append("inspector has no 销号 action")

        status = phone.status()
        assert "未同步" in status and "已同步" not in status, status
        assert phone.text("#pending-docs") == "1" and phone.text("#pending-photos") == "1", status
        phone.shot("unsynced", "#item-state")
        passed.append("offline record shows 未同步 with counts")

        # Back online: the app syncs by itself.
        server.start()
        phone.wait(lambda: "已同步" in phone.text("#sync-state"), 30, "automatic sync")
        assert "在线" in phone.status()
        phone.shot("synced")
        passed.append("automatic sync when the server is back")

        # The ledger holds exactly that item with its photo.
        street = server.api(f"/v1/ledger/streets/{STREET}", ledger)
        buildings = [b for c in street["communities"] for b in c["buildings"]]
        assert [(b["estate"], b["number"]) for b in buildings] == [("阳光花园", "3栋")], buildings
        b = server.api(f"/v1/ledger/buildings/{buildings[0]['id']}", ledger)
        assert (b["high_rise"], b["needs_height_check"], b["floors"]) == (True, True, 10), b
        # 40 from the grid, and 1101 added by hand then deleted (kept as a tombstone).
        deleted = [h["room"] for h in b["households"] if h["deleted"]]
        assert (len(b["households"]), deleted) == (41, ["1101"]), (len(b["households"]), deleted)
        items = b["items"]
        assert len(items) == 1, items
        item = items[0]
        assert (item["category"], item["state"], item["fields"]["fire_grade"], item["fields"]["area_m2"]) == \
            ("awning", "identified", "B2", 3.5), item
        assert [(p["role"], p["state"]) for p in item["photos"]] == [("before", "stored")], item["photos"]
        assert item["evidenced"] is True
        jpeg = server.api(f"/v1/photos/{item['photos'][0]['hash']}", ledger, raw=True)
        assert hashlib.sha256(jpeg).hexdigest() == item["photos"][0]["hash"]
        assert jpeg[:2] == b"\xff\xd8"
        passed.append("ledger holds exactly the item with its photo")

        phone.click("#tab-buildings")
        card = phone.text(f"#building-{b['id']}")
        assert "阳光花园 3栋" in card and "高层" in card and "已排查 1/40 户" in card, card
        phone.shot("my-buildings")
        phone.click(f"#building-{b['id']}")
        phone.click("#hh-1-101")
        phone.click(f"#item-{item['id']}")

        # A conflict: a second device changes the grade while this phone changes it too.
        helper_db = str(OUT / "helper.db")
        helper = lambda *a: subprocess.run([os.environ["PHONE_BIN"], helper_db, *a], check=True,
                                           capture_output=True, text=True).stdout
        helper("enroll", server.url, server.code(checker))
        helper("sync")
        helper("set-item", b["id"], item["id"], "fire_grade", "B3")
        phone.click("#edit-item")
        phone.choose("#i-grade", "unknown")
        phone.click("#save-item")
        phone.el("#item-state")
        phone.wait(lambda: "已同步" in phone.text("#sync-state"), 30, "edit synced")
        helper("sync")
        phone.click("#sync-btn")
        phone.el("#conflict-badge", 30)
        assert phone.text("#conflict-badge") == "冲突 1"
        phone.click("#back")
        phone.click(f"#item-{item['id']}")
        phone.el("#item-conflict")
        phone.shot("conflict-badge")
        conflicts = server.api("/v1/conflicts", ledger)["conflicts"]
        assert [(c["key"], c["kind"]) for c in conflicts] == [(f"items/{item['id']}/fire_grade", "field")], conflicts
        passed.append("conflict badge after sync")

        # The inspector reports the fix with an after photo.
        phone.click("#step-submit")
        phone.choose("#s-method", "removed")
        phone.photo(AFTER)
        phone.shot("submit-fix")
        phone.click("#submit-step")
        phone.wait(lambda: phone.text("#item-state") == "已整改待核查", what="pending verify")
        phone.wait(lambda: "已同步" in phone.text("#sync-state"), 30, "fix synced")
        assert phone.close_buttons() == [], "an inspector is offered 销号 on a submitted fix"

        # The server revokes this phone; it stops syncing and offers to wipe, warning first.
        phone.click("#tab-device")
        device_id = phone.text("#device-id")
        last = phone.text("#last-sync")
        assert last.startswith(datetime.now(SHANGHAI).strftime("%Y-%m-%d")) and "北京时间" in last, last
        phone.shot("device")
        server.cli("device", "revoke", device_id)
        phone.click("#tab-buildings")
        phone.click(f"#building-{b['id']}")
        phone.click("#hh-1-102")
        phone.click("#sr-not_reached")
        phone.wait(lambda: phone.d.find_elements(By.ID, "revoked-banner"), 30, "revoked banner")
        assert "本机已被服务器停用" in phone.text("#revoked-banner")
        assert not phone.d.find_elements(By.ID, "sync-btn"), "sync button after revocation"
        phone.shot("revoked")
        # A revoked phone refuses edits: the controls are off and it says why.
        phone.click("#back")
        phone.click("#hh-1-101")
        phone.el("#readonly-note")
        disabled = phone.d.execute_script(
            "return ['sr-hazard', 'visit-plus', 'add-awning', 'h-owner'].map(id => document.getElementById(id).disabled)")
        assert disabled == [True, True, True, True], disabled
        phone.shot("revoked-household", "#readonly-note")
        phone.click("#tab-revisits")
        assert "阳光花园 3栋 · 1单元 102" in phone.text("#revisit-list")
        phone.shot("revisits")
        phone.click("#revoked-wipe")
        warning = phone.text("#wipe-warning")
        assert "还有 1 项修改、0 张照片没有上传" in warning, warning
        phone.shot("wipe-warning")
        phone.click("#wipe-confirm")
        phone.el("#enroll-btn")
        passed.append("revoked device stops syncing, refuses edits and offers a wipe")

        # The street checker's phone: verification list with before/after side by side, and 销号.
        phone.type("#server-url", server.url)
        phone.type("#enroll-code", server.code(checker))
        phone.click("#enroll-btn")
        phone.click("#tab-verify")
        phone.wait(lambda: "已同步" in phone.text("#sync-state"), 30, "checker synced")
        phone.click("#tab-verify")
        phone.el(f"#verify-{item['id']}", 30)
        for role in ("before", "after"):
            phone.wait(lambda: phone.d.execute_script(
                f"const i = document.querySelector('#verify-{item['id']} img[data-role={role}]');"
                " return !!i && i.complete && i.naturalWidth > 0"), what=f"{role} photo in verification list")
        assert phone.close_buttons() == ["复核销号"], phone.close_buttons()
        card = phone.text(f"#verify-{item['id']}")
        assert "阳光花园 3栋 · 1单元 101 · 可燃雨棚" in card, card
        phone.shot("verification-list")
        phone.click(f"#close-{item['id']}")
        phone.wait(lambda: phone.d.find_element(By.ID, "notice").text == "已销号", what="closed")
        phone.wait(lambda: "已同步" in phone.text("#sync-state"), 30, "close synced")
        phone.shot("verified")
        closed = server.api(f"/v1/ledger/buildings/{b['id']}", ledger)["items"][0]
        assert closed["state"] == "closed", closed["state"]
        passed.append("street checker verifies with 销号")
    finally:
        phone.d.quit()
        server.stop()
    print(f"{len(passed)} passed, 0 failed: " + "; ".join(passed))


if __name__ == "__main__":
    try:
        run()
    except AssertionError as e:
        print(f"E2E FAILED: {e}", file=sys.stderr)
        sys.exit(1)
