"""pytest plugin (registered through the ``pytest11`` entry point as ``sts_props``).

Options::

    pytest --sts-backend=model            # the reference model (default)
    pytest --k8s-version=v1.36.3          # the Kubernetes behaviour line to model / start
    pytest --sts-profile=model-ci         # a Hypothesis settings profile from strategies.profiles

Fixtures:

* ``sts_backend``: the backend name chosen on the command line.
* ``model_config``: a :class:`~sts_props.model.ModelConfig` for ``--k8s-version``.

Tests marked ``@pytest.mark.cluster`` need a real cluster backend; with ``--sts-backend=model``
they are reported as skipped *with the reason*, never silently passed.
"""

from __future__ import annotations

import pytest

from sts_props.model import ModelConfig

BACKENDS = ("model", "kwok", "kwok-image", "k3s", "kubeconfig")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sts-props")
    group.addoption("--sts-backend", default="model", choices=BACKENDS,
                    help="where scenarios run: the model or a real cluster backend")
    group.addoption("--k8s-version", default="v1.37.2",
                    help="Kubernetes version to model and, for built backends, to run")
    group.addoption("--sts-profile", default=None,
                    help="Hypothesis settings profile (model, model-ci, cluster)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cluster: needs a real cluster (--sts-backend != model)")
    profile = config.getoption("--sts-profile", default=None)
    if profile:
        from strategies.profiles import load_profile

        load_profile(str(profile))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    backend = config.getoption("--sts-backend")
    if backend != "model":
        return
    reason = "needs a real cluster: run with --sts-backend=kwok (or k3s, kwok-image, kubeconfig)"
    for item in items:
        if item.get_closest_marker("cluster") is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def sts_backend(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--sts-backend"))


@pytest.fixture(scope="session")
def model_config(request: pytest.FixtureRequest) -> ModelConfig:
    return ModelConfig.for_version(str(request.config.getoption("--k8s-version")))
