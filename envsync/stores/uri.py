"""Store URIs: `SCHEME://LOCATION?opt=value&...`."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from envsync.errors import InputError


@dataclass(frozen=True)
class StoreURI:
    scheme: str
    location: str
    options: dict[str, str]
    text: str

    def option(self, name: str, default: str | None = None) -> str | None:
        return self.options.get(name, default)

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.options.get(name)
        if raw is None:
            return default
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise InputError(f"store {self.text!r}: option {name}={raw!r} must be true or false")

    def require_known_options(self, allowed: set[str]) -> None:
        for name in self.options:
            if name not in allowed:
                raise InputError(
                    f"store {self.text!r}: unknown option {name!r} — {self.scheme} takes "
                    f"{', '.join(sorted(allowed)) or 'no options'}"
                )


def parse_uri(text: str) -> StoreURI:
    scheme, sep, rest = text.partition("://")
    if not sep or not scheme:
        raise InputError(f"store {text!r}: not a store URI — expected SCHEME://LOCATION, e.g. file://.envsync/store")
    location, _, query = rest.partition("?")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise InputError(f"store {text!r}: malformed options after '?' — use name=value&name=value") from None
    options: dict[str, str] = {}
    for name, value in pairs:
        if name in options:
            raise InputError(f"store {text!r}: option {name!r} given twice")
        options[name] = value
    if not location:
        raise InputError(f"store {text!r}: missing location after {scheme}://")
    return StoreURI(scheme=scheme.lower(), location=location, options=options, text=text)
