"""Just enough of Docker's build semantics to test the Dockerfile without an engine:
instructions by stage, and the build context as .dockerignore leaves it."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, instruction: str) -> list[str]:
        return [args for ins, args in self.instructions if ins == instruction]


def parse(text: str) -> list[Stage]:
    """Stages of a Dockerfile, each with its (INSTRUCTION, arguments) in order."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].strip() + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        instruction, _, args = line.partition(" ")
        instruction, args = instruction.upper(), re.sub(r"\s+", " ", args.strip())
        if instruction == "FROM":
            match = re.fullmatch(r"(\S+)(?: AS (\S+))?", args, re.I)
            assert match, line
            stages.append(Stage(base=match.group(1), name=match.group(2) or ""))
        else:
            assert stages, f"{line!r} before FROM"
            stages[-1].instructions.append((instruction, args))
    return stages


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out)


def context_files(root: Path, dockerignore: str) -> list[str]:
    """Files (relative paths) Docker sends as the build context.

    As Docker does: patterns apply in order, the last match wins, `!` re-includes,
    and a pattern that matches a directory matches everything under it.
    """
    rules = []
    for line in dockerignore.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line[1:] if negated else line
        rules.append((negated, _pattern_regex(pattern.strip("/"))))
    included = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or ".git" in path.relative_to(root).parts:
            continue
        rel = path.relative_to(root).as_posix()
        parts = rel.split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        excluded = False
        for negated, regex in rules:
            if any(regex.fullmatch(c) for c in candidates):
                excluded = not negated
        if not excluded:
            included.append(rel)
    return included


def apply_copies(stage: Stage, context: Path, files: list[str], fs_root: Path) -> Path:
    """Run the stage's COPY (from the context) and WORKDIR lines into fs_root.

    Returns the working directory the stage's next RUN would use.
    """
    workdir = fs_root
    for instruction, args in stage.instructions:
        if instruction == "WORKDIR":
            workdir = fs_root / args.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction == "COPY" and not args.startswith("--from"):
            *sources, dest = args.split(" ")
            target = workdir / dest if not dest.startswith("/") else fs_root / dest.lstrip("/")
            for source in sources:
                source = source.rstrip("/")
                matched = [f for f in files if f == source or f.startswith(source + "/")]
                assert matched, f"COPY {source}: not in the build context"
                for rel in matched:
                    inside = rel[len(source) :].lstrip("/") or Path(rel).name
                    if rel == source and not dest.endswith("/") and len(sources) == 1:
                        out = target
                    else:
                        out = target / inside
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(context / rel, out)
    return workdir
