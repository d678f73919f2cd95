"""Publishing the day's weights (daily_weighting.flow)."""

import csv
import datetime
import hashlib
import io
import os
import pathlib


def publish_weights(weights: pathlib.Path, day: datetime.date) -> dict:
    """Validates the weights CSV file and returns the publication receipt: the day, the number
    of rows, the file's SHA-256 and the endpoint. The upload itself is left out so that the
    example runs anywhere; the token is only tested for presence, never printed."""
    data = weights.read_bytes()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    if not rows or "weight" not in rows[0]:
        raise ValueError(f"{weights.name} has no weight column")
    return {
        "day": day.isoformat(),
        "rows": len(rows) - 1,
        "sha256": hashlib.sha256(data).hexdigest(),
        "endpoint": os.environ.get("PUBLISHER_URL", ""),
        "authenticated": bool(os.environ.get("PUBLISHER_TOKEN")),
    }
