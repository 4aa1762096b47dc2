"""The progress report as a PDF: the report template (same template folder, filters and macros
as the pages) laid out by WeasyPrint."""

from __future__ import annotations

from typing import Any

from follicle.web.templating import WEB_DIR, make_templates


def render_report_html(context: dict[str, Any]) -> str:
    return make_templates().env.get_template("report.html").render(**context)


def render_report_pdf(context: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]  # loads Pango when needed

    pdf: bytes = HTML(string=render_report_html(context), base_url=str(WEB_DIR)).write_pdf()
    return pdf
