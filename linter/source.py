"""Raw file text with its encoding remembered, and offset <-> line/column mapping.

All ranges inside v6lint are character offsets into `SourceFile.text` (the decoded text
without its byte-order mark). Writing a fixed file re-encodes with the same encoding and
BOM, so every byte outside an edit is preserved. Offsets become lines and columns only here:
`position` (0-based, for the engine's own use), `point` (1-based, in characters: what people and
the JSON/SARIF formats see) and `lsp_point` (0-based, in UTF-16 code units: what an editor wants).
"""
from __future__ import annotations

import bisect
import codecs
from array import array
from dataclasses import dataclass, field
from itertools import accumulate

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class DecodeError(Exception):
    """The bytes are not text v6lint can read (binary, or not UTF-8/UTF-16)."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.offset = offset


def decode(data: bytes) -> tuple[str, str, bytes]:
    """Return (text, encoding, bom). Raises DecodeError for binary or undecodable data."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding), encoding, bom
            except UnicodeDecodeError as exc:
                raise DecodeError(f"not valid {encoding.upper()}: {exc.reason}", exc.start) from None
    nul = data.find(b"\x00")
    if nul != -1:
        raise DecodeError("binary file (contains a NUL byte)", nul)
    try:
        return data.decode("utf-8"), "utf-8", b""
    except UnicodeDecodeError as exc:
        raise DecodeError(f"not valid UTF-8 ({exc.reason} at byte {exc.start})", exc.start) from None


@dataclass
class SourceFile:
    path: str  # as shown to the user (relative to the working directory)
    text: str
    encoding: str = "utf-8"
    bom: bytes = b""
    abspath: str | None = None
    language: str | None = None  # overrides the language the file name implies (see sources.language_of)
    # Offsets where lines start, as machine integers: 8 bytes a line where a list of ints takes ~36
    # (the sources of files with findings are kept until output). Built on first use: a file that
    # is only parsed and yields no finding never needs it.
    _starts: array | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def _line_starts(self) -> array:
        starts = self._starts
        if starts is None:  # 0, then one past each LF: the running sum of the lines' lengths (in C)
            starts = array("q", accumulate(map((1).__add__, map(len, self.text.split("\n"))), initial=0))
            starts.pop()  # (one past the end)
            self._starts = starts
        return starts

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def position(self, offset: int) -> tuple[int, int]:
        """0-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line, offset - self._line_starts[line]

    def point(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset, as people (and the JSON and SARIF output) count."""
        line, column = self.position(offset)
        return line + 1, column + 1

    def lsp_point(self, offset: int) -> tuple[int, int]:
        """0-based (line, character) of an offset, the character in UTF-16 code units (the Language
        Server Protocol's default position encoding)."""
        line, column = self.position(offset)
        start = self._line_starts[line]
        return line, len(self.text[start:start + column].encode("utf-16-le")) // 2

    def offset(self, line: int, column: int) -> int:
        if line >= len(self._line_starts):
            return len(self.text)
        return min(self._line_starts[line] + column, len(self.text))

    def line_start(self, line: int) -> int:
        return self._line_starts[min(line, len(self._line_starts) - 1)]

    def line_end(self, line: int, *, with_newline: bool = False) -> int:
        """Offset of the end of `line` (before its line break unless with_newline)."""
        if line + 1 < len(self._line_starts):
            end = self._line_starts[line + 1]
            if with_newline:
                return end
            end -= 1
            if end > 0 and self.text[end - 1] == "\r":
                end -= 1
            return end
        return len(self.text)

    def line_text(self, line: int) -> str:
        return self.text[self.line_start(line):self.line_end(line)]

    @property
    def newline(self) -> str:
        """The file's line break, so inserted lines match (CRLF files stay CRLF)."""
        first = self.text.find("\n")
        return "\r\n" if first > 0 and self.text[first - 1] == "\r" else "\n"

    def with_text(self, text: str) -> "SourceFile":
        """The same file (path, encoding, BOM, language) with other text: a fix candidate."""
        return SourceFile(self.path, text, self.encoding, self.bom, self.abspath, self.language)

    def encode(self, text: str | None = None) -> bytes:
        return self.bom + (self.text if text is None else text).encode(self.encoding)
