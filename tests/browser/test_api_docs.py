"""The API's interactive docs page renders in a real browser under the strict CSP (I1)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_the_api_docs_page_lists_the_operations(page: Page, url, shots, db):
    page.goto(url("/api/v1/docs"))
    expect(page.locator(".swagger-ui .title")).to_contain_text("Remit API")
    expect(
        page.locator(".opblock-summary-path", has_text="/api/v1/accounts/{account_id}/orders").first
    ).to_be_visible()
    shots(page, "api-docs")
