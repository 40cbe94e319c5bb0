"""Is a piece of a value a real word (or host name), so that looking for it would only find noise?

A value like `inventory-service` or `PRODUCTION_MODE` is made of words; `QZXWVKJHGFDSAPLMNBTR` or
`kfjqzvbnmwpx` is a random token that happens to have no digits. Without a dictionary we tell them
apart the way a reader does: a word is short, has vowels, no long consonant run, and none of the
letter pairs that English words (and the names developers use) almost never contain. On random
single-case letters this takes a token for a word about 1 time in 9 at 8 letters, 1 in 30 at 12,
1 in 100 at 16, never past 16 (measured in tests/scan/words_test.py). Pure: no I/O.
"""
from __future__ import annotations

import re

# Letter pairs found in fewer than 3 of the ~7,000 words that occur 5+ times in CPython's standard
# library source (comments, docstrings, names), minus a few that common words need (chaos, nginx,
# always, development, oh, energy, azure). A word holds none of them.
_RARE_PAIRS = frozenset((
    "aj aq bh bk bq bw bx cb cg cj cx cz dh dx dz fb fh fj fk fq fv fw fx fz gj gk gq gw gx hb hf hg "
    "hh hj hk hq hv hw hz ih ij iw iy jb jc jg jh jj jl jm jn jp jq jr jt jv jx jy jz kc kh kk km kq kv "
    "kx kz lq lx lz mf mh mj mw mz nq pj pq pv pz qa qb qc qd qe qg qh qi qj qk qn qo qp qq qw qx qy qz "
    "rj rq rx rz sj sx sz tj tq uj uk uq uu uv uw uy uz vd vf vg vh vj vk vl vp vq vr vu vv vw vx vy vz "
    "wb wc wg wj wm wq wu wv ww wx wy wz xg xj xk xv xw xz yh yj yk yq yu yx yy zb zc zd zf zg zh zj zk "
    "zl zm zn zp zq zr zs zt zv zw zx zy zz"
).split())
_CONSONANT_RUN = re.compile(r"[^aeiouy]{5}")
MAX_WORD = 16  # letters; longer runs of letters without a separator are not taken for words

# Top-level domains a host name in a config ends with: the common generic ones, the names
# private networks use, and any two-letter country code.
_TLDS = frozenset((
    "com net org edu gov mil int info biz io dev app ai co cloud tech site online xyz me tv "
    "internal local localdomain lan corp home test example invalid intranet private svc cluster "
    "arpa aws azure gcp"
).split())


def is_word(part: str) -> bool:
    """`part` (letters, maybe ending in up to two digits: `west1`, `v2`) reads as a word."""
    letters = part.lower().rstrip("0123456789")
    if not letters.isalpha() or not letters.isascii() or len(part) - len(letters) > 2:
        return False
    if len(letters) <= 3:
        return True
    if len(letters) > MAX_WORD or sum(c in "aeiouy" for c in letters) * 5 < len(letters):
        return False
    if _CONSONANT_RUN.search(letters):
        return False
    return not any(a + b in _RARE_PAIRS for a, b in zip(letters, letters[1:]))


def is_tld(label: str) -> bool:
    label = label.lower().rstrip(".")
    return label in _TLDS or (len(label) == 2 and label.isalpha() and label.isascii())
