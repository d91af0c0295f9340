"""A small reader for the GNU gettext .po files in locale/ (enough for the tests)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

_LINE = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) (".*")$')


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values())


def read_po(path: Path) -> list[Entry]:
    """Every active entry of the catalog, the header ("" msgid) first; obsolete
    (#~) entries are skipped."""
    entries: list[Entry] = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        entry, target = Entry(), None
        lines = block.splitlines()
        if all(line.startswith("#") for line in lines):
            continue  # a comment-only or obsolete block
        for line in lines:
            if line.startswith("#,"):
                entry.flags.update(f.strip() for f in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif match := _LINE.match(line):
                keyword, index, text = match.groups()
                value = ast.literal_eval(text)
                if keyword == "msgstr":
                    target = 0
                    entry.msgstr[0] = value
                elif index is not None:
                    target = int(index)
                    entry.msgstr[target] = value
                else:
                    target = keyword
                    setattr(entry, keyword, value)
            elif line.startswith('"'):
                value = ast.literal_eval(line)
                if isinstance(target, int):
                    entry.msgstr[target] += value
                else:
                    name = str(target)
                    setattr(entry, name, (getattr(entry, name) or "") + value)
        entries.append(entry)
    return entries
