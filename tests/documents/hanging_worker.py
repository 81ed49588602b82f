"""A worker that hangs while storing a document, for the crash test in ``test_worker.py``.

Run as ``python -m tests.documents.hanging_worker <marker-dir>`` from the project folder, with
the environment of a real worker. It runs ``remit_worker`` with two changes:

* rendering a document renders the real PDF, writes its first half to a temporary file as the
  product names them (in ``documents/.partial/``), writes
  ``<marker-dir>/rendering`` and then blocks forever: the state of a worker that dies in the
  middle of writing the file;
* ``<marker-dir>/swept`` appears when a recovery sweep has finished, so a test can wait until
  the worker is idle in its task loop.

The test kills the process with SIGKILL: no handler, no clean-up, as in a real crash.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Any


def _write_marker(path: Path, text: str) -> None:
    """Write atomically, so the test never reads a half-written marker."""
    temporary = path.with_name(f"{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def main(marker_dir: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remit.settings")
    import django

    django.setup()

    from django.core.management import call_command

    from remit.documents.management.commands import remit_worker
    from remit.documents.services import archive

    real_render = archive.document_render
    real_recover = remit_worker.documents_recover

    def hanging_render(document: Any) -> bytes:
        content = real_render(document)
        partial = Path(archive.temporary_file_path(archive._storage_name(document)))
        partial.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "wb") as stream:
            stream.write(content[: len(content) // 2])
            stream.flush()
            os.fsync(stream.fileno())
        _write_marker(
            marker_dir / "rendering",
            f"{document.pk} {len(content)} {hashlib.sha256(content).hexdigest()} {partial}",
        )
        while True:  # wait here until killed
            time.sleep(3600)

    def recover_then_mark(**kwargs: Any) -> dict[str, int]:
        found = real_recover(**kwargs)
        _write_marker(marker_dir / "swept", repr(found))
        return found

    archive.document_render = hanging_render
    remit_worker.documents_recover = recover_then_mark
    call_command("remit_worker", interval=0.2)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
