"""The leak guard: find the repo's own `.env` values, and known token formats, in
files about to be committed — without ever showing a value.

How a scan works:

1. Collect the values to look for: every value of the repo's local `.env`
   files (the root's `.env*` and each target's `file`, when not committed
   to git), of `--values-from` files and, with `--from-store`, of stores. Values
   too short or too common to be secrets are dropped (`skip_reason`).
2. Turn each value into needles: as written, base64 (standard and URL-safe, at
   each of the three byte alignments, so a value inside a larger base64 blob
   such as `user:password` is found too), URL-encoded and JSON-escaped.
3. Put every needle and every rule keyword (rules) into ONE Aho-Corasick
   automaton and read each file once. Each pattern enters the automaton by a
   short anchor that starts at its rarest character, and a hit is confirmed
   by comparing the whole pattern in place, so few hits need confirming.
   The automaton is ahocorasick-rs's DFA: one table step per character.
4. Allow what a human allowed: an `envsync: allow` pragma on the line, or an
   entry in the baseline file (file, rule, key and a fingerprint of the line
   with the secret masked — never the value nor a hash of it).

Staged content comes from git's index (`git diff --cached` + `git cat-file
--batch`), not from the working tree. Nothing here prints; `render_*` return
text or JSON-ready data for the CLI.

The modules, in the order a scan uses them: `settings` (what the user tuned),
`sources` (git, files, .env values), `values` (which values, in which
encodings), `rules` (token formats), `matcher` (the automaton and findings),
`baseline` (reviewed findings) and `render` (output formats); `run` runs them.
The CLI's entry points are named here; everything else is imported from the
module that defines it.
"""
from __future__ import annotations

from envsync.scan.render import render_github, render_gitlab, render_json, render_sarif, render_text
from envsync.scan.run import Request, Result, run
from envsync.scan.settings import ALLOWED_ENV_FILES, Settings, parse_size

__all__ = ["Request", "Result", "run", "Settings", "parse_size", "ALLOWED_ENV_FILES",
           "render_text", "render_json", "render_sarif", "render_github", "render_gitlab"]
