"""Where a scan's inputs come from: git (staged blobs, tracked files, ignore rules, objects at HEAD),
the working tree, which files are .env files or templates, and the values of the local .env files,
--values-from files and stores."""
from __future__ import annotations

import fnmatch
import os
import stat
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

from envsync.errors import InputError
from envsync.scan.content import decode
from envsync.scan.env_lines import read_env_lines
from envsync.scan.settings import Settings
from envsync.scan.values import Values

if TYPE_CHECKING:
    from envsync.scan.run import Request, Result

ENV_FILE_PATTERNS = (".env", ".env.*", "*.env")
STORE_DIR = ".envsync"  # the file store's default home (and the sync state): every file in it holds values
CHUNK = 1024 * 1024
MAX_IGNORED_SOURCES = 200  # git-ignored .env files below the root read for values, at most
MAX_SOURCE_SIZE = 1024 * 1024  # a larger "env file" is not one; it is scanned, not read for values


@dataclass
class Blob:
    """A file to scan: its display name (repo-relative, '/'-separated) and content — whole, or as a
    stream of chunks when larger than the size limit — or why it could not be read."""

    name: str
    data: bytes | None = None
    skipped: str | None = None
    stream: Callable[[], Iterator[bytes]] | None = None
    fails: bool = True  # an unread file fails the run (unless allowed); False: nothing there to read


def is_env_file(name: str, settings: Settings) -> bool:
    """A `.env`-like file that must not be committed (templates such as `.env.example` are allowed)."""
    base = name.rsplit("/", 1)[-1].lower()  # `.ENV` is a .env file too (case-insensitive file systems)
    if not any(fnmatch.fnmatchcase(base, p) for p in ENV_FILE_PATTERNS):
        return False
    return not any(fnmatch.fnmatchcase(name.lower() if "/" in p else base, p.lower()) for p in settings.allowed_env_files)


def is_template(name: str, settings: Settings) -> bool:
    """An allowed `.env`-like file such as `.env.example`: committed on purpose, values public."""
    base = name.rsplit("/", 1)[-1].lower()
    return any(fnmatch.fnmatchcase(base, p) for p in ENV_FILE_PATTERNS) and not is_env_file(name, settings)


def is_store_file(name: str, store_dirs: Sequence[str] = ()) -> bool:
    """A file of a local file store (or EnvSync's state): under `.envsync/`, or under the folder of a
    target's `file://` store."""
    parts = name.split("/")
    return STORE_DIR in parts[:-1] or any(name.startswith(folder.rstrip("/") + "/") for folder in store_dirs)


def store_dirs(base: Path, targets: Sequence[Any]) -> list[str]:
    """Repo-relative folders of the targets' `file://` stores."""
    folders = []
    for target in targets:
        scheme, sep, rest = str(target.store).partition("://")
        if sep and scheme.lower() == "file":
            location = Path(os.path.expanduser(rest.partition("?")[0]))
            name = display_name(location if location.is_absolute() else target.root / location, base)
            if not Path(name).is_absolute() and name not in (".", ""):
                folders.append(name)
    return folders


def _file_chunks(path: Path) -> Callable[[], Iterator[bytes]]:
    def read() -> Iterator[bytes]:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    return read


