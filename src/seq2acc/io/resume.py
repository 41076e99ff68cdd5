"""Outputs built chunk by chunk, resumable after an interruption (SIGTERM, SIGKILL, a crash).

A long job writes its results into append-only part files in a side folder next to its outputs, and after each
complete chunk records (atomically, in ``state.json``) how many bytes of each part file belong to complete chunks,
plus the job's own progress fields. A restart with the same fingerprint (a JSON-able dict of everything the results
depend on: input hashes, model hashes, parameters, code) cuts every part file back to its recorded size and goes on
from there; a different fingerprint, or a side folder that does not fit its state, starts over. The job assembles
its final outputs from the part files (atomically, :mod:`seq2acc.io.atomic`) and then removes the side folder, so an
interrupted job leaves no half-written output, only the side folder.

    >>> with ChunkedParts(out / ".partial", fingerprint) as parts:
    ...     for chunk in chunks_after(parts.state.get("done", 0)):
    ...         parts.append("rows.tsv", text_of(chunk))
    ...         parts.commit(done=...)
    ...     assemble(parts.path("rows.tsv"))
    ...     parts.discard()
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from seq2acc.io.atomic import write_json

log = logging.getLogger(__name__)

_STATE, _FINGERPRINT = "state.json", "fingerprint.json"


class ChunkedParts:
    """Append-only part files in ``folder`` with a committed state; see the module docstring.

    Parameters
    ----------
    folder : str or Path
        The side folder (created; its parent must be writable). Nothing else may live in it.
    fingerprint : dict
        JSON-able description of everything the results depend on; a restart resumes only when it is equal.

    Attributes
    ----------
    state : dict
        The progress fields of the last :meth:`commit` (empty when starting fresh).
    resumed : bool
        True when an earlier run's complete chunks were kept.
    """

    def __init__(self, folder, fingerprint: dict):
        self.folder = Path(folder)
        self.fingerprint = json.loads(json.dumps(fingerprint, sort_keys=True))
        self._files: dict[str, object] = {}
        self.state: dict = {}
        self._sizes: dict[str, int] = {}
        self.resumed = self._resume()
        if not self.resumed:
            if self.folder.exists():
                shutil.rmtree(self.folder)
            self.folder.mkdir(parents=True)
            write_json(self.folder / _FINGERPRINT, self.fingerprint)

    def _resume(self) -> bool:
        fp, st = self.folder / _FINGERPRINT, self.folder / _STATE
        if not fp.exists():
            return False
        try:
            old = json.loads(fp.read_text())
            state = json.loads(st.read_text()) if st.exists() else {"sizes": {}, "fields": {}}
        except (OSError, ValueError):
            log.warning("%s: unreadable progress record: starting over", self.folder)
            return False
        if old != self.fingerprint:
            changed = sorted(k for k in set(old) | set(self.fingerprint) if old.get(k) != self.fingerprint.get(k))
            log.info("%s: an earlier run had other inputs (%s changed): starting over", self.folder,
                     ", ".join(changed))
            return False
        sizes = {str(k): int(v) for k, v in state.get("sizes", {}).items()}
        for name, size in sizes.items():
            path = self.folder / name
            if not path.exists() or path.stat().st_size < size:
                log.warning("%s: part file %s is shorter than recorded: starting over", self.folder, name)
                return False
        for path in self.folder.iterdir():  # drop what an interrupted chunk wrote after the last commit
            if path.name in (_STATE, _FINGERPRINT):
                continue
            if path.name in sizes:
                os.truncate(path, sizes[path.name])
            else:
                path.unlink()
        self._sizes, self.state = sizes, dict(state.get("fields", {}))
        return bool(sizes) or bool(self.state)

    def path(self, name: str) -> Path:
        """The part file ``name`` (flushed: complete up to the last :meth:`append`)."""
        if name in self._files:
            self._files[name].flush()
        return self.folder / name

    def size(self, name: str) -> int:
        """Bytes of ``name`` written so far (0 if none)."""
        return self.path(name).stat().st_size if (self.folder / name).exists() else 0

    def append(self, name: str, data: bytes | str) -> None:
        """Append ``data`` to part file ``name`` (created on first use); it counts once :meth:`commit` ran."""
        if "/" in name or name in (_STATE, _FINGERPRINT):
            raise ValueError(f"bad part name {name!r}")
        fh = self._files.get(name)
        if fh is None:
            fh = self._files[name] = open(self.folder / name, "ab")
        fh.write(data.encode() if isinstance(data, str) else data)

    def commit(self, **fields) -> None:
        """Record that every part file is complete up to here, with the job's progress ``fields`` (JSON-able)."""
        for name, fh in self._files.items():
            fh.flush()
            self._sizes[name] = fh.tell()
        self.state = json.loads(json.dumps({**self.state, **fields}))
        write_json(self.folder / _STATE, {"sizes": self._sizes, "fields": self.state})

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._files.clear()

    def discard(self) -> None:
        """Remove the side folder (after the final outputs are in place)."""
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "ChunkedParts":
        return self

    def __exit__(self, *exc) -> None:
        self.close()  # an error or interruption keeps the folder: the next run resumes from it
