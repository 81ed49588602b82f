"""Browsers ask for /favicon.ico on every page that names no icon (the back office, a PDF opened in
a tab); it leads to the User Center's icon rather than a 404 in the log."""

from __future__ import annotations

from django.templatetags.static import static


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == static("usercenter/favicon.svg")
    assert "max-age=86400" in response["Cache-Control"]


def test_the_icon_is_an_svg_file(client):
    from django.contrib.staticfiles import finders

    path = finders.find("usercenter/favicon.svg")

    assert path is not None
    with open(path, encoding="utf-8") as handle:
        assert handle.read().lstrip().startswith("<svg")
