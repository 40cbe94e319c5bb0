"""envsync.scan.sources: which files are .env files, where values come from, what is read."""
from __future__ import annotations

import json

import pytest

from envsync.scan.settings import Settings
from envsync.scan.sources import Git, is_env_file
from tests.scan.repos import commit_all, findings_of, git, init_repo, scan_json


@pytest.mark.parametrize("name, refused", [
    (".env", True), (".env.local", True), (".env.production", True), ("config/prod.env", True), (".ENV", True),
    (".env.example", False), (".env.sample", False), ("deploy/.env.template", False), (".envrc", False),
    (".envsync-baseline.json", False), ("environment.yml", False), ("dotenv.py", False),
])
def test_which_files_are_env_files(name, refused):
    assert is_env_file(name, Settings()) is refused


def test_values_come_from_untracked_env_files_and_config_targets(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    local, target, committed = secret("local"), secret("target"), secret("committed")
    (repo / "envsync.toml").write_text('[targets.dev]\nfile = "config/dev.vars"\nstore = "file://.envsync/store"\n')
    (repo / "config").mkdir()
    (repo / "config" / "dev.vars").write_text(f"TARGET_TOKEN={target}\n")
    (repo / ".env.local").write_text(f"LOCAL_TOKEN={local}\n")
    (repo / "test.env").write_text(f"COMMITTED_TOKEN={committed}\n")
    (repo / "config" / ".gitignore").write_text("dev.vars\n")
    git(repo, "add", "-f", "test.env")
    commit_all(repo)
    (repo / "leak.txt").write_text(f"{local}\n{target}\n{committed}\n")
    git(repo, "add", "leak.txt")
    report = scan_json(run_envsync, repo, "--staged", code=1)
    assert findings_of(report) == {("leak.txt", 1, "env-value", "LOCAL_TOKEN"),
                                   ("leak.txt", 2, "env-value", "TARGET_TOKEN")}
    assert set(report["values"]["sources"]) == {".env.local", "config/dev.vars"}
    extra = scan_json(run_envsync, repo, "--staged", "--values-from", "test.env")
    assert ("leak.txt", 3, "env-value", "COMMITTED_TOKEN") in findings_of(extra)


def test_values_from_a_store(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    value = secret("remote")
    (repo / "envsync.toml").write_text('[targets.prod]\nfile = ".env.prod"\nstore = "file://.envsync/store"\n')
    (repo / ".env.prod").write_text(f"REMOTE_TOKEN={value}\n")
    assert run_envsync("push", "-y", cwd=repo).code == 0
    (repo / ".env.prod").unlink()  # only the store knows the value now
    (repo / "app.py").write_text(f"token = '{value}'\n")
    git(repo, "add", "app.py")
    # Without the store only the catch-all rule sees it (a random string assigned to `token`), with no key.
    assert findings_of(scan_json(run_envsync, repo, "--staged", code=1)) == {("app.py", 1, "secret-assignment", None)}
    report = scan_json(run_envsync, repo, "--staged", "--from-store", "prod", code=1)
    assert report["findings"][0]["source"] == "store:prod"
    assert findings_of(report) == {("app.py", 1, "env-value", "REMOTE_TOKEN")}


def test_committed_template_defaults_are_not_secrets_but_new_pastes_are(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    (repo / ".env.example").write_text("LOG_FORMAT=JsonLines;v=2\nAPI_TOKEN=\n")
    commit_all(repo)
    token = secret("token")
    (repo / ".env").write_text(f"LOG_FORMAT=JsonLines;v=2\nAPI_TOKEN={token}\n")
    (repo / "logging.yaml").write_text("format: JsonLines;v=2\n")
    (repo / ".env.example").write_text(f"LOG_FORMAT=JsonLines;v=2\nAPI_TOKEN={token}\n")
    git(repo, "add", "logging.yaml", ".env.example")
    report = scan_json(run_envsync, repo, "--staged", code=1)
    assert findings_of(report) == {(".env.example", 2, "env-value", "API_TOKEN")}
    assert "LOG_FORMAT" in report["values"]["skipped"]["committed default (same key and value in a committed template)"]


def test_files_and_folders_on_the_command_line(run_envsync, tmp_path, secret):
    value = secret("cli")
    folder = tmp_path / "plain"  # not a git repo: FILES still work
    (folder / "sub").mkdir(parents=True)
    (folder / ".env").write_text(f"CLI_TOKEN={value}\n")
    (folder / "sub" / "a.txt").write_text(f"{value}\n")
    (folder / "b.txt").write_text("clean\n")
    report = scan_json(run_envsync, folder, "sub", "b.txt", code=1)
    assert findings_of(report) == {("sub/a.txt", 1, "env-value", "CLI_TOKEN")}
    assert run_envsync("scan", "b.txt", cwd=folder).code == 0


@pytest.mark.parametrize("how", ["staged", "files", "all"])
def test_every_file_a_target_names_is_an_env_file(run_envsync, tmp_path, secret, how):
    repo = init_repo(tmp_path / "repo")
    (repo / "envsync.toml").write_text('[targets.dev]\nfile = "config/dev.secrets"\nstore = "file://.envsync/store"\n')
    (repo / "config").mkdir()
    (repo / "config" / "dev.secrets").write_text(f"DEV_TOKEN={secret('dev')}\n")
    git(repo, "add", "-f", "config/dev.secrets")
    if how == "all":
        git(repo, "commit", "-q", "--no-verify", "-m", "oops")
    args = {"staged": ["--staged"], "files": ["config/dev.secrets"], "all": ["--all"]}[how]
    report = scan_json(run_envsync, repo, *args, code=1)
    assert ("config/dev.secrets", None, "env-file", None) in findings_of(report)


def test_store_files_are_secret_files_without_a_local_env(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    (repo / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://vault/dev"\n')
    for name in (".envsync/store/dev/bundle/00000001.json", "vault/dev/bundle/00000001.json"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text('{"values": {"DEV_TOKEN": "%s"}}\n' % secret("store"))
        git(repo, "add", "-f", name)
    report = scan_json(run_envsync, repo, "--staged", code=1)
    assert {(f, r) for f, _, r, _ in findings_of(report)} == {
        (".envsync/store/dev/bundle/00000001.json", "env-file"), ("vault/dev/bundle/00000001.json", "env-file")}


def test_ignored_env_files_below_the_root_are_sources(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo", gitignore=".env*\n!.env.example\nnode_modules/\n")
    back, api, vendored = secret("back"), secret("api"), secret("vendored")
    for name, line in (("backend/.env", f"BACK_TOKEN={back}"), ("services/api/.env.local", f"API_TOKEN={api}"),
                       ("node_modules/pkg/.env", f"VENDORED={vendored}")):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(line + "\n")
    (repo / "app.py").write_text(f"a = '{back}'\nb = '{api}'\nc = '{vendored}'\n")
    git(repo, "add", "app.py")
    report = scan_json(run_envsync, repo, "--staged", code=1)
    # node_modules/ is ignored as a whole folder and is not entered: its files are not the team's values
    assert findings_of(report) == {("app.py", 1, "env-value", "BACK_TOKEN"), ("app.py", 2, "env-value", "API_TOKEN")}
    assert {"backend/.env", "services/api/.env.local"} <= set(report["values"]["sources"])


def test_one_cat_file_reads_small_blobs_sizes_big_ones_and_names_the_rest_none(tmp_path):
    """Thousands of names through one `git cat-file --batch`: its answers come while it still reads, so a
    list longer than a pipe holds must not stall."""
    repo = init_repo(tmp_path / "repo")
    (repo / "folder").mkdir()
    (repo / "folder" / "small.txt").write_bytes(b"abc\n")
    (repo / "big.bin").write_bytes(bytes(range(256)) * 40)  # 10 kB, every byte value, newlines inside
    commit_all(repo)
    names = ["HEAD:folder/small.txt", "HEAD:big.bin", "HEAD:folder", "HEAD:absent", "HEAD:a\nb"]
    names += [f"HEAD:missing-{i:05}-{'x' * 60}" for i in range(5000)]  # ~390 kB of names
    objects = Git(repo).read_objects(names, max_size=4096)
    assert objects["HEAD:folder/small.txt"] == b"abc\n"
    assert objects["HEAD:big.bin"] == 10240  # its size: the caller streams it
    assert objects["HEAD:folder"] is None and objects["HEAD:absent"] is None  # a tree, nothing
    assert "HEAD:a\nb" not in objects  # a name git's batch protocol cannot carry
    assert sum(v is None for v in objects.values()) == 5002
    assert Git(repo).read_objects(names[:2], max_size=1 << 20)["HEAD:big.bin"] == bytes(range(256)) * 40


def test_a_missing_object_whose_name_holds_a_space_is_missing_not_a_stalled_git(tmp_path):
    """cat-file answers `<name> missing` with the name as given: an ignored `sub dir/.env` is never at HEAD."""
    repo = init_repo(tmp_path / "repo")
    (repo / "a.txt").write_text("x\n")
    commit_all(repo)
    assert Git(repo).read_objects(["HEAD:sub dir/.env", "HEAD:a.txt"], max_size=100) == {
        "HEAD:sub dir/.env": None, "HEAD:a.txt": b"x\n"}


@pytest.mark.parametrize("where", ["root", "subfolder", "subfolder-with-empty-git"])
def test_staged_findings_are_the_same_wherever_the_scan_starts(run_envsync, tmp_path, secret, where):
    """At the root (pre-commit's case) the listings start beside `rev-parse`; in a subfolder, or in one
    holding an empty `.git` that git passes over for the real root, they run (again) at the root."""
    repo = init_repo(tmp_path / "repo")
    value = secret("api")
    (repo / ".env").write_text(f"API_KEY={value}\n")
    (repo / "app").mkdir()
    (repo / "app" / "config.py").write_text(f"KEY = '{value}'\n")
    git(repo, "add", "app/config.py")
    cwd = repo if where == "root" else repo / "app"
    if where == "subfolder-with-empty-git":
        (cwd / ".git").mkdir()
    result = run_envsync("scan", "--staged", "--json", cwd=cwd)
    assert result.code == 1, result.output
    assert {(f["file"], f["key"]) for f in json.loads(result.stdout)["findings"]} == {("app/config.py", "API_KEY")}


def test_files_are_scanned_without_git_where_git_cannot_work(run_envsync, tmp_path):
    """A `.git` git will not use (here: a broken gitfile) or no git at all: named FILES are still scanned."""
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / ".git").write_text("not a gitfile\n")
    (folder / "a.txt").write_text("nothing here\n")
    assert run_envsync("scan", "a.txt", cwd=folder).code == 0
    assert run_envsync("scan", "a.txt", cwd=folder, env={"PATH": str(tmp_path / "no-git")}).code == 0


def _diff_cached(repo) -> list[tuple[str, str]]:
    """What `git diff --cached --raw` says is staged (the listing the scan read before one `git status`
    answered for both): files added, copied or modified, with a file's or a symlink's mode."""
    import os
    import subprocess

    out = subprocess.run(["git", "diff", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", "--diff-filter=ACMR"],
                         cwd=repo, capture_output=True, check=True).stdout.split(b"\0")
    staged = []
    for meta, path in zip(out[0::2], out[1::2]):
        parts = meta.decode().lstrip(":").split()
        if parts[1] in ("100644", "100755", "120000"):
            staged.append((os.fsdecode(path), parts[3]))
    return staged


@pytest.mark.parametrize("first_commit", [True, False], ids=["no-head-yet", "after-a-commit"])
def test_status_lists_what_diff_cached_lists_as_staged(tmp_path, first_commit):
    """One `git status --porcelain=v2` gives the staged files and their index blobs: the same as
    `git diff --cached` for new, modified, executable, symlinked and spaced names; nothing for
    deleted, renamed-away, type-changed, unstaged, intent-to-add or submodule entries."""
    import os

    from envsync.scan.sources import Listings

    repo = init_repo(tmp_path / "repo")
    for name in ("kept.txt", "modified.txt", "deleted.txt", "moved.txt", "retyped.txt", "unstaged.txt"):
        (repo / name).write_text(name + "\n")
    sub = init_repo(tmp_path / "sub")
    (sub / "s.txt").write_text("s\n")
    commit_all(sub)
    if not first_commit:
        commit_all(repo)
    (repo / "new file with spaces.txt").write_text("new\n")
    (repo / "modified.txt").write_text("changed\n")
    (repo / "tool.sh").write_text("#!/bin/sh\n")
    os.chmod(repo / "tool.sh", 0o755)
    os.symlink("kept.txt", repo / "link")
    git(repo, "add", "-A")
    if not first_commit:
        git(repo, "rm", "-q", "deleted.txt")
        git(repo, "mv", "moved.txt", "moved-to.txt")
        (repo / "retyped.txt").unlink()
        os.symlink("kept.txt", repo / "retyped.txt")
        git(repo, "add", "retyped.txt")
    (repo / "unstaged.txt").write_text("edited, not added\n")
    (repo / "intent.txt").write_text("later\n")
    git(repo, "add", "-N", "intent.txt")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "-q", "add", str(sub), "vendored")
    staged = Listings(Git(repo), staged=True).staged()
    assert sorted(staged) == sorted(_diff_cached(repo))
    assert {"new file with spaces.txt", "tool.sh", "link"} <= {name for name, _ in staged}
