"""Page helpers shared by the browser tests: open and sign in, wait for a page, click and wait.

Imported as ``tests.browser._pages`` (pytest's importlib mode; not a test module, so not collected).
"""

from __future__ import annotations

from typing import Any

#: Software WebGL: ~2-3 s per view, generous for a loaded CI machine.
TIMEOUT_MS = 90_000


def open_and_sign_in(
    browser: Any, url: str, reader_id: str, width: int = 1280, height: int = 800, errors: list[str] | None = None
) -> Any:
    """A new page of ``width`` x ``height`` CSS pixels at ``url``, signed in as ``reader_id``.

    Uncaught page errors from the first load on are appended to ``errors`` when it is given.
    """
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(TIMEOUT_MS)
    if errors is not None:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    sign_in(page, reader_id)
    return page


def sign_in(page: Any, reader_id: str) -> None:
    """Fill the reader id on the sign-in form of ``page`` and submit it."""
    page.fill("#reader-id", reader_id)
    page.click("#login-button")


def wait_page(page: Any, page_index: int) -> None:
    """Wait until every viewport of ``page_index`` has rendered and its form is shown."""
    page.wait_for_function(f"window.sessionkit.readyPage === {page_index}", timeout=TIMEOUT_MS)
    page.wait_for_function(
        f"window.sessionkit.state.current && window.sessionkit.state.current.page_index === {page_index}"
        " && !window.sessionkit.state.busy",
        timeout=TIMEOUT_MS,
    )


def click_and_wait(page: Any, button: str, page_index: int) -> None:
    """Click ``button``, wait for the save to be confirmed, then for ``page_index`` to be shown."""
    page.click(button)
    page.wait_for_selector("#saved[data-state='saved']", timeout=TIMEOUT_MS)
    wait_page(page, page_index)


def screen_point(page: Any, to_frac: str, arg: object, destination: str | None = None) -> tuple[float, float]:
    """Page (CSS px) position of a point in viewport ``destination`` (default: the first), moved to it first.

    ``to_frac`` is a JavaScript function ``(nv, arg) => frac`` giving the point's Niivue fraction, e.g.
    ``"(nv, ras) => nv.mm2frac(ras)"``; Niivue's ``frac2canvasPos`` maps it to the canvas.
    """
    xy = page.evaluate(
        f"""([destination, arg]) => {{
            const views = window.sessionkit.state.views;
            const nv = (destination ? views.find((v) => v.destination === destination) : views[0]).nv;
            const frac = ({to_frac})(nv, arg);
            nv.scene.crosshairPos = frac;
            nv.drawScene();
            const pos = nv.frac2canvasPos(frac);
            const rect = nv.canvas.getBoundingClientRect();
            return [rect.left + pos[0] / nv.uiData.dpr, rect.top + pos[1] / nv.uiData.dpr];
        }}""",
        [destination, arg],
    )
    return float(xy[0]), float(xy[1])
