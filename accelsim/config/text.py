"""Read an input file that must be text: one message naming the file and what was expected otherwise."""

from __future__ import annotations

from pathlib import Path

from accelsim.errors import ConfigError


def read_text(path: Path, expected: str) -> str:
    """The UTF-8 text of `path` (a leading byte-order mark dropped).

    A missing file, a folder, an unreadable file or binary content (bytes that are not UTF-8, or NUL
    characters) raises ConfigError naming the file and `expected`, e.g. "a YAML file".
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; expected {expected}")
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror or e}); expected {expected}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"{path}: not a text file (byte 0x{data[e.start]:02x} at offset {e.start} is not UTF-8); "
            f"expected {expected}"
        ) from None
    if "\x00" in text:
        raise ConfigError(
            f"{path}: not a text file (NUL character at offset {text.index(chr(0))}); expected {expected}"
        )
    return text
