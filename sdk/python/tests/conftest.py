import json
import os
from typing import Any, Iterator

import pytest

from wisp import Wisp


@pytest.fixture(scope="session")
def live() -> dict[str, Any]:
    """The running server the harness (sdk/harness/start.ts) described; WISP_HARNESS names its file."""
    path = os.environ.get("WISP_HARNESS")
    if not path:
        pytest.skip("WISP_HARNESS is not set: run scripts/test-sdks.sh")
    with open(path, encoding="utf-8") as file:
        return json.load(file)


@pytest.fixture()
def client(live: dict[str, Any]) -> Iterator[Wisp]:
    with Wisp(live["apiKey"], base_url=live["baseUrl"], timeout=30) as wisp:
        yield wisp
