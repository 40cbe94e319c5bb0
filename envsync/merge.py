"""Three-way merge of one value with diff-match-patch.

The base->local patches are applied onto remote, and the base->remote patches
onto local; the merge is accepted only when every patch applied exactly and
both results agree. Matching is exact (no fuzzy matching), so an edit is
never applied at a guessed place. An edit the other side already contains
(say, after an interrupted merge wrote one side only) counts as applied, so a
re-run of the same merge converges.
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
    forward = _apply(dmp, base, local, onto=remote)
    backward = _apply(dmp, base, remote, onto=local)
    if forward is None or forward != backward:
        return None
    return forward


def _apply(dmp: diff_match_patch, before: str, after: str, onto: str) -> str | None:
    """Apply the edits that turn `before` into `after` onto `onto`; None if any fails."""
    patches = [p for p in dmp.patch_make(before, after) if not _already_in(dmp, p, onto)]
    result, applied = dmp.patch_apply(patches, onto)
    return result if all(applied) else None


def _already_in(dmp: diff_match_patch, patch, text: str) -> bool:
    return dmp.diff_text2(patch.diffs) in text and dmp.diff_text1(patch.diffs) not in text
