"""What a visitor sees while an app wakes, and when it cannot be reached. Pure: values in, bytes out.

The waiting page refreshes itself (`<meta http-equiv="refresh">`, no script, no external
asset), names the app, and says how long a wake of it usually takes (from the audit log).
Problem details (RFC 7807) are what Sablier answers on errors; the plugins show them as text.
"""

from __future__ import annotations

import json
from html import escape

STYLE = (
    "body{font-family:system-ui,sans-serif;background:#f6f7f9;color:#1d1f23;display:flex;"
    "min-height:100vh;margin:0;align-items:center;justify-content:center}"
    "main{max-width:32rem;padding:2rem;text-align:center}h1{font-size:1.4rem}"
    "p{line-height:1.5}.small{color:#5c6370;font-size:.9rem}"
)
DARK = (
    "body{{font-family:ui-monospace,monospace;background:#000;color:{fg};display:flex;min-height:100vh;"
    "margin:0;align-items:center;justify-content:center}}main{{max-width:36rem;padding:2rem}}"
    "h1{{font-size:1.2rem}}h1:before{{content:'{prompt}'}}p{{line-height:1.5}}.small{{opacity:.7;font-size:.9rem}}"
)
# Sablier's built-in theme names, each its own look here (a palette, not Sablier's artwork);
# "" is Paastis's own. An unknown theme is refused (404), as Sablier does.
THEMES = {
    "": STYLE,
    "ghost": STYLE.replace("#f6f7f9", "#ffffff").replace("#1d1f23", "#3b3f46") + "h1{font-weight:300}",
    "shuffle": STYLE.replace("#f6f7f9", "#2b2d5c").replace("#1d1f23", "#fdf6e3").replace("#5c6370", "#f5b971"),
    "hacker-terminal": DARK.format(fg="#33ff66", prompt="$ "),
    "matrix": DARK.format(fg="#00ff41", prompt="> ") + "body{text-shadow:0 0 6px #00ff41}",
}
PROBLEM_BASE = "https://sablierapp.dev/#/errors?id="


def waiting_page(
    name: str,
    *,
    estimate: float | None,
    waited: float,
    refresh: float,
    theme: str = "",
    details: list[tuple[str, str, str]] | None = None,
) -> bytes:
    """The self-refreshing page shown while `name` wakes. `estimate`: seconds a wake of it
    usually takes (None: never woken before); `waited`: seconds since this wake began;
    `details`: each app's (name, status, why), listed when given (Sablier's show_details)."""
    if estimate is None:
        expect = "This is its first wake here: it usually takes under a minute."
    else:
        left = max(0, round(estimate - waited))
        expect = f"It usually takes about {_seconds(estimate)}" + (
            f"; about {_seconds(left)} to go." if left else "; it should be up any moment now."
        )
    body = (
        f"<h1>⏳ Waking {escape(name)}</h1>"
        f"<p>This app was asleep to save energy and money; your visit woke it. {escape(expect)}</p>"
        f'<p class="small">This page reloads itself every {_seconds(refresh)}.</p>'
    )
    if details:
        items = "".join(
            f"<li>{escape(app)}: {escape(status)}{f' ({escape(why)})' if why else ''}</li>"
            for app, status, why in details
        )
        body += f'<ul class="small">{items}</ul>'
    return _page(f"Waking {name}…", body, refresh=refresh, style=THEMES[theme])


def error_page(title: str, detail: str) -> bytes:
    return _page(title, f"<h1>{escape(title)}</h1><p>{escape(detail)}</p>")


def problem(kind: str, title: str, status: int, detail: str, **extra: object) -> bytes:
    """An RFC 7807 problem, shaped like Sablier's (`type` points at Sablier's error ids)."""
    document = {"type": PROBLEM_BASE + kind, "title": title, "status": status, "detail": detail, **extra}
    return json.dumps(document).encode()


def _page(title: str, body: str, *, refresh: float | None = None, style: str = STYLE) -> bytes:
    meta = f'<meta http-equiv="refresh" content="{max(1, round(refresh))}">' if refresh else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"{meta}<title>{escape(title)}</title><style>{style}</style></head>"
        f"<body><main>{body}</main></body></html>"
    ).encode()


def _seconds(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 90:
        return f"{seconds} s"
    return f"{round(seconds / 60)} min"
