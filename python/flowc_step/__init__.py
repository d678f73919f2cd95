"""The runtime of flowc's Python steps.

flowc calls ``python3 -m flowc_step`` with the function to call, the step's signature (every
input's and output's type, as the compiled plan has them) and one ``NAME=VALUE`` argument per
input and output. :mod:`flowc_step.main` loads the inputs (:mod:`flowc_step.values`,
:mod:`flowc_step.tables`), calls the function and saves its outputs; a problem is a
:class:`flowc_step.errors.StepError` with a stable code, printed as ``error[P1xx]: ...``.
"""

__version__ = "0.1.0"
