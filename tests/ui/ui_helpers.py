"""Helpers for the browser tests: screenshots for people to look at, and axe-core checks."""
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCREENSHOTS = pathlib.Path(os.environ.get("TRACEFEED_SCREENSHOTS", str(ROOT / "build" / "screenshots")))
AXE = ROOT / "ui" / "node_modules" / "axe-core" / "axe.min.js"


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def check_accessibility(page, what: str) -> None:
    """axe-core on the current page: no serious or critical violations (labels on every control,
    contrast, ARIA use)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — e.g. {v['nodes'][0]['target']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"accessibility problems on {what}:\n" + "\n".join(bad)
