"""Extracting the day's rows from a source database (features/secrets_profiles.flow)."""

import os


def extract(day, source: str) -> str:
    """The day's rows as CSV text. The example has no database: it writes what the step was
    given (the day, the source, the host from the `database` profile) and whether the password
    secret is set, never its value."""
    authenticated = bool(os.environ.get("PGPASSWORD"))
    host = os.environ.get("PGHOST", "")
    return f"day,source,host,authenticated\n{day.isoformat()},{source},{host},{authenticated}\n"
