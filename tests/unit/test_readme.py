"""The README's examples are true: its YAML and DSL projects load to the same model."""

from netc.diagnostics import Diagnostics
from netc.grammar.parser import load_dsl
from netc.intent.yaml_loader import load_yaml
from tests.conftest import REPO


def _blocks(language: str) -> list[str]:
    """The fenced blocks of README.md whose info string is ``language``."""
    blocks, current, info = [], None, ""
    for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("```"):
            if current is None:
                current, info = [], line[3:].strip()
            else:
                if info == language:
                    blocks.append("".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def test_readme_yaml_and_dsl_examples_are_the_same_project():
    out = Diagnostics()
    [yaml_text] = _blocks("yaml")
    dsl_text = next(b for b in _blocks("") if b.startswith("project "))
    from_yaml = load_yaml(yaml_text, "README.md", out)
    from_dsl = load_dsl(dsl_text, "README.md", out)
    assert [d.render() for d in out] == []
    assert [d.project for d in from_yaml] == [d.project for d in from_dsl]
