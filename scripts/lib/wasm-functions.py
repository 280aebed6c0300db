#!/usr/bin/env python3
"""Function body sizes of a wasm with a name section, largest first, and the data section
size; or, given two, the per-function change. Used by scripts/wasm-functions (see it).
  wasm-functions.py FILE.wasm [N] [--grep PATTERN]
  wasm-functions.py A.wasm B.wasm [N]"""

import re
import sys

IMPORT_SECTION, CODE_SECTION, DATA_SECTION, CUSTOM_SECTION = 2, 10, 11, 0
FUNCTION_NAMES = 1


def leb(data: bytes, at: int) -> tuple[int, int]:
    """An unsigned LEB128 at `at`: (value, next offset)."""
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def skip_limits(data: bytes, at: int) -> int:
    flags, at = leb(data, at)
    _, at = leb(data, at)
    if flags & 1:
        _, at = leb(data, at)
    return at


def imported_functions(data: bytes, at: int) -> int:
    count, at = leb(data, at)
    functions = 0
    for _ in range(count):
        for _name in range(2):  # module, field
            length, at = leb(data, at)
            at += length
        kind = data[at]
        at += 1
        if kind == 0:  # function: its type index
            _, at = leb(data, at)
            functions += 1
        elif kind == 1:  # table: element type, limits
            at = skip_limits(data, at + 1)
        elif kind == 2:  # memory: limits
            at = skip_limits(data, at)
        elif kind == 3:  # global: value type, mutability
            at += 2
    return functions


def function_names(data: bytes, at: int, end: int) -> dict[int, str]:
    names: dict[int, str] = {}
    while at < end:
        kind = data[at]
        size, at = leb(data, at + 1)
        if kind == FUNCTION_NAMES:
            count, cursor = leb(data, at)
            for _ in range(count):
                index, cursor = leb(data, cursor)
                length, cursor = leb(data, cursor)
                names[index] = data[cursor : cursor + length].decode("utf-8", "replace")
                cursor += length
        at += size
    return names


def read(path: str) -> tuple[dict[str, int], int]:
    """Function name -> body size, and the data section's size."""
    data = open(path, "rb").read()
    at = 8
    imports = 0
    bodies: list[int] = []
    names: dict[int, str] = {}
    data_size = 0
    while at < len(data):
        section = data[at]
        size, at = leb(data, at + 1)
        end = at + size
        if section == IMPORT_SECTION:
            imports = imported_functions(data, at)
        elif section == CODE_SECTION:
            count, cursor = leb(data, at)
            for _ in range(count):
                length, cursor = leb(data, cursor)
                bodies.append(length)
                cursor += length
        elif section == DATA_SECTION:
            data_size = size
        elif section == CUSTOM_SECTION:
            length, cursor = leb(data, at)
            if data[cursor : cursor + length] == b"name":
                names = function_names(data, cursor + length, end)
        at = end
    sizes: dict[str, int] = {}
    for offset, body in enumerate(bodies):
        name = names.get(imports + offset, f"f{imports + offset}")
        while name in sizes:
            name += "'"
        sizes[name] = body
    return sizes, data_size


def main(args: list[str]) -> None:
    pattern = None
    if "--grep" in args:
        at = args.index("--grep")
        pattern = re.compile(args[at + 1])
        del args[at : at + 2]
    if len(args) >= 2 and args[1].endswith(".wasm"):
        before, _ = read(args[0])
        after, _ = read(args[1])
        changes = [(after.get(n, 0) - before.get(n, 0), n) for n in before.keys() | after.keys()]
        changes = sorted((c for c in changes if c[0]), key=lambda c: -abs(c[0]))
        for change, name in changes[: int(args[2]) if len(args) > 2 else 40]:
            print(f"{change:+7d}  {name[:150]}")
        print("total", sum(after.values()) - sum(before.values()))
        return
    sizes, data_size = read(args[0])
    items = sorted(sizes.items(), key=lambda item: -item[1])
    if pattern:
        items = [item for item in items if pattern.search(item[0])]
    for name, size in items[: int(args[1]) if len(args) > 1 else 40]:
        print(f"{size:7d}  {name[:150]}")
    print(f"functions {len(sizes)} code {sum(sizes.values())} data-section {data_size}")


if __name__ == "__main__":
    main(sys.argv[1:])
