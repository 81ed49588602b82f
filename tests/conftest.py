from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIRequestHandler
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from remit.billing.actors import Actor
from remit.billing.models import PlanSize
from tests.factories import AccountFactory, BillingProfileFactory, catalogue_create

# No per-example deadline: on a shared 2-core machine a slow example is load, not a bug; the
# property tests still run every example.
hypothesis_settings.register_profile("remit", deadline=None)
hypothesis_settings.load_profile("remit")


@pytest.fixture
def system_actor() -> Actor:
    return Actor.system()


@pytest.fixture
def customer_actor() -> Actor:
    return Actor(kind="user", label="customer@example.com")


@pytest.fixture
def catalogue(db: None) -> PlanSize:
    """The demo catalogue; returns the Pro 50k plan size."""
    return catalogue_create()


@pytest.fixture
def account(db: None, catalogue: PlanSize):  # type: ignore[no-untyped-def]
    """An active USD account with a US billing profile."""
    account = AccountFactory()
    BillingProfileFactory(account=account)
    return account


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """Build .mo files from the committed .po catalogues when they are missing or older (what
    `make messages` does), so a bare pytest run also sees translated pages."""
    from pathlib import Path

    from django.core.management import call_command

    stale = [
        po
        for locale_dir in settings.LOCALE_PATHS
        for po in Path(locale_dir).glob("*/LC_MESSAGES/django.po")
        if not po.with_suffix(".mo").exists()
        or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if stale:
        call_command("compilemessages", locale=[p.parent.parent.name for p in stale], verbosity=0)


@pytest.fixture
def role_groups(db: None) -> None:
    """The back office's role groups with their permissions. They are made after migrate; a
    transactional test's flush empties the tables, so tests that need them sync them again."""
    from django.contrib.contenttypes.models import ContentType

    from remit.backoffice.roles import roles_sync

    ContentType.objects.clear_cache()
    roles_sync()


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Every test starts in the default language and leaves it so.

    A request through the test client runs LocaleMiddleware in the test's own thread, and the
    language it activates (a customer's cookie, say) would stay active for the next test of the
    same process; without this, tests depend on the order xdist gives them."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Stored documents of each test in a folder of its own: file names are built from ids,
    which two xdist workers (each with its own database) hand out alike."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture(autouse=True)
def payments_test_mode(settings):  # type: ignore[no-untyped-def]
    """Card payments go to Remit's test-mode page, as in the demo: most tests pay by card.
    Tests of a deployment without a payment platform switch it off."""
    settings.REMIT_PAYMENTS_TEST_MODE = True


# The live server (browser, schemathesis and end-to-end tests) answers with the headers and the
# body in separate small writes; with Nagle's algorithm on, the body waits for the client's
# delayed ACK (40 ms on Linux) on every request. The production server (gunicorn) sets
# TCP_NODELAY on its sockets.
WSGIRequestHandler.disable_nagle_algorithm = True
