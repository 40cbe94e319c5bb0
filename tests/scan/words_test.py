"""envsync.scan.words: random letters are rarely taken for words."""
from __future__ import annotations

import random
import string

from envsync.scan.values import skip_reason


def test_random_letters_are_rarely_taken_for_words():
    rng = random.Random(13)
    for length, at_most in ((12, 0.05), (16, 0.015), (20, 0.0)):
        for alphabet in (string.ascii_lowercase, string.ascii_uppercase):
            taken = sum(skip_reason("".join(rng.choice(alphabet) for _ in range(length))) is not None
                        for _ in range(4000))
            assert taken / 4000 <= at_most, (length, taken)
