"""The problems of a Python step, each with a stable code (documented in docs/python.md).

A :class:`StepError` is printed as one line, ``error[CODE]: message``, followed by
``  help: fix`` when there is a fix; the process then exits with status 1, so flowc records the
step as failed and keeps none of its outputs.
"""

#: The function's module or the function itself cannot be imported or found.
FUNCTION_NOT_FOUND = "P101"
#: The function raised an exception (its traceback is in the step's log).
FUNCTION_RAISED = "P102"
#: A returned table does not conform to its declared schema.
TABLE_SCHEMA = "P103"
#: The function returned something other than what the step's outputs need.
RETURN_SHAPE = "P104"
#: A ``Json`` or ``Metrics`` output cannot be written as JSON.
NOT_JSON = "P105"
#: An input value or file cannot be read as its declared type, or the arguments are malformed.
BAD_INPUT = "P106"
#: A package the step needs (pyarrow, pandas, polars) is not installed in this interpreter.
MISSING_PACKAGE = "P107"


class StepError(Exception):
    """A problem of the step with its code, its message and how to fix it."""

    def __init__(self, code, message, fix=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fix = fix

    def render(self):
        """The problem as flowc prints problems: ``error[CODE]: message`` and a help line."""
        text = f"error[{self.code}]: {self.message}"
        if self.fix:
            text += f"\n  help: {self.fix}"
        return text
