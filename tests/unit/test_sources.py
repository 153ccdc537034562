"""Reading intent files: byte-order marks, and digits the grammar must not accept."""

import pytest

from netc.diagnostics import Code, Diagnostics
from netc.intent.sources import load_documents

BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize("name, text", [
    ("web.yaml", b"org: acme\nproject: web\n"),
    ("web.netc", b"project acme/web {\n}\n"),
])
def test_a_byte_order_mark_is_not_part_of_the_text(tmp_path, name, text):
    (tmp_path / name).write_bytes(BOM + text)
    out = Diagnostics()
    assert [d.project.key for d in load_documents([str(tmp_path)], out)] == ["acme/web"]
    assert len(out) == 0


def test_non_ascii_digits_are_not_port_numbers(tmp_path):
    (tmp_path / "web.netc").write_text(
        "project acme/web {\n  group g {\n    ingress tcp \u0663 from 0.0.0.0/0\n  }\n}\n",
        encoding="utf-8")
    out = Diagnostics()
    load_documents([str(tmp_path)], out)
    assert [(d.code, d.line, d.column) for d in out] == [(Code.SYNTAX_ERROR, 3, 17)]
