#!/usr/bin/env python3
"""Checks every module's imports against README.md's module map, and that HearthCore stays pure.

The map is the table between `<!-- module-map: start -->` and `<!-- module-map: end -->`: one row
per folder under Sources/, its last column listing (in backticks) every module it may import.
Exits non-zero naming each file and import that breaks it. Run by .ci/run before the tests.
"""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
readme = (root / "README.md").read_text(encoding="utf-8")
table = readme.split("<!-- module-map: start -->")[1].split("<!-- module-map: end -->")[0]

allowed: dict[str, set[str]] = {}
for line in table.splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) != 3 or not cells[0].startswith("`"):
        continue
    module = cells[0].strip("`")
    allowed[module] = set(re.findall(r"`([A-Za-z0-9_]+)`", cells[2]))

problems: list[str] = []
sources = root / "Sources"
folders = {p.name for p in sources.iterdir() if p.is_dir()}
for missing in sorted(folders - allowed.keys()):
    problems.append(f"Sources/{missing}: not in README.md's module map; add a row saying what it owns and may import")

import_line = re.compile(r"^\s*(?:@_spi\(\w+\)\s+)?(?:@_exported\s+)?(?:public\s+|internal\s+|package\s+)?import\s+(?:(?:struct|class|enum|func|protocol|typealias)\s+)?([A-Za-z0-9_]+)")
for module, imports in sorted(allowed.items()):
    for path in sorted((sources / module).rglob("*.swift")):
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            m = import_line.match(line)
            if not m:
                continue
            name = m.group(1)
            where = f"{path.relative_to(root)}:{number}"
            if name not in imports:
                problems.append(f"{where}: {module} may not import {name} (README.md module map)")
            elif module == "HearthCore" and name in ("Foundation", "FoundationEssentials") and path.name not in ("RecordView.swift", "TransparencyJSON.swift", "InterviewJSON.swift"):
                problems.append(f"{where}: HearthCore imports {name} only in RecordView.swift, TransparencyJSON.swift and InterviewJSON.swift (JSON coders)")

# Core is the domain: no files, locks, threads, wall clock or randomness source of its own.
forbidden = re.compile(r"\b(FileManager|fopen|flock|opendir|DispatchQueue|Thread\(|Date\(\)|clock_gettime|SystemRandom\b|ProcessInfo)")
for path in sorted((sources / "HearthCore").rglob("*.swift")):
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        code = line.split("//")[0]
        if m := forbidden.search(code):
            problems.append(f"{path.relative_to(root)}:{number}: HearthCore must not use {m.group(1)}; inject it or move it out of Core")

for p in problems:
    print(p, file=sys.stderr)
if problems:
    print(f"module map: {len(problems)} problem(s)", file=sys.stderr)
    sys.exit(1)
print(f"module map: {sum(len(list((sources / m).rglob('*.swift'))) for m in allowed)} files in {len(allowed)} modules follow README.md")
