"""The phrase files: complete in both languages, and every key the code uses exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.i18n.catalogue import Language
from bot.i18n.texts import TEXTS, Texts, TextsError, placeholders

ROOT = Path(__file__).resolve().parents[1]


def _write(directory: Path, text: str) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "phrases.toml").write_text(text, encoding="utf-8")
    return directory


def test_every_phrase_has_both_languages_and_the_same_placeholders() -> None:
    keys = list(TEXTS)
    assert keys
    for key in keys:
        phrase = TEXTS.phrase(key)
        assert phrase.en.strip() and phrase.fr.strip(), key
        assert placeholders(phrase.en) == placeholders(phrase.fr), key


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[a.b]\nen = "hello"\n', "fr"),
        ('[a.b]\nen = "hello {name}"\nfr = "bonjour"\n', "name"),
        ('[a.b]\nen = "x"\nfr = "y"\nde = "z"\n', "de"),
        ('[a]\nb = "loose"\n', "expected a table"),
        ("[a.b\n", "phrases.toml"),
    ],
)
def test_an_incomplete_phrase_file_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(TextsError, match=problem):
        Texts.load(_write(tmp_path / "data", text))


def test_say_fills_placeholders_in_the_reader_language(tmp_path: Path) -> None:
    texts = Texts.load(_write(tmp_path / "data", '[a.b]\nen = "Hi {who}"\nfr = "Salut {who}"\n'))
    assert texts.say("a.b", Language.EN, who="Ana") == "Hi Ana"
    assert texts.say("a.b", Language.FR, who="Ana") == "Salut Ana"
    with pytest.raises(KeyError, match=r"a\.c"):
        texts.say("a.c", Language.EN)


def _keys_used_in_code() -> set[tuple[str, str]]:
    """(file, key) for every `say("key", …)` / `TEXTS.say("key", …)` with a literal key."""
    used = set()
    for path in [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("handlers").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else None
            name = name or (node.func.id if isinstance(node.func, ast.Name) else None)
            first = node.args[0]
            if name == "say" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                used.add((path.relative_to(ROOT).as_posix(), first.value))
    return used


def test_every_phrase_key_used_in_code_is_in_a_data_file() -> None:
    missing = sorted(f"{file}: {key}" for file, key in _keys_used_in_code() if key not in TEXTS)
    assert missing == []


def test_keys_are_dotted_lowercase_names() -> None:
    for key in TEXTS:
        assert re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+", key), key
