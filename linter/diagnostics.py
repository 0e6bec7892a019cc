"""Diagnostics and fixes as plain data, and the one boundary where a finding leaves the engine.

A `Diagnostic` holds character offsets into its file. Lines and columns come from the file
(`SourceFile.point` for people, `SourceFile.lsp_point` for the editor); `to_json`/`from_json` are
the one serialised form, shared by the JSON/SARIF output and the result cache; the profile note
(`(IPv6 cluster per x.tfvars:4)`) and the IP family labels are written here and nowhere else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal, Optional, Union, get_args

from v6lint.source import SourceFile

Applicability = Literal["safe", "unsafe"]
Severity = Literal["error", "warning", "info"]
# How the profile's IP families read in messages.
FAMILY_LABELS = {"ipv4": "IPv4", "ipv6": "IPv6", "dual": "dual-stack"}


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

    @property
    def phrase(self) -> str:
        """`IPv6 cluster per terraform/prod.tfvars:4`."""
        return f"{FAMILY_LABELS[self.ip_family]} cluster per {self.source}"


def _point(source: SourceFile | None, offset: int) -> tuple[int, int]:
    """1-based (line, column); a finding about a file with no text is at 1:1."""
    return source.point(offset) if source is not None else (1, 1)


def _json_point(line: int, column: int) -> dict:
    return {"line": line, "column": column}


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
    # 1-based line/column of start and end, set by `place` (a notebook's by its cell mapping)
    start_line: int = 0
    start_column: int = 0
    end_line: int = 0
    end_column: int = 0
    cell: int | None = None  # notebooks: the 1-based cell; lines and columns are then within the cell
    # What showing the finding reads of its file's text, kept in the finding when it is shown
    # without that text (read back from the result cache, or its text let go: FileResult.drop_source):
    # (line, column, end line, end column) of each fix edit (see to_json), and what the report
    # formats read (output.excerpt: the lines its snippet shows, its fingerprint's text part)
    edit_points: tuple[tuple[int, int, int, int], ...] | None = field(default=None, compare=False, repr=False)
    shown_lines: dict[int, str] | None = field(default=None, compare=False, repr=False)
    text_key: str | None = field(default=None, compare=False, repr=False)

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.cell or 0, self.start_line, self.start_column, self.code)

    def place(self, source: SourceFile | None) -> Diagnostic:
        """Set the 1-based lines and columns from the offsets into `source` (None: a notice about a
        file with no text, placed at 1:1)."""
        self.start_line, self.start_column = _point(source, self.start)
        self.end_line, self.end_column = _point(source, self.end)
        return self

    def points_of_edits(self, source: SourceFile | None) -> tuple[tuple[int, int, int, int], ...]:
        """(line, column, end line, end column) of each edit of the fix, 1-based, in `source`."""
        edits = self.fix.edits if self.fix is not None else ()
        return tuple((*_point(source, e.start), *_point(source, e.end)) for e in edits)

    @property
    def profile_note(self) -> str:
        """Where the profile the finding depends on came from: ` (IPv6 cluster per x.tfvars:4)`.
        Machine formats and the editor carry it on each finding; text output states it once."""
        return f" ({self.profile.phrase})" if self.profile is not None else ""

    # --- the serialised form ------------------------------------------------------------------
    def to_json(self, source: SourceFile | None, *, offsets: bool = False) -> dict:
        """The documented JSON form (README, "JSON output"): 1-based ranges, the fix's edits as
        ranges of `source` (the file the offsets are in; in a notebook the .ipynb file, while `range`
        is within `cell`). With `offsets`, also the character offsets (`"offsets": [start, end]` on
        the finding and on each edit), which `from_json` needs: the result cache's form."""
        fix = None
        if self.fix is not None:
            edits = []
            points = self.edit_points if source is None and self.edit_points is not None else \
                self.points_of_edits(source)
            for e, (line, column, end_line, end_column) in zip(self.fix.edits, points):
                edit: dict[str, object] = {"range": {"start": _json_point(line, column),
                                                     "end": _json_point(end_line, end_column)}, "content": e.content}
                if offsets:
                    edit["offsets"] = [e.start, e.end]
                edits.append(edit)
            fix = {"applicability": self.fix.applicability, "message": self.fix.message, "edits": edits}
        item: dict[str, object] = {
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "range": {"start": _json_point(self.start_line, self.start_column),
                      "end": _json_point(self.end_line, self.end_column)},
            "fix": fix,
            "url": self.url,
            "profile": {"ip_family": self.profile.ip_family, "source": self.profile.source} if self.profile else None,
        }
        if self.cell is not None:
            item["cell"] = self.cell
        if offsets:
            item["offsets"] = [self.start, self.end]
        return item

    @classmethod
    def from_json(cls, item, path: str | None = None) -> Diagnostic:
        """The Diagnostic that `to_json(..., offsets=True)` wrote, shown under `path` (default: the
        one written). Raises ValueError for anything not of that shape: the input is untrusted."""
        def need(ok: bool) -> None:
            if not ok:
                raise ValueError("not a serialised diagnostic")

        def text(value) -> str:
            need(isinstance(value, str))
            return value

        def count(value) -> int:
            need(type(value) is int and value >= 0)
            return value

        def span(value) -> tuple[int, int]:
            need(isinstance(value, list) and len(value) == 2)
            start, end = count(value[0]), count(value[1])
            need(start <= end)
            return start, end

        def where(value) -> tuple[int, int, int, int]:
            need(isinstance(value, dict) and isinstance(value.get("start"), dict) and isinstance(value.get("end"), dict))
            return (count(value["start"].get("line")), count(value["start"].get("column")),
                    count(value["end"].get("line")), count(value["end"].get("column")))

        need(isinstance(item, dict))
        severity = item.get("severity")
        need(severity in get_args(Severity))
        fix = item.get("fix")
        points = None
        if fix is not None:
            need(isinstance(fix, dict) and fix.get("applicability") in get_args(Applicability)
                 and isinstance(fix.get("edits"), list) and all(isinstance(e, dict) for e in fix["edits"]))
            points = tuple(where(e.get("range")) for e in fix["edits"])
            fix = Fix(text(fix.get("message")), fix["applicability"],
                      tuple(Edit(*span(e.get("offsets")), text(e.get("content"))) for e in fix["edits"]))
        profile = item.get("profile")
        if profile is not None:
            need(isinstance(profile, dict) and profile.get("ip_family") in FAMILY_LABELS)
            profile = ProfileRef(profile["ip_family"], text(profile.get("source")))
        cell = item.get("cell")
        need(cell is None or (type(cell) is int and cell > 0))
        return cls(text(item.get("code")), text(item.get("name")), severity, text(item.get("message")),
                   path if path is not None else text(item.get("path")), *span(item.get("offsets")), fix,
                   text(item.get("url")), profile, *where(item.get("range")), cell, points)
