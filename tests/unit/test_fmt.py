"""``netc fmt``: print, --check, --write and --to, run in-process on temporary files."""

import pytest

from netc.cli import main

MESSY_DSL = """\
# a comment, which fmt keeps
project acme/web { vpc main 10.1.0.0/16
subnet default 10.1.0.0/24
  group web { egress ingress tcp 443 }
  port web-1 ip 10.1.0.10 groups web }
"""

CANONICAL_DSL = """\
# a comment, which fmt keeps
project acme/web {
  vpc main 10.1.0.0/16
  subnet default 10.1.0.0/24
  group web {
    ingress tcp 443 from 0.0.0.0/0
    egress all to 0.0.0.0/0
  }
  port web-1 on default ip 10.1.0.10 groups web
}
"""

CANONICAL_YAML = """\
# a comment, which fmt keeps
org: acme
project: web
vpc:
  name: main
  cidr: 10.1.0.0/16
subnets:
  - name: default
    cidr: 10.1.0.0/24
security_groups:
  - name: web
    ingress:
      - protocol: tcp
        ports: [443]
        from: 0.0.0.0/0
    egress:
      - protocol: all
        to: 0.0.0.0/0
ports:
  - name: web-1
    ip: 10.1.0.10
    security_groups: [web]
"""


@pytest.fixture
def messy(tmp_path):
    path = tmp_path / "web.netc"
    path.write_text(MESSY_DSL)
    return path


def test_prints_canonical_form_without_touching_the_file(messy, capsys):
    assert main(["fmt", str(messy)]) == 0
    assert capsys.readouterr().out == CANONICAL_DSL
    assert messy.read_text() == MESSY_DSL


@pytest.mark.parametrize(("to", "expected"), [("yaml", CANONICAL_YAML), ("dsl", CANONICAL_DSL)])
def test_converts_to_either_syntax(messy, capsys, to, expected):
    assert main(["fmt", "--to", to, str(messy)]) == 0
    assert capsys.readouterr().out == expected


def test_check_lists_files_not_canonical(tmp_path, messy, capsys):
    clean = tmp_path / "db.yaml"
    clean.write_text("org: acme\nproject: db\n")
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"would reformat {messy}" in err and str(clean) not in err.split("\n")[0]
    assert "1 file(s) would change, 1 already canonical" in err
    assert messy.read_text() == MESSY_DSL
    assert main(["fmt", "--check", str(clean)]) == 0
    assert main(["fmt", "--check", "--to", "dsl", str(clean)]) == 1
    assert f"would convert {clean}" in capsys.readouterr().err


def test_write_rewrites_in_place_and_is_then_canonical(messy, capsys):
    assert main(["fmt", "--write", str(messy)]) == 0
    assert messy.read_text() == CANONICAL_DSL
    assert main(["fmt", "--check", str(messy)]) == 0


def test_write_with_to_writes_beside_and_never_overwrites(messy, capsys):
    assert main(["fmt", "--write", "--to", "yaml", str(messy)]) == 0
    converted = messy.with_suffix(".yaml")
    assert converted.read_text() == CANONICAL_YAML
    assert messy.read_text() == MESSY_DSL
    converted.write_text("# mine\n")
    assert main(["fmt", "--write", "--to", "yaml", str(messy)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert converted.read_text() == "# mine\n"


def test_files_with_errors_are_reported_and_left_alone(tmp_path, messy, capsys):
    broken = tmp_path / "broken.netc"
    broken.write_text("project acme/x {\n  vpc main\n")
    assert main(["fmt", "--write", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{broken}:3:1: error[SYNTAX_ERROR]" in err
    assert broken.read_text() == "project acme/x {\n  vpc main\n"
    assert messy.read_text() == CANONICAL_DSL  # the good file is still formatted


def test_several_files_print_as_one_valid_file(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text("org: acme\nproject: a\n")
    (tmp_path / "b.yaml").write_text("org: acme\nproject: b\n")
    assert main(["fmt", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "org: acme\nproject: a\n---\norg: acme\nproject: b\n"


def test_check_and_write_exclude_each_other(messy):
    with pytest.raises(SystemExit):
        main(["fmt", "--check", "--write", str(messy)])
