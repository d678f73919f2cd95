"""The entry point: parse the arguments, import the function, call it, save the outputs.

Arguments (written by flowc's compiler, never by hand)::

    --function MODULE:FUNCTION   the function to call
    --signature JSON             {"inputs": {name: type}, "outputs": {name: type}}
    --param NAME=TEXT            a parameter's value as text (empty: absent)
    --input NAME=PATH            an input artifact's path (empty or missing: absent)
    --output NAME=PATH           where an output must be written
    --executor-input JSON        Kubeflow's executor input (``{{$}}``): its output file gets
                                 the numbers of the ``Metrics`` outputs (flowc_step.kfp)
"""

import importlib
import inspect
import json
import sys
import traceback

from flowc_step import errors, kfp_dsl
from flowc_step.errors import StepError
from flowc_step.kfp import write_metadata
from flowc_step.outputs import save_outputs, split_returned
from flowc_step.values import load_input, load_param


class Call:
    """A parsed command line: the function's reference, the signature and the arguments."""

    def __init__(self):
        self.function = None
        self.signature = None
        self.params = {}
        self.inputs = {}
        self.outputs = {}
        self.executor_input = None


def _pair(flag, text):
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise StepError(errors.BAD_INPUT, f"`{flag} {text}` is not NAME=VALUE")
    return name, value


def parse_args(argv):
    """The :class:`Call` that ``argv`` describes."""
    call = Call()
    targets = {"--param": call.params, "--input": call.inputs, "--output": call.outputs}
    it = iter(argv)
    for flag in it:
        value = next(it, None)
        if value is None:
            raise StepError(errors.BAD_INPUT, f"`{flag}` needs a value")
        if flag == "--function":
            call.function = value
        elif flag == "--signature":
            try:
                call.signature = json.loads(value)
            except ValueError as e:
                raise StepError(errors.BAD_INPUT, f"the signature is not JSON: {e}") from None
        elif flag == "--executor-input":
            try:
                call.executor_input = json.loads(value)
            except ValueError as e:
                raise StepError(errors.BAD_INPUT, f"the executor input is not JSON: {e}") from None
        elif flag in targets:
            name, text = _pair(flag, value)
            targets[flag][name] = text
        else:
            raise StepError(errors.BAD_INPUT, f"unknown argument `{flag}`")
    if not call.function or call.signature is None:
        raise StepError(errors.BAD_INPUT, "`--function` and `--signature` are required")
    return call


def import_function(reference):
    """The function ``module:function`` names, imported from the Python path."""
    module_name, _, function_name = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and (module_name + ".").startswith(e.name + "."):
            raise StepError(
                errors.FUNCTION_NOT_FOUND,
                f"module `{module_name}` is not on the Python path",
                "put its folder next to the .flow file or under a `[python] path` root of "
                "flowc.toml (locally), or install it into the step's image (in the cluster)",
            ) from None
        traceback.print_exc()
        raise StepError(
            errors.FUNCTION_NOT_FOUND,
            f"importing `{module_name}` failed: {e}",
            "install the package it imports into the interpreter that runs the step",
        ) from None
    except Exception as e:  # the module's own code failed while it was imported
        traceback.print_exc()
        raise StepError(
            errors.FUNCTION_NOT_FOUND,
            f"importing `{module_name}` raised {type(e).__name__}: {e}",
            "the traceback above shows where",
        ) from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise StepError(
            errors.FUNCTION_NOT_FOUND,
            f"module `{module_name}` ({getattr(module, '__file__', '?')}) has no function "
            f"`{function_name}`",
            "define it at the top level of the module, or fix the name in the step's `python`",
        )
    return function


def _arguments(function, call):
    """The keyword arguments of the call: every input, and the path of each output the
    function takes as a parameter (it writes that output itself)."""
    sig = call.signature
    parameters = inspect.signature(function).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    kwargs = {}
    for name, ty in sig["inputs"].items():
        if name not in parameters and not takes_any:
            raise StepError(
                errors.FUNCTION_NOT_FOUND,
                f"`{call.function}` takes no parameter `{name}`, which the step passes",
                f"add `{name}` to the function's parameters, or remove it from the step",
            )
        annotation = parameters[name].annotation if name in parameters else None
        if not _has_artifact(ty):
            kwargs[name] = load_param(name, ty, call.params.get(name, ""))
        elif isinstance(annotation, kfp_dsl.Annotation) and call.inputs.get(name):
            kwargs[name] = kfp_dsl.argument(annotation, name, call.inputs[name])
        else:
            kwargs[name] = load_input(name, ty, call.inputs.get(name, ""), annotation)
    written = set()
    for name in sig["outputs"]:
        if name in parameters:
            path = _output_path(call, name)
            kfp_value = kfp_dsl.argument(parameters[name].annotation, name, path)
            kwargs[name] = path if kfp_value is None else kfp_value
            written.add(name)
    return kwargs, written


def _has_artifact(ty):
    kind = ty.get("kind")
    if kind in ("artifact", "metrics", "table"):
        return True
    if kind == "list":
        return _has_artifact(ty["item"])
    if kind == "optional":
        return _has_artifact(ty["inner"])
    return False


def _output_path(call, name):
    import pathlib

    path = call.outputs.get(name)
    if not path:
        raise StepError(errors.BAD_INPUT, f"no path was given for output `{name}`")
    return pathlib.Path(path)


def run(argv):
    """Runs the step ``argv`` describes; raises :class:`StepError` on a problem."""
    call = parse_args(argv)
    function = import_function(call.function)
    kwargs, written = _arguments(function, call)
    try:
        returned = function(**kwargs)
    except Exception as e:  # the user's code: any exception fails the step
        traceback.print_exc()
        raise StepError(
            errors.FUNCTION_RAISED,
            f"`{call.function}` raised {type(e).__name__}: {e}",
            "the traceback above shows where",
        ) from None
    for value in kwargs.values():
        kfp_dsl.finish(value)
    values = split_returned(call.function, call.signature["outputs"], written, returned)
    save_outputs(call.signature["outputs"], call.outputs, values)
    write_metadata(call.executor_input, call.signature["outputs"], call.outputs)


def main(argv):
    """Runs the step and returns the process's exit status (0: the outputs are written)."""
    try:
        run(argv)
    except StepError as e:
        sys.stdout.flush()
        print(e.render(), file=sys.stderr)
        return 1
    return 0
