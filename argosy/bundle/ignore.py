""".fleetignore: gitignore-style patterns, one file per directory, applying beneath it (pure).

Supported, as in .gitignore: comments (#), blank lines, `*`, `?`, `[...]`, `**`, a trailing `/`
for directories only, a `/` inside the pattern to anchor it to the .fleetignore's directory,
and `!` to re-include. A later matching line wins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from argosy.errors import InvalidInput

FLEETIGNORE = ".fleetignore"


@dataclass(frozen=True)
class Rule:
    base: str  # directory of the .fleetignore, relative to the walk root ("" for the root)
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool
    anchored: bool


def _glob_to_regex(glob: str) -> str:
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and (end := glob.find("]", i + 2)) != -1:
            # "[]" is no class: the search starts past the first character of the body.
            body = glob[i + 1 : end].replace("\\", "\\\\")
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append(f"[{body}]")
            i = end + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


def parse_rules(text: str, *, base: str) -> list[Rule]:
    rules = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate:
            line = line[1:]
        if line.startswith("\\"):
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        line = line.lstrip("/")
        if not line:
            continue
        try:
            regex = re.compile(_glob_to_regex(line) + r"\Z")
        except re.error as exc:
            where = f"{base}/{FLEETIGNORE}" if base else FLEETIGNORE
            raise InvalidInput(f"{where}: pattern {raw!r} is not valid: {exc}") from None
        rules.append(
            Rule(
                base=base,
                regex=regex,
                negate=negate,
                dir_only=dir_only,
                anchored=anchored,
            )
        )
    return rules


def is_ignored(path: str, *, is_dir: bool, rules: Sequence[Rule]) -> bool:
    """Whether path (relative to the walk root, '/'-separated) is ignored by the rules."""
    ignored = False
    for rule in rules:
        if rule.base:
            if not path.startswith(rule.base + "/"):
                continue
            rel = path[len(rule.base) + 1 :]
        else:
            rel = path
        if rule.dir_only and not is_dir:
            continue
        subject = rel if rule.anchored else rel.rpartition("/")[2]
        if rule.regex.match(subject):
            ignored = not rule.negate
    return ignored
