"""pytest plugin (registered through the ``pytest11`` entry point as ``sts_props``).

Options::

    pytest --sts-backend=model            # the reference model (default)
    pytest --k8s-version=v1.36.3          # the Kubernetes behaviour line to model / start
    pytest --sts-profile=model-ci         # a Hypothesis settings profile (strategies/profiles.py)
    pytest --sts-backend=kwok --sts-jobs=1  # cluster scenarios one at a time (see sts_jobs)

Fixtures:

* ``sts_backend``: the backend name chosen on the command line.
* ``model_config``: a :class:`~sts_props.model.ModelConfig` for ``--k8s-version``.
* ``sts_cluster``: a session-scoped started cluster of ``--sts-backend`` (kwok: built from
  source on first use, then ~6 s to start); torn down at the end of the session.
* ``sts_jobs``: how many cluster scenarios a test may run side by side (``--sts-jobs``;
  default as ``sts-props check``: three per core, at most 6, on a cluster sts-props starts, 1 on
  an existing one). A test that has many scenarios to run hands it on, e.g. to
  :func:`sts_props.replay.run_plans_on_cluster` (the regression suite does).
* ``cluster_run``: a factory ``cluster_run(manifests)`` giving a :class:`ClusterRun` in a fresh
  labelled namespace per test (or per Hypothesis example), deleted afterwards.

Tests marked ``@pytest.mark.cluster`` need a real cluster backend; with ``--sts-backend=model``
they are reported as skipped *with the reason*, never silently passed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sts_props.cluster.backends import make_cluster
from sts_props.cluster.base import Cluster, ClusterError
from sts_props.cluster.driver import ClusterRun
from sts_props.defaults import BACKENDS, CONTAINER_BACKENDS, DEFAULT_VERSION, default_jobs
from sts_props.doctor import diagnose, first_problem
from sts_props.model import ModelConfig
from sts_props.scenario import Manifests
from sts_props.strategies.profiles import ENV_VAR, load_profile
from sts_props.versions import release_version


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sts-props")
    group.addoption("--sts-backend", default="model", choices=BACKENDS,
                    help="where scenarios run: the model or a real cluster backend")
    group.addoption("--k8s-version", default=DEFAULT_VERSION,
                    help="Kubernetes version to model and, for built backends, to run")
    group.addoption("--sts-profile", default=None,
                    help="Hypothesis settings profile (model, model-ci, cluster); default: "
                         "$STS_PROPS_PROFILE if set, else Hypothesis's own settings")
    group.addoption("--sts-kubeconfig", default=None,
                    help="with --sts-backend=kubeconfig: the kubeconfig file")
    group.addoption("--sts-context", default=None,
                    help="with --sts-backend=kubeconfig: the context")
    group.addoption("--sts-image", default=None,
                    help="with --sts-backend=kwok-image or k3s: the container image")
    group.addoption("--sts-jobs", type=int, default=None, metavar="N",
                    help="cluster scenarios a test may run side by side, each in its own "
                         "namespace (default: three per core, at most 6, on a cluster "
                         "sts-props starts; 1 on an existing one)")
    group.addoption("--allow-existing-cluster", action="store_true", default=False,
                    help="with --sts-backend=kubeconfig: run on a cluster sts-props did not "
                         "create, touching only namespaces it creates and labels")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cluster: needs a real cluster (--sts-backend != model)")
    config.addinivalue_line("markers", "backend(*names): runs only on these cluster backends")
    # A profile is loaded only when asked for (the option, else STS_PROPS_PROFILE): installing
    # sts-props must not change the Hypothesis settings of a project that never mentions it.
    # A version the model has no configuration for is a usage error of the whole run (one
    # line, exit code 4), not an error in every test that asks for the model_config fixture.
    version = str(config.getoption("--k8s-version", default=DEFAULT_VERSION))
    try:
        ModelConfig.for_version(release_version(version))
    except ValueError as exc:
        raise pytest.UsageError(f"--k8s-version: {exc}") from None
    jobs = config.getoption("--sts-jobs", default=None)
    if jobs is not None and int(jobs) < 1:
        raise pytest.UsageError(f"--sts-jobs: at least 1, got {jobs}")
    profile = config.getoption("--sts-profile", default=None) or os.environ.get(ENV_VAR) or None
    if profile:
        try:
            load_profile(str(profile))
        except ValueError as exc:
            source = "--sts-profile" if config.getoption("--sts-profile") else ENV_VAR
            raise pytest.UsageError(f"{source}: {exc}") from None


def pytest_sessionstart(session: pytest.Session) -> None:
    """A container backend that cannot run here stops the session at once with the doctor's
    diagnosis (within seconds, no traceback), instead of failing test by test."""
    config = session.config
    backend = str(config.getoption("--sts-backend"))
    if backend not in CONTAINER_BACKENDS:
        return

    image = config.getoption("--sts-image")
    problem = first_problem(diagnose([backend], str(config.getoption("--k8s-version")),
                                     image=image))
    if problem is not None:
        pytest.exit(f"--sts-backend={backend} cannot run here: {problem.name}: "
                    f"{problem.detail}; fix: {problem.fix}", returncode=2)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    backend = config.getoption("--sts-backend")
    reason = "needs a real cluster: run with --sts-backend=kwok (or k3s, kwok-image, kubeconfig)"
    for item in items:
        if backend == "model" and item.get_closest_marker("cluster") is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
            continue
        wanted = item.get_closest_marker("backend")
        if wanted is not None and backend not in wanted.args:
            item.add_marker(pytest.mark.skip(
                reason=f"about the {'/'.join(wanted.args)} backend: run with "
                       f"--sts-backend={wanted.args[0]}"))


@pytest.fixture(scope="session")
def sts_backend(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--sts-backend"))


@pytest.fixture(scope="session")
def sts_jobs(request: pytest.FixtureRequest) -> int:
    """``--sts-jobs``, else the default for ``--sts-backend`` (:func:`default_jobs`)."""
    given = request.config.getoption("--sts-jobs")
    return int(given) if given is not None else default_jobs(
        str(request.config.getoption("--sts-backend")))


@pytest.fixture(scope="session")
def model_config(request: pytest.FixtureRequest) -> ModelConfig:
    return ModelConfig.for_version(str(request.config.getoption("--k8s-version")))


@pytest.fixture(scope="session")
def sts_cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """The real cluster for ``--sts-backend``; a backend that cannot run here fails with the
    reason (never a silent pass)."""
    backend = str(request.config.getoption("--sts-backend"))
    version = str(request.config.getoption("--k8s-version"))
    if backend == "model":
        pytest.skip("needs a real cluster: run with --sts-backend=kwok")
    path = request.config.getoption("--sts-kubeconfig")
    cluster = make_cluster(
        backend, version, progress=lambda line: print(line, flush=True),
        kubeconfig=Path(path) if path else None, context=request.config.getoption("--sts-context"),
        allow_existing=bool(request.config.getoption("--allow-existing-cluster")),
        image=request.config.getoption("--sts-image"))
    try:
        cluster.start()
    except ClusterError as exc:
        pytest.fail(f"the {backend} backend cannot start: {exc}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def cluster_run(sts_cluster: Cluster) -> Iterator[Callable[[Manifests], ClusterRun]]:
    """``cluster_run(manifests)``: a ClusterRun in its own namespace, cleaned up afterwards."""
    runs: list[ClusterRun] = []

    def make(manifests: Manifests) -> ClusterRun:
        run = ClusterRun(sts_cluster, manifests)
        run.__enter__()
        runs.append(run)
        return run

    yield make
    for run in runs:
        run.__exit__(None, None, None)
