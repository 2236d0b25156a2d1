"""The README's screenshot of the QA page (issue 20, "Done when").

    .venv/bin/scenesmith generate config/scenarios/tabletop.yaml -o out/tabletop
    .venv/bin/python bench/report_shot.py out/tabletop   # writes docs/report_tabletop.png

Runs the quick start's ``scenesmith report`` command on the folder, opens the page in Debian's
headless Chromium through Playwright (never Playwright's own browser download), and keeps the
top of the page: the header, the checks and the sample grid.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright
from scenesmith import config_path

OUT = Path(__file__).resolve().parent.parent / "docs" / "report_tabletop.png"
CHROMIUM = "/usr/bin/chromium"
# root in a container: Chromium's sandbox needs user namespaces it may not have
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1280, "height": 1000}
# the README shows it at page width; half the pixels keep the repository small
SHIPPED_WIDTH_PX = 960


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="an output folder of the tabletop example")
    parser.add_argument("-o", "--output", type=Path, default=OUT)
    args = parser.parse_args()
    conditions = config_path("conditions", "tabletop.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "report.html"
        command = [
            sys.executable, "-m", "scenesmith.scripts.cli", "report", str(args.run),
            "-o", str(page_path), "--conditions", str(conditions),
        ]  # fmt: skip
        subprocess.run(command, check=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(page_path.as_uri(), wait_until="load")
            shot = page.screenshot(full_page=False)
            browser.close()
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    height_px = round(image.height * SHIPPED_WIDTH_PX / image.width)
    image = image.resize((SHIPPED_WIDTH_PX, height_px), Image.LANCZOS)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    image.save(args.output, optimize=True)


if __name__ == "__main__":
    main()
