"""The ``sts-props`` command line.

Examples::

    sts-props check --backend model --examples 1000 --manifests ../shared/seed/
    sts-props check --backend kwok --examples 30 --manifests ../shared/seed/
    sts-props seed --backend kwok          # the seed tutorial end to end on a real cluster
    sts-props cluster build --k8s-version v1.37.2
    sts-props validate ../shared/seed/redis-statefulset-demo.yaml
    python -m sts_props.cli doctor         # the same command, without the console script

From Python, :func:`main` takes the arguments and returns the exit code::

    from sts_props.cli import main
    code = main(["validate", "sts_props/data"])

Exit codes (:mod:`sts_props.cli.exit_codes`, the one place they and the exceptions behind
them are defined):

====  ========================================================================================
0     all good
1     the run failed: a property or check failed (the counterexample is printed), the cluster
      disagreed with the model on a claim, a mutant survived, a doctor check found a problem
2     bad input: a manifest, plan or kubeconfig file, an option value, or an output path
      that cannot be used (checked before the run starts); one line on stderr naming the
      file or option and the rule, never a traceback
3     no cluster: the backend cannot run here, its cluster could not be built, started or
      reached, the guard refused it, or it failed under the run; one line on stderr, and no
      verdict on any property
130   interrupted (Ctrl-C); 143: terminated (SIGTERM). Either way after cleaning up, with a
      one-line notice and the summary of what finished (``check --junit`` writes it too)
141   stdout closed by its reader (``sts-props check | head -1``): stopped quietly
====  ========================================================================================

Layout: :mod:`~sts_props.cli.app` builds the parser and maps exceptions to exit codes;
:mod:`~sts_props.cli.arguments` checks every flag value (argparse types) and output path;
:mod:`~sts_props.cli.guard` turns signals and a closed stdout into exceptions for a run;
:mod:`~sts_props.cli.options` holds the options several subcommands share; each subcommand is
one module with ``add_parser(sub) -> None`` and ``run(args) -> int``: ``check``, ``claims``,
``explore``, ``mutants``, ``replay``, ``promote``, ``validate``, ``seed``, ``doctor``,
``cluster``. The CLI imports the library; nothing in the library imports the CLI.
"""

from __future__ import annotations

import os
import sys

from sts_props.cli.exit_codes import EXIT_BAD_INPUT

try:
    os.getcwd()
except OSError as exc:
    # Hypothesis reads the working directory when it is imported (below, through the
    # commands): a directory removed under the shell once ended every command in that
    # import's traceback, before main could say anything.
    print(f"sts-props: error: the working directory cannot be used ({exc.strerror}; was it "
          "removed?): cd to a directory that exists", file=sys.stderr)
    raise SystemExit(EXIT_BAD_INPUT) from None

from sts_props.cli.app import main

__all__ = ["main"]