def _blob_chunks(root: Path, oid: str) -> Callable[[], Iterator[bytes]]:
    def read() -> Iterator[bytes]:
        proc = subprocess.Popen(["git", "cat-file", "blob", oid], cwd=root, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        try:
            while chunk := proc.stdout.read(CHUNK):
                yield chunk
        finally:
            proc.stdout.close()
            proc.wait()

    return read


def format_size(size: int) -> str:
    for unit, scale in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("kB", 1024)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


class Git:
    """The few git plumbing calls the guard needs, run in one repository."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def toplevel(start: Path) -> Path | None:
        """The work tree's root folder; None outside a repository git will work in, or without git."""
        try:
            proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=start, capture_output=True)
        except FileNotFoundError:
            return None
        if proc.returncode != 0:
            return None
        return Path(os.fsdecode(proc.stdout.strip()))

    def run(self, *args: str, input: bytes | None = None, ok: tuple[int, ...] = (0,)) -> bytes:
        return self.start(*args, input=input, ok=ok)()

    def start(self, *args: str, input: bytes | None = None, ok: tuple[int, ...] = (0,)) -> Callable[[], bytes]:
        """`git ARGS`, started now; calling the result waits for its output (so two calls can overlap)."""
        proc = self._popen(args, stdin=None if input is None else subprocess.PIPE, stderr=subprocess.PIPE)

        def output() -> bytes:
            stdout, stderr = proc.communicate(input)
            if proc.returncode not in ok:
                lines = stderr.decode("utf-8", "replace").strip().splitlines()
                message = next((line for line in lines if line.startswith("fatal:")), lines[-1] if lines else "")
                command = next(arg for arg in args if not arg.startswith("-"))
                raise InputError(f"git {command} failed: {message or f'exit {proc.returncode}'}")
            return stdout
        return output

    def _popen(self, args: Sequence[str], stdin: int | None, stderr: int) -> subprocess.Popen[bytes]:
        try:
            return subprocess.Popen(["git", *args], cwd=self.root, stdin=stdin, stdout=subprocess.PIPE, stderr=stderr)
        except FileNotFoundError:
            raise InputError("git is not installed or not on PATH — the leak guard needs it for --staged and --all") from None

    def tracked(self, paths: Sequence[str] = ()) -> list[str]:
        out = self.run("ls-files", "-z", "--", *paths)
        return [os.fsdecode(p) for p in out.split(b"\0") if p]

    def ignored(self, paths: Sequence[str]) -> set[str]:
        """The paths that .gitignore (or info/exclude, or the global excludes) cover, tracked or not."""
        if not paths:
            return set()
        out = self.run("check-ignore", "--no-index", "-z", "--stdin", ok=(0, 1),
                       input=b"".join(os.fsencode(p) + b"\0" for p in paths))
        return {os.fsdecode(p) for p in out.split(b"\0") if p}

    def read_objects(self, names: Sequence[str], max_size: int) -> dict[str, bytes | int | None]:
        """Object name -> its bytes, its size when larger than `max_size`, or None when missing or not a
        file. One `git cat-file --batch` for all of them; a larger object is read past, not kept (the
        caller streams it in pieces)."""
        wanted = [n for n in names if "\n" not in n]
        if not wanted:
            return {}
        request = b"".join(os.fsencode(n) + b"\n" for n in wanted)
        proc = self._popen(("cat-file", "--batch"), stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
        # Fed from a thread: git answers while it reads, and a long list would fill both pipes.
        feeder = threading.Thread(target=_feed, args=(proc.stdin, request), daemon=True)
        feeder.start()
        try:
            return {name: _cat_file_answer(proc.stdout, max_size) for name in wanted}
        finally:
            proc.stdout.close()
            feeder.join()
            proc.wait()


class Listings:
    """One `git status --porcelain=v2`: the ignored files, and the staged ones with their index blob
    ids (what `git diff --cached --raw` would list, without a second git process). It names paths
    from the work tree's root, wherever it runs."""

    def __init__(self, git: Git, staged: bool) -> None:
        self._status = git.start("--no-optional-locks", "status", "--porcelain=v2", "-z", "--ignored=matching",
                                 "--untracked-files=normal", "--no-renames")
        self._wants_staged = staged
        self._entries: list[bytes] | None = None

    def entries(self) -> list[bytes]:
        """git's answer, waited for once."""
        if self._entries is None:
            self._entries = self._status().split(b"\0")
        return self._entries

    @classmethod
    def early(cls, folder: Path, staged: bool) -> Listings | None:
        """Started in `folder` before git has said it is the root: pre-commit runs hooks at the root,
        so the listings usually run beside `rev-parse` instead of after it. None without `.git` or git."""
        if not os.path.lexists(folder / ".git"):
            return None
        try:
            return cls(Git(folder), staged)
        except InputError:
            return None

    def ignored_env_files(self, settings: Settings) -> list[str]:
        """The git-ignored .env files anywhere in the work tree: folders ignored as a whole
        (node_modules/, .venv/) are not entered, so this stays fast in a big tree."""
        found = []
        for entry in self.entries():
            if entry.startswith(b"! ") and not entry.endswith(b"/"):
                name = os.fsdecode(entry[2:])
                if is_env_file(name, settings):
                    found.append(name)
        return sorted(found)

    def staged(self) -> list[tuple[str, str]]:
        """(path, blob id) of every file added, copied or modified in the index: the `1 XY sub mH mI mW
        hH hI path` entries whose X (the index against HEAD) is A, C or M and whose index mode is a
        file's or a symlink's (not a submodule's)."""
        if not self._wants_staged:
            return []
        staged = []
        for entry in self.entries():
            fields = entry.split(b" ", 8)
            if len(fields) == 9 and fields[0] == b"1" and fields[1][:1] in (b"A", b"C", b"M") \
                    and fields[4] in (b"100644", b"100755", b"120000"):
                staged.append((os.fsdecode(fields[8]), fields[7].decode("ascii")))
        return staged

    def discard(self) -> None:
        """Wait for git and drop what it said (it ran somewhere git did not take for the root)."""
        try:
            self.entries()
        except InputError:
            pass


_CAT_FILE_STOPPED = "git cat-file stopped answering — is the repository intact? (git fsck)"


def _feed(pipe, data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.close()
    except OSError:  # git stopped reading: the reader reports it
        pass


def _cat_file_answer(out, max_size: int) -> bytes | int | None:
    """One answer of `git cat-file --batch`: `<oid> <type> <size>` and the content, or `<name> missing`."""
    header = out.readline().split()
    if header[-1:] in ([b"missing"], [b"ambiguous"]):  # after the name as given, which may hold spaces
        return None
    if len(header) != 3 or not header[2].isdigit():
        raise InputError(_CAT_FILE_STOPPED)
    kind, size = header[1], int(header[2])
    keep = kind == b"blob" and size <= max_size
    content, remaining = [], size + 1  # the content, then a newline
    while remaining:
        chunk = out.read(min(remaining, 1 << 20))
        if not chunk:
            raise InputError(_CAT_FILE_STOPPED)
        remaining -= len(chunk)
        if keep:
            content.append(chunk)
    if keep:
        return b"".join(content)[:size]
    return size if kind == b"blob" else None


def staged_blobs(staged: Sequence[tuple[str, str]], objects: Mapping[str, bytes | int | None],
                 root: Path) -> list[Blob]:
    """The staged files as Blobs, from (path, blob id) pairs and the objects read for them; an object
    larger than the size limit is streamed from git when scanned."""
    blobs = []
    for path, oid in staged:
        content = objects.get(oid)
        if isinstance(content, int):
            blobs.append(Blob(path, stream=_blob_chunks(root, oid)))
        elif content is None:
            blobs.append(Blob(path, None, "not readable from the index"))
        else:
            blobs.append(Blob(path, content))
    return blobs


def disk_blob(path: Path, name: str, settings: Settings) -> Blob:
    """A working-tree file as a Blob: one lstat, then a read unless it is too large or not a file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return Blob(name, None, "missing from the working tree", fails=False)
    except OSError as exc:
        return Blob(name, None, f"unreadable ({exc.strerror})")
    if stat.S_ISLNK(info.st_mode):
        return Blob(name, os.fsencode(os.readlink(path)))  # what git stores for a symlink: its target
    if not stat.S_ISREG(info.st_mode):
        return Blob(name, None, "not a regular file")
    if info.st_size > settings.max_size:
        return Blob(name, stream=_file_chunks(path))
    try:
        with open(path, "rb") as handle:
            return Blob(name, handle.read())
    except PermissionError:
        return Blob(name, None, "permission denied")
    except OSError as exc:
        return Blob(name, None, f"unreadable ({exc.strerror})")


def given_blobs(paths: Sequence[Path], root: Path, settings: Settings) -> list[Blob]:
    """The files named on the command line; a folder means every file under it (but .git)."""
    blobs = []
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir():
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d != ".git")
                for file in sorted(files):
                    full = Path(folder) / file
                    blobs.append(disk_blob(full, display_name(full, root), settings))
        else:
            blobs.append(disk_blob(path, display_name(path, root), settings))
    return blobs


def display_name(path: Path, root: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def load_config(config_path: Path | None, cwd: Path):
    from envsync import config as config_module

    if config_path is not None:
        return config_module.load(config_path)
    found = config_module.find(cwd)
    return config_module.load(found) if found is not None else None


def find_local_sources(base: Path, targets: Sequence[Any], settings: Settings,
                       ignored: Sequence[str] = ()) -> dict[str, Path]:
    """Display name -> path of the local .env files whose values are looked for: the root's .env-like
    files, every target's `file` and the git-ignored .env files below the root (at most
    MAX_IGNORED_SOURCES of them; the caller drops the ones git tracks)."""
    sources: dict[str, Path] = {}
    with os.scandir(base) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if is_env_file(entry.name, settings) and entry.is_file():
                sources[entry.name] = Path(entry.path)
    for target in targets:
        if target.file.is_file():
            sources.setdefault(display_name(target.file, base), target.file)
    for name in ignored[:MAX_IGNORED_SOURCES]:
        path = base / name
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_SOURCE_SIZE:
            sources.setdefault(name, path)
    return sources


def template_names(base: Path, targets: Sequence[Any], settings: Settings) -> list[str]:
    with os.scandir(base) as entries:
        names = {e.name for e in entries if is_template(e.name, settings)}
    names |= {display_name(t.schema, base) for t in targets if t.schema is not None}
    return sorted(n for n in names if not Path(n).is_absolute())


def committed_defaults(templates: Sequence[str], objects: Mapping[str, bytes | int | None]) -> dict[str, str]:
    """Key -> value of the templates (.env.example, schemas) as committed at HEAD: public on purpose.
    HEAD, not the index or the working tree — a secret pasted into a template now must not excuse itself."""
    from envsync import dotenv_file

    defaults: dict[str, str] = {}
    for name in templates:
        data = objects.get(f"HEAD:{name}")
        if isinstance(data, bytes):
            try:
                defaults.update(dotenv_file.parse(data.decode("utf-8"), name).values())
            except (InputError, UnicodeDecodeError):
                continue
    return defaults


def collect_values(request: Request, config, sources: Mapping[str, Path], defaults: Mapping[str, str],
                    settings: Settings, result: Result) -> Values:
    """Every value worth looking for, from the local .env files, --values-from files and stores."""
    from envsync import dotenv_file

    files = dict(sources)
    for path in request.values_from:
        full = (request.cwd or Path.cwd()) / path
        if not full.is_file():
            raise InputError(f"--values-from {path}: file not found")
        files[path.as_posix()] = full
    expand = {t.file.resolve() for t in (config.targets.values() if config is not None else ()) if t.expand}
    values = Values()
    for name, path in files.items():
        try:
            text, _ = decode(dotenv_file.read_bytes(path, name))
        except InputError as exc:
            result.warnings.append(f"{exc} — its values are not looked for")
            continue
        lines = read_env_lines(text)
        pairs = lines.pairs
        values.sources.append(name)
        for key, value in pairs.items():
            values.add(key, value, name, settings, defaults)
        for bad in lines.bad:
            result.bad_lines.append((name, bad.line))
            values.add(bad.key or f"(line {bad.line})", bad.text, name, settings, {})
        if path.resolve() in expand:
            from envsync.engine import expand_variables

            for key, value in expand_variables(pairs).items():
                if value != pairs[key]:
                    values.add(key, value, name, settings, defaults)
    for store_name in request.stores:
        if config is None:
            raise InputError(f"--from-store {store_name}: no envsync.toml here or above — the store comes from a target")
        from envsync.stores import open_store

        target = config.select((store_name,))[0]
        label = f"store:{target.name}"
        values.sources.append(label)
        for key, value in open_store(target).read().values.items():
            values.add(key, value, label, settings, defaults)
    return values
