"""The names a Kubeflow lightweight component's module takes from ``kfp.dsl``, without kfp.

``flowc import kfp`` moves the function of each ``@dsl.component`` into a module of its own and
replaces its ``import kfp`` / ``from kfp.dsl import *`` lines with
``from flowc_step.kfp_dsl import *``, so the function runs as a Python step, here and in the
cluster, with no kfp installed. Its annotations keep their meaning:

- ``InputPath(T)`` / ``OutputPath(T)``: the parameter receives the path as a ``str``;
- ``Input[T]`` / ``Output[T]``: the parameter receives an artifact object with ``path``,
  ``uri``, ``name`` and ``metadata``; a ``Metrics`` output's ``log_metric(name, value)`` values
  are written as the output's JSON when the function writes no file there itself.

Anything else of kfp (clients, the pipeline decorator's compilation) is not offered: the
module is a function, flowc is the pipeline.
"""

import json
import os

__all__ = [
    "Artifact", "ClassificationMetrics", "Dataset", "HTML", "Input", "InputPath", "Markdown",
    "Metrics", "Model", "Output", "OutputPath", "SlicedClassificationMetrics", "dsl",
]


class Artifact:
    """An artifact as a component function sees it."""

    schema_title = "system.Artifact"

    def __init__(self, name="", uri="", metadata=None):
        self.name = name
        self.uri = uri
        self.metadata = dict(metadata or {})

    @property
    def path(self):
        return self.uri

    @path.setter
    def path(self, value):
        self.uri = value

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r}, path={self.path!r})"


class Dataset(Artifact):
    schema_title = "system.Dataset"


class Model(Artifact):
    schema_title = "system.Model"

    @property
    def framework(self):
        return self.metadata.get("framework", "")


class HTML(Artifact):
    schema_title = "system.HTML"


class Markdown(Artifact):
    schema_title = "system.Markdown"


class Metrics(Artifact):
    """Scalar metrics: ``log_metric`` records them in ``metadata``."""

    schema_title = "system.Metrics"

    def log_metric(self, metric, value):
        self.metadata[metric] = value


class ClassificationMetrics(Metrics):
    schema_title = "system.ClassificationMetrics"


class SlicedClassificationMetrics(Metrics):
    schema_title = "system.SlicedClassificationMetrics"


class Annotation:
    """What ``Input[T]``, ``Output[T]``, ``InputPath(T)`` and ``OutputPath(T)`` stand for."""

    def __init__(self, kind, artifact_type):
        self.kind = kind  # "input", "output", "input_path" or "output_path"
        self.artifact_type = artifact_type if isinstance(artifact_type, type) else Artifact

    def __repr__(self):
        return f"{self.kind}({self.artifact_type.__name__})"


class Input:
    """``Input[Dataset]``: an input artifact object."""

    def __class_getitem__(cls, artifact_type):
        return Annotation("input", artifact_type)


class Output:
    """``Output[Model]``: an output artifact object, written at its ``path``."""

    def __class_getitem__(cls, artifact_type):
        return Annotation("output", artifact_type)


def InputPath(artifact_type=None):  # noqa: N802 - kfp's name
    """``InputPath(Dataset)``: the input's path as text."""
    return Annotation("input_path", artifact_type)


def OutputPath(artifact_type=None):  # noqa: N802 - kfp's name
    """``OutputPath(Model)``: where to write the output, as text."""
    return Annotation("output_path", artifact_type)


class _Dsl:
    """``dsl.component`` and the names above as ``dsl.X``, for modules that spell them so."""

    def __getattr__(self, name):
        if name in __all__ and name != "dsl":
            return globals()[name]
        raise AttributeError(f"kfp.dsl.{name} is not available in a flowc Python step")

    @staticmethod
    def component(func=None, **_options):
        """The decorator, as a no-op (flowc's step declares image and packages)."""
        if func is None:
            return lambda f: f
        return func


dsl = _Dsl()


def argument(annotation, name, path):
    """The value of a parameter annotated with ``annotation`` whose file is at ``path``
    (``None`` when the annotation is not one of kfp's)."""
    if not isinstance(annotation, Annotation):
        return None
    if annotation.kind in ("input_path", "output_path"):
        return str(path)
    return annotation.artifact_type(name=name, uri=str(path))


def finish(value):
    """After the call: an output artifact whose function logged metrics and wrote no file gets
    its metrics written as JSON."""
    if not isinstance(value, Metrics) or not value.metadata:
        return
    if os.path.exists(value.path):
        return
    tmp = value.path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value.metadata, f, sort_keys=True)
    os.replace(tmp, value.path)
