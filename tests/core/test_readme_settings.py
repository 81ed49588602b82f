"""Every environment variable the settings read is documented in the README's table."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
READ = re.compile(r"""env_(?:str|int|bool|list|float)\(\s*["'](REMIT_[A-Z0-9_]+)["']""")
# Rows that document a family at once: "`REMIT_EMAIL_HOST` / `_PORT` / …"
FAMILY = re.compile(r"`(REMIT_[A-Z]+)_[A-Z0-9_]+`((?:\s*[,/]\s*`_[A-Z0-9_]+`)+)")


def _documented(readme: str) -> set[str]:
    names = set(re.findall(r"`(REMIT_[A-Z0-9_]+)`", readme))
    for prefix, rest in FAMILY.findall(readme):
        names |= {prefix + suffix for suffix in re.findall(r"`(_[A-Z0-9_]+)`", rest)}
    return names


def test_every_setting_read_from_the_environment_is_in_the_readme():
    sources = [ROOT / "remit" / "settings.py", *sorted((ROOT / "remit" / "core").glob("*.py"))]
    read = {name for path in sources for name in READ.findall(path.read_text())}
    assert len(read) > 20
    assert sorted(read - _documented((ROOT / "README.md").read_text())) == []
