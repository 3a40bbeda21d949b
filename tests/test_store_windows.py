"""The store, backup and restore, and batch folders import and work where ``fcntl`` does not
exist (Windows, whose data folder the README documents). Run in a child interpreter that
reports ``sys.platform == "win32"``, has no ``fcntl``, and has a stand-in ``msvcrt`` whose
byte locks conflict as Windows' do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

_CHILD = r"""
import json, sys, types
from pathlib import Path

OURS = {"service", "codebook", "models", "eval"}

# Everything imported once as on Linux, then intercoder's own modules forgotten: the
# libraries stay as Linux built them, and only intercoder's modules meet "win32" below.
import service.app.backup, service.app.batch_output  # noqa
for name in [name for name in sys.modules if name.split(".")[0] in OURS]:
    del sys.modules[name]
sys.platform = "win32"
sys.modules["fcntl"] = None  # import fcntl now raises ImportError, as on Windows
locked: set[tuple[str, int]] = set()
msvcrt = types.ModuleType("msvcrt")
msvcrt.LK_NBLCK = 2

def locking(fd: int, mode: int, nbytes: int) -> None:
    import os
    key = (os.path.realpath(f"/proc/self/fd/{fd}"), os.lseek(fd, 0, os.SEEK_CUR))
    if key in locked:
        raise PermissionError(13, "Permission denied")
    locked.add(key)

msvcrt.locking = locking
sys.modules["msvcrt"] = msvcrt

from service.app.backup import backup_database, restore_database
from service.app.batch_output import OutputFolder
from service.settings import Settings
from service.store.database import Store
from codebook.errors import InputError

data = Path(sys.argv[1])
settings = Settings(data_dir=data / "data")
store = Store(settings.database_path)
with store.write() as transaction:
    transaction.connection.execute(
        "INSERT INTO projects (id, name, uid, created_at) VALUES ('p1', 'P', 'u', 'now')"
    )
second = Store(settings.database_path)  # a shared lock never shuts out another holder
second.close()
store.close()
backup = data / "backup.sqlite3"
backup_database(settings, backup)
report = restore_database(settings, backup)
with OutputFolder(data / "out", "csv"):
    try:
        with OutputFolder(data / "out", "csv"):
            refused = ""
    except InputError as error:
        refused = str(error)
print(json.dumps({"restored": report.restored.projects, "refused": refused}))
"""


def test_the_store_backup_and_batch_folders_work_without_fcntl(tmp_path: Path) -> None:
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    finished = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    assert result["restored"] == 1
    assert "another intercoder run is writing to" in result["refused"]
