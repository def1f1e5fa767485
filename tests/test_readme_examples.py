"""The README's "Your own property tests" examples, run exactly as they are printed.

The ``python`` code blocks of that section are executed into this module, so pytest collects
the tests they define: the model examples run with the rest of the suite, the cluster examples
are marked ``cluster`` (skipped, saying why, unless ``--sts-backend`` names a cluster). An edit
of the README that breaks an example, or drops one, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## Your own property tests"


def readme_blocks() -> list[str]:
    """The ``python`` code blocks of the section, in order."""
    text = README.read_text(encoding="utf-8")
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


BLOCKS = readme_blocks()
for _number, _block in enumerate(BLOCKS, 1):
    # the README's line numbers in tracebacks: the file name is README.md, lines per block
    exec(compile(_block, f"{README} (python block {_number})", "exec"), globals())

EXAMPLES = {
    "model": ["test_no_broken_promise_on_the_model", "test_scaled_pods_are_named_by_ordinal"],
    "cluster": ["test_the_cluster_keeps_the_models_promises",
                "test_scaled_pods_are_named_by_ordinal_on_a_cluster"],
}


def test_the_readme_shows_a_model_and_a_cluster_example() -> None:
    assert len(BLOCKS) == 2
    defined = {name for name in globals() if name.startswith("test_")}
    for names in EXAMPLES.values():
        assert set(names) <= defined, names
    for name in EXAMPLES["cluster"]:
        marks = [m.name for m in getattr(globals()[name], "pytestmark", [])]
        assert "cluster" in marks, f"{name} must be marked cluster"
