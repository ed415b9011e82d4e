"""Helpers of the change readers that must match the standard library exactly."""

import random
import string
from urllib.parse import quote

from sync_engine.sync.changes import url_quote


def test_url_quote_is_urllib_quote():
    rng = random.Random(7)
    texts = ["".join(rng.choice(string.printable) for _ in range(rng.randint(0, 60)))
             for _ in range(5_000)]  # fmt: skip
    texts += [
        "SELECT Id, Email FROM Lead WHERE Email IN ('o\\'brien@example.com', 'a+b@x.io')",
        "SELECT Id FROM Contact WHERE LastName = 'Müller' AND Email LIKE '%@exämple.de'",
        "",
    ]
    for text in texts:
        assert url_quote(text) == quote(text), text
