"""The page in a real browser: Debian's headless Chromium driven by selenium against uvicorn on a
loopback port. Types an invented note, clicks Annotate, waits for the marks, saves a screenshot
(under $ARTIFACTS when set, else pytest's tmp path)."""
import os
import shutil
from pathlib import Path

import pytest
from service_notes import SECRET

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
NOTE = "HPI: Patient denies chest pain. Possible pneumonia.\nPMH: History of asthma.\nFamily history: mother had diabetes."
# Chromium stays on loopback: no first-run, sync, component updates or background requests.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1280,1000"]


@pytest.mark.slow
@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                    reason="Chromium is absent: apt-get install chromium chromium-driver (as .ci/run does)")
def test_page_annotates_a_note_in_chromium(live_server, tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (serve extra)")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        driver.get(live_server.url + "/")
        WebDriverWait(driver, 20).until(
            lambda d: "service_test" in d.find_element(By.ID, "model").text)
        box = driver.find_element(By.ID, "note-text")
        box.send_keys(NOTE)
        driver.find_element(By.ID, "annotate").click()
        disease = '#result mark[data-label="DISEASE"]'
        WebDriverWait(driver, 30).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, disease)))
        negated = driver.find_elements(By.CSS_SELECTOR, '#result mark.negated')
        assert [m.get_attribute("data-label") for m in negated] == ["SYMPTOM"]
        assert negated[0].text.startswith("chest pain") and "negated" in negated[0].text
        assert negated[0].value_of_css_property("text-decoration-line") == "line-through"
        classes = {c for m in driver.find_elements(By.CSS_SELECTOR, "#result mark") for c in m.get_attribute("class").split()}
        assert {"uncertain", "historical", "family"} <= classes
        assert "Ruled out (negated)" in driver.find_element(By.CSS_SELECTOR, "#result aside").text
        assert driver.find_element(By.ID, "status").text == ""
        # The de-identify switch: the note comes back masked, still annotated.
        box.clear()
        box.send_keys(f"Seen by Dr. {SECRET} on 03/04/2026. " + NOTE)
        driver.find_element(By.ID, "deidentify").click()
        driver.find_element(By.ID, "annotate").click()
        WebDriverWait(driver, 30).until(lambda d: "[NAME]" in d.find_element(By.ID, "result").text)
        shown = driver.find_element(By.ID, "result").text
        assert SECRET not in shown and "03/04/2026" not in shown and "[DATE]" in shown
        assert driver.find_elements(By.CSS_SELECTOR, disease)
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert not errors, errors
        out = Path(os.environ.get("ARTIFACTS") or tmp_path)
        out.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(out / "service_page.png"))
    finally:
        driver.quit()
