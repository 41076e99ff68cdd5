"""User-facing errors: every message names the file, the line (when there is one) and the fix."""

from __future__ import annotations


class Seq2AccError(Exception):
    """Base class for errors caused by user input (data, params); printed without a traceback."""


class InputError(Seq2AccError):
    """Bad input file: names the file, the 1-based line and how to fix it."""

    def __init__(self, path, problem: str, fix: str, line: int | None = None, text: str | None = None):
        self.path, self.problem, self.fix, self.line, self.text = str(path), problem, fix, line, text
        where = f"{path}:{line}" if line is not None else f"{path}"
        msg = f"{where}: {problem}"
        if text is not None:
            msg += f"\n    line {line}: {text.rstrip()[:200]!r}"
        msg += f"\n    fix: {fix}"
        super().__init__(msg)

    def __reduce__(self):  # arrives intact from a worker process or a Ray task (apps.shard)
        return type(self), (self.path, self.problem, self.fix, self.line, self.text)


class ParamsError(Seq2AccError):
    """Missing or invalid parameter in params.yaml."""

    def __init__(self, key: str, problem: str, fix: str, path: str = "params.yaml"):
        self.key, self.problem, self.fix, self.path = key, problem, fix, path
        super().__init__(f"{path}: parameter '{key}': {problem}\n    fix: {fix}")

    def __reduce__(self):
        return type(self), (self.key, self.problem, self.fix, self.path)


class ArgumentError(Seq2AccError, ValueError):
    """A library function's own argument is out of its domain. Names the argument (not a params key: the library
    does not know params.yaml); :func:`seq2acc.config.params_keys` maps it to the dotted key for a stage."""

    def __init__(self, arg: str, problem: str, fix: str = ""):
        self.arg, self.problem, self.fix = arg, problem, fix
        super().__init__(f"argument '{arg}': {problem}" + (f"\n    fix: {fix}" if fix else ""))

    def __reduce__(self):
        return type(self), (self.arg, self.problem, self.fix)


class DataValidationError(Seq2AccError):
    """A data check between stages failed (one readable line per broken rule)."""
