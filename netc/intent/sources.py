"""Find intent files under the given paths and load every project they hold (and,
when asked, every expectation document)."""

from __future__ import annotations

from pathlib import Path

from netc.diagnostics import Code, Diagnostics, Location
from netc.intent.expectation import ExpectationDocument, Loaded
from netc.intent.source import Document
from netc.intent.yaml_loader import load_yaml, read_yaml

YAML_SUFFIXES = (".yaml", ".yml")
DSL_SUFFIX = ".netc"
INTENT_SUFFIXES = (*YAML_SUFFIXES, DSL_SUFFIX)


def find_intent_files(paths: list[str], diagnostics: Diagnostics) -> list[Path]:
    """Files named directly, plus every intent file below named folders, sorted."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*")
                                if p.suffix in INTENT_SUFFIXES and p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            diagnostics.error(Code.FILE_ERROR, "no such file or folder", Location(name))
    unique: dict[Path, None] = dict.fromkeys(found)
    return list(unique)


def load_text(text: str, file: str, diagnostics: Diagnostics) -> list[Document]:
    """Parse one file's text by its suffix: DSL for ``.netc``, YAML otherwise. Only
    the projects: expectation documents are skipped unread."""
    if file.endswith(DSL_SUFFIX):
        from netc.grammar.parser import load_dsl
        return load_dsl(text, file, diagnostics)
    return load_yaml(text, file, diagnostics)


def read_text(text: str, file: str, diagnostics: Diagnostics) -> list[Loaded]:
    """Every document of one file's text in order, expectation documents included."""
    if file.endswith(DSL_SUFFIX):
        from netc.grammar.parser import read_dsl
        return read_dsl(text, file, diagnostics)
    return read_yaml(text, file, diagnostics)


def read_source(path: Path, diagnostics: Diagnostics) -> str | None:
    """The file's text, or None with a diagnostic when it is unreadable or not UTF-8."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        diagnostics.error(Code.FILE_ERROR, f"cannot read: {exc.strerror}", Location(str(path)))
        return None
    try:
        return raw.decode("utf-8-sig")  # a byte-order mark some editors write is not text
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        diagnostics.error(Code.SYNTAX_ERROR, "file is not valid UTF-8",
                          Location(str(path), line, column))
        return None


def load_documents(paths: list[str], diagnostics: Diagnostics,
                   expectations: list[ExpectationDocument] | None = None) -> list[Document]:
    """Every project written in the files and folders of ``paths``; their expectation
    documents go to ``expectations`` when it is given (and are skipped otherwise)."""
    documents: list[Document] = []
    for path in find_intent_files(paths, diagnostics):
        text = read_source(path, diagnostics)
        if text is None:
            continue
        if expectations is None:
            documents.extend(load_text(text, str(path), diagnostics))
            continue
        for item in read_text(text, str(path), diagnostics):
            (documents if isinstance(item, Document) else expectations).append(item)
    return documents
