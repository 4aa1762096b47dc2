"""After signing in, staff return to the page they asked for, and never to another site."""

from __future__ import annotations

import pytest

from follicle.web.views.auth import _safe_next


@pytest.mark.parametrize(
    "asked", ["/", "/patients", "/patients/pat_0123abcd/follow-up", "/admin/audit"]
)
def test_a_path_on_this_site_is_kept(asked: str) -> None:
    assert _safe_next(asked) == asked


@pytest.mark.parametrize(
    "asked",
    [
        "//evil.example",
        "https://evil.example/",
        "/\t/evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/patients\r\nSet-Cookie: x=1",
        "javascript:alert(1)",
        "",
        "patients",
    ],
)
def test_anything_else_is_dropped(asked: str) -> None:
    assert _safe_next(asked) is None
