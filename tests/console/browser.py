"""Headless Debian chromium driven by selenium through chromedriver, with screenshots for people to look at."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "console"
DESKTOP, TABLET = (1280, 900), (768, 1024)


def available() -> bool:
    return Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


@contextmanager
def browser(proxy_port: int | None = None) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-quic", f"--window-size={DESKTOP[0]},{DESKTOP[1]}"):
        options.add_argument(arg)
    if proxy_port is not None:  # loopback (the console) bypasses the proxy, as it does by default
        options.add_argument(f"--proxy-server=http://127.0.0.1:{proxy_port}")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def shoot(driver: WebDriver, name: str, *, tablet: bool = True) -> None:
    """Full-page screenshots at desktop and tablet width."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sizes = [("", DESKTOP)] + ([("-tablet", TABLET)] if tablet else [])
    for suffix, (width, height) in sizes:
        driver.set_window_size(width, height)
        full = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, max(height, min(int(full) + 140, 4000)))
        time.sleep(0.1)
        driver.save_screenshot(str(ARTIFACTS / f"{name}{suffix}.png"))
    driver.set_window_size(*DESKTOP)


def sign_in(driver: WebDriver, base: str, name: str, password: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    click(driver, By.ID, "sign-in")


def click(driver: WebDriver, by: str, value: str) -> None:
    """Click what loads a new page, and wait until the new page has replaced the old one."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(by, value).click()
    WebDriverWait(driver, 30).until(lambda _: _replaced(old))
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def _replaced(old: WebElement) -> bool:
    """True once ``old`` left the document. Chromium may report a node of a page being torn down as
    "does not belong to the document" (a plain WebDriverException) instead of a stale reference."""
    try:
        old.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise
    return False


def fill(driver: WebDriver, values: dict[str, str]) -> None:
    for field, value in values.items():
        element = driver.find_element(By.ID, field)
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)
