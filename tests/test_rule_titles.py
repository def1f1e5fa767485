"""Every rule ID a check can cite has a title (sts_props.report.rules), so an explanation never
prints one bare: the IDs are read from the string literals of sts_props/checks/."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from sts_props.report.rules import rule_ids, title

CHECKS_DIR = Path(__file__).resolve().parent.parent / "sts_props" / "checks"
#: a violation's rule field: IDs (and a section number) joined by "/"
RULE = re.compile(r"[A-Z]{1,5}(-[0-9]+[a-z]?|-STRICT)?(/([A-Z]{1,5}(-[0-9]+[a-z]?)?|10\.[0-9]))*")


def cited_rules() -> dict[str, str]:
    """Every rule ID in a string literal of the checks that looks like a rule field, with the
    file it is in."""
    found: dict[str, str] = {}
    for path in sorted(CHECKS_DIR.glob("*.py")):
        for tok in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            if tok.type != tokenize.STRING:
                continue
            try:
                value = ast.literal_eval(tok.string)
            except (ValueError, SyntaxError):  # an f-string
                continue
            if isinstance(value, str) and RULE.fullmatch(value) and (
                    "-" in value or "/" in value):
                for rule_id in rule_ids(value):
                    found.setdefault(rule_id, path.name)
    return found


def test_every_rule_a_check_cites_has_a_title() -> None:
    cited = cited_rules()
    assert {"CHK-7", "RCR-1", "EX-2", "CMP-STRICT", "10.3"} <= set(cited)  # the scan sees them
    assert {i: f for i, f in cited.items() if not title(i)} == {}


def test_an_unknown_id_has_no_title() -> None:
    assert title("ZZ-1") == "" and title("10.9") == ""
