"""The layout's import rules, read from the source with `ast` (nothing is imported).

Every import counts: at module level, under `if TYPE_CHECKING:` and inside functions, since
each of them ties two modules together for a reader as much as for the interpreter.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers")

# (importing package, imported packages it must never reach). A name matches itself and
# everything below it: `bot.slack` covers `bot.slack.messages.blocks`.
FORBIDDEN: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "bot.domain",
        ("bot.services", "bot.storage", "bot.slack", "slack_sdk", "slack_bolt", "handlers"),
    ),
    ("bot.storage", ("bot.services", "bot.slack", "slack_sdk", "slack_bolt", "handlers")),
    ("bot.soget", ("bot.config", "bot.services", "bot.storage", "bot.slack", "handlers")),
    ("bot.slack.messages", ("bot.services", "bot.storage", "handlers")),
    ("bot", ("handlers",)),
)

# Imports that break a rule above and are kept for now, each with why. Empty is the goal.
ALLOWED: dict[tuple[str, str], str] = {
    # The app wires everything, the Slack listeners of `handlers` included: until the wiring
    # moves out of bot/ (or the listeners into it), the composition root reaches up.
    ("bot.app", "handlers"): "bot.app registers the listeners (register_all)",
}

# Cycles kept for now (each as the sorted tuple of its modules), each with why. Empty is the goal.
ALLOWED_CYCLES: dict[tuple[str, ...], str] = {}


@dataclass(frozen=True, slots=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (a module of ours when it is one, else the name given)
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _resolve(name: str, modules: set[str]) -> str:
    """The module of ours that `name` denotes (its longest known prefix), or `name` itself."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return name


def _imports_of(module: str, source: str, *, is_package: bool, modules: set[str]) -> list[Import]:
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(module, _resolve(a.name, modules), node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            origin = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                # `from bot.soget import client` imports the module bot.soget.client.
                target = _resolve(f"{origin}.{alias.name}", modules)
                if target not in modules:
                    target = _resolve(origin, modules)
                found.append(Import(module, target, node.lineno))
    return found


def _graph() -> list[Import]:
    sources = _sources()
    modules = set(sources)
    return [
        found
        for module, path in sources.items()
        for found in _imports_of(
            module,
            path.read_text(encoding="utf-8"),
            is_package=path.name == "__init__.py",
            modules=modules,
        )
        if found.target != module
    ]


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def forbidden_imports(imports: list[Import]) -> list[str]:
    broken: list[str] = []
    for found in imports:
        for importer, banned in FORBIDDEN:
            if not _within(found.source, importer):
                continue
            hit = next((b for b in banned if _within(found.target, b)), None)
            if hit is not None and (found.source, found.target) not in ALLOWED:
                broken.append(f"{found.source}:{found.line} imports {found.target} ({hit})")
    return sorted(set(broken))


def import_cycles(imports: list[Import]) -> list[tuple[str, ...]]:
    """Strongly connected groups of two or more of our modules (Tarjan)."""
    edges: dict[str, set[str]] = {}
    modules = set(_sources())
    for found in imports:
        if found.target in modules:
            edges.setdefault(found.source, set()).add(found.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[tuple[str, ...]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(tuple(sorted(group)))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return sorted(cycles)


def test_the_walk_sees_every_kind_of_import() -> None:
    """The checks below are only as good as the walk: it must see imports under
    TYPE_CHECKING and inside functions, and resolve relative ones."""
    modules = {"pkg", "pkg.a", "pkg.b", "pkg.sub", "pkg.sub.c", "pkg.sub.d"}
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg.a import Thing\n"
        "def later():\n    from . import d\n"
        "from .. import b\n"
        "import pkg.sub.c as c\n"
        "import httpx\n"
    )
    found = _imports_of("pkg.sub.probe", source, is_package=False, modules=modules)
    assert {i.target for i in found} == {
        "typing",
        "pkg.a",
        "pkg.sub.d",
        "pkg.b",
        "pkg.sub.c",
        "httpx",
    }
    graph = _graph()
    assert len({i.source for i in graph}) > 40
    assert any(i.target == "bot.domain.requests" for i in graph)


def test_no_import_cycle() -> None:
    cycles = [c for c in import_cycles(_graph()) if c not in ALLOWED_CYCLES]
    assert cycles == [], "import cycles:\n" + "\n".join(" ⇄ ".join(c) for c in cycles)


def test_no_forbidden_import_direction() -> None:
    broken = forbidden_imports(_graph())
    assert broken == [], "forbidden imports:\n" + "\n".join(broken)


# The playground is a client of the bot (as Slack is): it may import any of bot, and only the
# command line, which starts it, imports it.
PLAYGROUND = "bot.playground"
PLAYGROUND_IMPORTERS = ("bot.__main__",)


def playground_importers(imports: list[Import]) -> list[str]:
    return sorted(
        f"{found.source}:{found.line} imports {found.target}"
        for found in imports
        if _within(found.target, PLAYGROUND)
        and not _within(found.source, PLAYGROUND)
        and found.source not in PLAYGROUND_IMPORTERS
    )


def test_only_the_command_line_imports_the_playground() -> None:
    assert playground_importers(_graph()) == []
    planted = Import("bot.runtime", "bot.playground.page", 1)
    assert playground_importers([planted]) == ["bot.runtime:1 imports bot.playground.page"]


def test_every_allowance_is_still_needed() -> None:
    """An allowance nobody uses any more would silently permit the next such import."""
    imports = _graph()
    used = {(i.source, i.target) for i in imports}
    assert sorted(set(ALLOWED) - used) == []
    assert sorted(set(ALLOWED_CYCLES) - set(import_cycles(imports))) == []


def test_the_code_cites_only_documents_of_the_repository() -> None:
    """Docstrings and comments point at docs/ (never at notes outside the repository), and each
    cited section exists."""
    cited = re.compile(r"docs/([\w.-]+\.md)((?:\s*§\s*\d+(?:-\d+)?,?)*)")
    problems: list[str] = []
    for module, path in _sources().items():
        text = path.read_text(encoding="utf-8")
        if "shared/" in text:
            problems.append(f"{module} cites shared/")
        for match in cited.finditer(text):
            document = ROOT / "docs" / match.group(1)
            if not document.is_file():
                problems.append(f"{module} cites missing docs/{match.group(1)}")
                continue
            headings = set(re.findall(r"^## (\d+)\.", document.read_text(), re.MULTILINE))
            for first, last in re.findall(r"§\s*(\d+)(?:-(\d+))?", match.group(2)):
                for section in range(int(first), int(last or first) + 1):
                    if str(section) not in headings:
                        problems.append(f"{module} cites docs/{match.group(1)} §{section}")
    assert problems == []
