"""The examples' own Python steps: functions that flowc calls as typed steps.

Each module is ordinary Python with a unit test in ``tests/``; the ``.flow`` files name the
functions with ``python "panel_steps.MODULE:FUNCTION"``, and ``examples/flowc.toml`` puts this
folder on the Python path of ``flowc check`` and ``flowc run``.
"""
