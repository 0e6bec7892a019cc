"""Diagnostics and fixes as plain data: what every output format and the LSP consume."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal, Optional, Union

Applicability = Literal["safe", "unsafe"]
Severity = Literal["error", "warning", "info"]
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] with `content` (character offsets into SourceFile.text)."""

    start: int
    end: int
    content: str


EditPart = Union[Edit, Iterable[Optional[Edit]], None]


@dataclass(frozen=True)
class Fix:
    message: str
    applicability: Applicability
    edits: tuple[Edit, ...]

    # The one way rules build a fix: from what the edit helpers returned, each an Edit, a list of
    # edits, or None where the helper cannot edit that spot. None is dropped, lists are flattened,
    # and no edit at all means no fix (None), so a rule never offers an empty fix.
    @classmethod
    def safe(cls, message: str, *edits: EditPart) -> Fix | None:
        return cls._of(message, "safe", edits)

    @classmethod
    def unsafe(cls, message: str, *edits: EditPart) -> Fix | None:
        return cls._of(message, "unsafe", edits)

    @classmethod
    def _of(cls, message: str, applicability: Applicability, parts: tuple[EditPart, ...]) -> Fix | None:
        kept: list[Edit] = []
        for part in parts:
            if isinstance(part, Edit):
                kept.append(part)
            elif part is not None:
                kept.extend(e for e in part if e is not None)
        return cls(message, applicability, tuple(kept)) if kept else None


@dataclass(frozen=True)
class Finding:
    """What a rule's check yields: a range, a message and an optional fix."""

    start: int
    end: int
    message: str
    fix: Fix | None = None


@dataclass(frozen=True)
class ProfileRef:
    ip_family: str
    source: str


@dataclass
class Diagnostic:
    code: str
    name: str
    severity: Severity
    message: str
    path: str
    start: int  # offsets into the file text
    end: int
    fix: Fix | None = None
    url: str = ""
    profile: ProfileRef | None = None
    # 1-based line/column, filled by the engine from the SourceFile
    start_line: int = 0
    start_column: int = 0
    end_line: int = 0
    end_column: int = 0
    cell: int | None = None  # notebooks: the 1-based cell; lines and columns are then within the cell

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.cell or 0, self.start_line, self.start_column, self.code)

