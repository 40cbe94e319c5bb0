"""Three-way merge of one value with diff-match-patch.

The base->local patches are applied onto remote, and the base->remote patches
onto local; the merge is accepted only when every patch applied exactly and
both results agree. Matching is exact (no fuzzy matching), so an edit is
never applied at a guessed place.
"""
from __future__ import annotations

from diff_match_patch import diff_match_patch


def _engine() -> diff_match_patch:
    dmp = diff_match_patch()
    dmp.Match_Threshold = 0.01  # below one error in a 32-char pattern: exact text only
    dmp.Match_Distance = 1_000_000_000  # ...but found anywhere, since the other side's edits shift offsets
    dmp.Patch_DeleteThreshold = 0.0
    return dmp


def merge3(base: str, local: str, remote: str) -> str | None:
    """The value with both sides' edits, or None when they overlap or disagree."""
    if local == remote:
        return local
    if local == base:
        return remote
    if remote == base:
        return local
    dmp = _engine()
    forward, forward_ok = dmp.patch_apply(dmp.patch_make(base, local), remote)
    backward, backward_ok = dmp.patch_apply(dmp.patch_make(base, remote), local)
    if not all(forward_ok) or not all(backward_ok) or forward != backward:
        return None
    return forward
