"""Command-line options that several ``sts-props`` subcommands share.

One definition, so ``check``, ``claims``, ``replay`` and ``mutants`` spell and explain the
connection to an existing cluster the same way::

    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_connection_options(parser)
    >>> args = parser.parse_args(["--kubeconfig", "kc.yaml", "--allow-existing-cluster"])
    >>> (str(args.kubeconfig), args.context, args.allow_existing_cluster)
    ('kc.yaml', None, True)
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """``--kubeconfig``, ``--context`` and ``--allow-existing-cluster`` (backend kubeconfig)."""
    parser.add_argument("--kubeconfig", type=Path, default=None,
                        help="with --backend kubeconfig (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", default=None, help="with --backend kubeconfig")
    # The guard against clusters sts-props did not create is lifted only on request, and then
    # the run still touches nothing but the namespaces it creates and labels.
    parser.add_argument("--allow-existing-cluster", action="store_true",
                        help="with --backend kubeconfig: run on a cluster sts-props did not "
                             "create, touching only namespaces it creates and labels")
