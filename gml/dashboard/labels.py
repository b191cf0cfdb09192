"""How a parameter value is shown everywhere in the dashboard (table, plots, importance)."""
from __future__ import annotations

import json
from typing import Any


def display_value(value: Any) -> Any:
    """Numbers stay numbers (bools are categories), strings stay strings, anything else becomes its JSON text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)
