#!/usr/bin/env python3
"""Checks the include graph of server/, ui/ and app/ against docs/ARCHITECTURE.md.

Every `#include "x/Y.h"` of a file in server/, ui/ or app/ is resolved to a file of the
tree and becomes an arrow between two parts:

    server/<part>/...          -> <part> (base, net, store, hub, ...)
    server/*.h, server/*.cpp   -> server (the wiring object)
    ui/backend/...             -> ui/backend
    ui/... (anything else)     -> ui
    app/...                    -> app

Errors (exit status 1):
  - an arrow that the "Allowed dependencies" section of docs/ARCHITECTURE.md does not list
    (each offending file:line is printed with the arrow and the include);
  - an arrow that a "Narrower arrows" line restricts to other files;
  - a file in a folder that is not a part of that table;
  - a cycle between parts (each arrow of the cycle with one place it comes from);
  - a cycle in the table itself.
Warnings (errors with --strict):
  - files over --max-file-lines (500) lines;
  - functions whose body is over --max-function-lines (80) lines, not counting the lines of
    data tables (brace initializer lists) inside them. Tables at namespace or class scope
    are not functions and are skipped.

The function finder is a heuristic: comments, string and character literals (raw strings
included) and preprocessor lines are blanked, then braces are matched; a brace at namespace
or class scope whose head ends like a parameter list (`...) const override {`, a
constructor's initializer list) opens a function body.

Standard library only. Usage:
    python3 scripts/check-architecture.py [--root DIR] [--arch FILE] [--strict] [-v]
"""

import argparse
import os
import re
import sys
from collections import defaultdict

SOURCE_SUFFIXES = (".h", ".hpp", ".cpp", ".cc", ".cxx")
SCANNED_TREES = ("server", "ui", "app")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
RULE_RE = re.compile(r"^- ([A-Za-z0-9_./-]+):(.*)$")
NARROW_RE = re.compile(r"^- ([A-Za-z0-9_./-]+) -> ([A-Za-z0-9_./-]+):(.*)$")


# --------------------------------------------------------------------------------------------
# The table of docs/ARCHITECTURE.md


def read_rules(path):
    """Returns (allowed: {part: set(deps)}, narrow: {(a, b): set(files)}, order: [parts])."""
    allowed, narrow, order = {}, {}, []
    section = None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            heading = re.match(r"^(#+)\s+(.*?)\s*$", line)
            if heading:
                title = heading.group(2).strip().lower()
                level = len(heading.group(1))
                if title == "allowed dependencies":
                    section, section_level = "allowed", level
                elif title == "narrower arrows" and section in ("allowed", "narrow"):
                    section = "narrow"
                elif section and level <= section_level:
                    section = None
                continue
            if section == "narrow":
                m = NARROW_RE.match(line)
                if m:
                    files = {p.strip().strip("`") for p in m.group(3).split(",") if p.strip()}
                    narrow[(m.group(1), m.group(2))] = files
                continue
            if section == "allowed":
                m = RULE_RE.match(line)
                if not m:
                    continue
                part = m.group(1)
                deps = [d.strip().strip("`") for d in m.group(2).split(",") if d.strip()]
                if part in allowed:
                    raise SystemExit(f"{path}:{number}: part {part} is listed twice")
                allowed[part] = set(deps)
                order.append(part)
    if not allowed:
        raise SystemExit(f"{path}: no '## Allowed dependencies' section with '- part: deps' lines")
    for part, deps in allowed.items():
        for dep in deps:
            if dep not in allowed:
                raise SystemExit(f"{path}: part {part} may use {dep}, which is not a part of the table")
    for (a, b) in narrow:
        if b not in allowed.get(a, set()):
            raise SystemExit(f"{path}: narrower arrow {a} -> {b} is not an allowed arrow")
    return allowed, narrow, order


# --------------------------------------------------------------------------------------------
# Files, parts, includes


def part_of(rel):
    """The part of a path relative to the root (forward slashes), or None outside the trees."""
    bits = rel.split("/")
    if bits[0] == "server":
        return "server" if len(bits) == 2 else bits[1]
    if bits[0] == "ui":
        return "ui/backend" if len(bits) > 2 and bits[1] == "backend" else "ui"
    if bits[0] == "app":
        return "app"
    return None


def source_files(root):
    out = []
    for tree in SCANNED_TREES:
        base = os.path.join(root, tree)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith(SOURCE_SUFFIXES):
                    full = os.path.join(dirpath, name)
                    out.append(os.path.relpath(full, root).replace(os.sep, "/"))
    return out


def include_roots(root):
    """Directories quoted includes are looked up in, after the including file's own."""
    roots = ["server", "ui"]
    app = os.path.join(root, "app")
    if os.path.isdir(app):
        roots.append("app")
        roots += ["app/" + d for d in sorted(os.listdir(app)) if os.path.isdir(os.path.join(app, d))]
    return roots


def resolve(root, including, target, roots, cache):
    """The file (relative to root) a quoted include names, or None (generated, external)."""
    own = os.path.dirname(including)
    tree = including.split("/")[0]
    ordered = [own, tree] + [r for r in roots if r != tree]
    for base in ordered:
        rel = os.path.normpath(os.path.join(base, target)).replace(os.sep, "/")
        if rel.startswith(".."):
            continue
        if rel not in cache:
            cache[rel] = os.path.isfile(os.path.join(root, rel))
        if cache[rel]:
            return rel
    return None


# --------------------------------------------------------------------------------------------
# C++ text: blank comments, literals and preprocessor lines, keeping line numbers


RAW_PREFIX_RE = re.compile(r'(?:u8|u|U|L)?R"([^()\\\s]{0,16})\(')


def blank_cpp(text):
    out = []
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start:
            j = i
            while j < n and text[j] in " \t":
                j += 1
            if j < n and text[j] == "#":
                # a preprocessor line, with its continuations
                while j < n:
                    if text[j] == "\n" and text[j - 1] != "\\":
                        break
                    j += 1
                out.append("".join("\n" if ch == "\n" else " " for ch in text[i:j]))
                i = j
                continue
            at_line_start = False
        if c == "\n":
            out.append(c)
            i += 1
            at_line_start = True
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join("\n" if ch == "\n" else " " for ch in text[i:j]))
            i = j
            continue
        m = RAW_PREFIX_RE.match(text, i)
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = text.find(")" + m.group(1) + '"', m.end())
            end = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + "".join("\n" if ch == "\n" else " " for ch in text[i + 2:end]))
            i = end
            continue
        if c == '"' or (c == "'" and not (i > 0 and text[i - 1].isalnum() and i + 1 < n
                                          and text[i + 1].isalnum())):
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * max(0, j - i - 2) + c)
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Functions: brace matching at namespace and class scope


CONTROL = {"if", "for", "while", "switch", "catch", "do", "else", "try", "return", "case",
           "default", "sizeof", "alignof", "decltype", "static_assert"}
ACCESS_RE = re.compile(r"\b(public|private|protected|signals|slots|Q_SIGNALS|Q_SLOTS)\s*(slots\s*)?:(?!:)")
TRAILING_QUALIFIERS_RE = re.compile(
    r"(\s*(const|override|final|noexcept(\s*\([^()]*\))?|mutable|volatile|&&|&|"
    r"->\s*[\w:<>,\s*&]+|requires\b.*))+\s*$")


def top_level(head):
    """head with everything inside (), <> of templates left out is hard; drop () contents."""
    depth, out = 0, []
    for ch in head:
        if ch == "(":
            depth += 1
            out.append("(" if depth == 1 else "")
        elif ch == ")":
            depth -= 1
            out.append(")" if depth == 0 else "")
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def init_list_colon(head):
    """Index of a constructor initializer list's ':' (depth 0, after a ')'), or -1."""
    depth, seen_paren = 0, False
    for i, ch in enumerate(head):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                seen_paren = True
        elif ch == ":" and depth == 0 and seen_paren:
            before = head[i - 1] if i else ""
            after = head[i + 1] if i + 1 < len(head) else ""
            if before != ":" and after != ":":
                return i
    return -1


def classify_scope_brace(head):
    """At namespace/class scope: 'namespace', 'class', 'function', 'init' (a member's brace
    initializer inside a constructor's initializer list, head continues) or 'data'."""
    h = ACCESS_RE.sub(" ", head).strip()
    flat = top_level(h)
    if re.search(r"\bnamespace\b", flat) or re.match(r'^extern\s*""\s*$', flat):
        return "namespace"
    if re.search(r"\b(class|struct|union|enum)\b", flat) and not flat.rstrip().endswith(")") \
            and "=" not in flat:
        return "class"
    colon = init_list_colon(h)
    if colon >= 0:
        tail = h[colon + 1:].rstrip()
        if tail and (tail[-1].isalnum() or tail[-1] in "_>"):
            return "init"
        return "function"
    if "=" in flat.replace("==", "").replace("operator=", "operator") and "](" not in flat:
        return "data"
    stripped = TRAILING_QUALIFIERS_RE.sub("", flat).rstrip()
    if stripped.endswith(")") or "](" in flat:
        return "function"
    return "data"


def function_name(head):
    h = ACCESS_RE.sub(" ", head)
    colon = init_list_colon(h)
    if colon >= 0:
        h = h[:colon]
    flat = top_level(h)
    idx = flat.find("(")
    names = re.findall(r"[~\w:]+(?:\s*(?:operator\s*\S+))?", flat[:idx] if idx >= 0 else flat)
    name = names[-1] if names else "?"
    return name.strip() or "?"


def is_data_brace_in_body(prev_code):
    """Inside a function: does the '{' after prev_code open an initializer list?"""
    s = prev_code.rstrip()
    if not s:
        return False
    last = s[-1]
    if last in "=(,[{":
        return True
    if last in ";}):?":
        return False
    word = re.search(r"([A-Za-z_]\w*)$", s)
    if word:
        w = word.group(1)
        if w in ("else", "do", "try", "mutable", "noexcept", "const", "override"):
            return False
        if w == "return":
            return True
        tail = s[s.rfind(")") + 1:] if ")" in s else s
        if "->" in tail:
            return False  # a lambda's trailing return type
        return True  # T{...}, QJsonObject{{...}}
    if last == ">":
        return "->" not in s[s.rfind(")") + 1:] if ")" in s else True
    return False


def functions(code):
    """Yields (name, first_line, last_line, table_lines) of every function body."""
    stack = []  # entries: [kind, open_line, name, data_lines(set) or None, head_before]
    head_start = 0  # index where the current head (at this level) starts
    line = 1
    line_of = []
    results = []
    i, n = 0, len(code)
    # precompute line numbers lazily
    line_at = [0] * (n + 1)
    ln = 1
    for k, ch in enumerate(code):
        line_at[k] = ln
        if ch == "\n":
            ln += 1
    line_at[n] = ln

    def in_function():
        return any(e[0] == "function" for e in stack)

    while i < n:
        ch = code[i]
        if ch == "{":
            head = code[head_start:i]
            if in_function():
                fn = next(e for e in reversed(stack) if e[0] == "function")
                inside_data = any(e[0] == "data" for e in stack[stack.index(fn) + 1:])
                kind = "data" if inside_data or is_data_brace_in_body(head) else "block"
                stack.append([kind, line_at[i], None, None, head_start])
            else:
                kind = classify_scope_brace(head)
                name = function_name(head) if kind == "function" else None
                stack.append([kind, line_at[i], name, set() if kind == "function" else None,
                              head_start])
            head_start = i + 1
        elif ch == "}":
            if stack:
                kind, open_line, name, data_lines, saved_head = stack.pop()
                close_line = line_at[i]
                if kind == "function":
                    results.append((name, open_line, close_line, len(data_lines)))
                elif kind == "data" and in_function():
                    outer_data = any(e[0] == "data" for e in stack)
                    if not outer_data and close_line > open_line:
                        fn = next(e for e in reversed(stack) if e[0] == "function")
                        # the table's lines, but the first (it holds the statement's start)
                        fn[3].update(range(open_line + 1, close_line + 1))
                if kind == "init":
                    head_start = saved_head  # the constructor's head goes on
                    i += 1
                    continue
            head_start = i + 1
        elif ch == ";":
            head_start = i + 1
        i += 1
    return results


# --------------------------------------------------------------------------------------------
# Cycles (Tarjan's strongly connected components)


def strongly_connected(graph):
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def a_cycle(component, graph):
    """One cycle through the component's first node, as a list of nodes (first repeated)."""
    members = set(component)
    start = component[0]
    path, seen = [start], {start}

    def walk(v):
        for w in sorted(graph.get(v, ())):
            if w == start and len(path) > 1:
                return True
            if w in members and w not in seen:
                seen.add(w)
                path.append(w)
                if walk(w):
                    return True
                path.pop()
        return False

    walk(start)
    return path + [start]


def cycles_through_each_arrow(component, graph):
    """For every arrow inside the component, the shortest cycle through it, without repeats
    (a cycle is kept once, whichever arrow found it)."""
    members = set(component)
    seen, out = set(), []
    for a in sorted(members):
        for b in sorted(w for w in graph.get(a, ()) if w in members):
            # shortest path b -> ... -> a inside the component (breadth first)
            previous, queue = {b: None}, [b]
            while queue and a not in previous:
                nxt = []
                for v in queue:
                    for w in sorted(graph.get(v, ())):
                        if w in members and w not in previous:
                            previous[w] = v
                            nxt.append(w)
                queue = nxt
            if a not in previous:
                continue
            path, v = [], a
            while v is not None:
                path.append(v)
                v = previous[v]
            cycle = [a] + list(reversed(path))  # a -> b -> ... -> a
            ring = cycle[:-1]
            k = ring.index(min(ring))
            key = tuple(ring[k:] + ring[:k])
            if key not in seen:
                seen.add(key)
                out.append(list(key) + [key[0]])
    return out


# --------------------------------------------------------------------------------------------


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=os.path.dirname(here),
                        help="the tree to check (default: this repository)")
    parser.add_argument("--arch", help="the rules (default: ROOT/docs/ARCHITECTURE.md, else the "
                        "one beside this script)")
    parser.add_argument("--strict", action="store_true", help="size findings are errors")
    parser.add_argument("--max-file-lines", type=int, default=500)
    parser.add_argument("--max-function-lines", type=int, default=80)
    parser.add_argument("-v", "--verbose", action="store_true", help="also list every arrow")
    args = parser.parse_args()

    root = os.path.abspath(args.root)
    arch = args.arch
    if not arch:
        arch = os.path.join(root, "docs", "ARCHITECTURE.md")
        if not os.path.isfile(arch):
            arch = os.path.join(os.path.dirname(here), "docs", "ARCHITECTURE.md")
            print(f"note: {root} has no docs/ARCHITECTURE.md; using {arch}")
    allowed, narrow, order = read_rules(arch)

    errors = []
    warnings = []

    for comp in strongly_connected({p: allowed[p] for p in allowed}):
        errors.append(f"{arch}: the table itself has a cycle: {' -> '.join(a_cycle(comp, allowed))}")

    files = source_files(root)
    roots = include_roots(root)
    cache = {}
    arrows = defaultdict(list)  # (from, to) -> [(file, line, include)]
    unknown_parts = defaultdict(list)
    include_count = unresolved = 0
    size_findings = 0

    for rel in files:
        part = part_of(rel)
        if part not in allowed:
            unknown_parts[part].append(rel)
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        lines = text.split("\n")
        for number, line in enumerate(lines, 1):
            m = INCLUDE_RE.match(line)
            if not m:
                continue
            include_count += 1
            target = resolve(root, rel, m.group(1), roots, cache)
            if target is None:
                unresolved += 1
                continue
            to = part_of(target)
            if to is None or to == part:
                continue
            arrows[(part, to)].append((rel, number, m.group(1)))

        line_count = len(lines) - (1 if text.endswith("\n") else 0)
        if line_count > args.max_file_lines:
            warnings.append(f"{rel}: {line_count} lines (over {args.max_file_lines})")
            size_findings += 1
        if rel.endswith(SOURCE_SUFFIXES):
            for name, first, last, table in functions(blank_cpp(text)):
                length = last - first + 1 - table
                if length > args.max_function_lines:
                    extra = f", {table} more in data tables" if table else ""
                    warnings.append(f"{rel}:{first}: function {name} has {length} lines "
                                    f"(over {args.max_function_lines}{extra})")
                    size_findings += 1

    for part, where in sorted(unknown_parts.items(), key=lambda kv: str(kv[0])):
        errors.append(f"{where[0].rsplit('/', 1)[0]}/: folder of part '{part}', which "
                      f"{os.path.basename(arch)} does not list ({len(where)} files)")

    forbidden = 0
    for (a, b), places in sorted(arrows.items()):
        if a not in allowed or b not in allowed:
            why = "not a part of the table"
        elif b not in allowed[a]:
            why = "not allowed"
        else:
            only = narrow.get((a, b))
            if only is None:
                continue
            bad = [p for p in places if p[0] not in only]
            if not bad:
                continue
            places, why = bad, "allowed only from " + ", ".join(sorted(only))
        for rel, number, inc in places:
            errors.append(f'{rel}:{number}: {a} -> {b} ({why}): #include "{inc}"')
            forbidden += 1

    graph = defaultdict(set)
    for (a, b) in arrows:
        graph[a].add(b)
    components = strongly_connected(graph)
    cycles = []
    for comp in components:
        for cycle in cycles_through_each_arrow(comp, graph):
            steps = []
            for a, b in zip(cycle, cycle[1:]):
                rel, number, _ = arrows[(a, b)][0]
                steps.append(f"{a} -> {b} ({rel}:{number})")
            cycles.append(cycle)
            errors.append("cycle: " + ", ".join(steps))

    if args.verbose:
        print("arrows:")
        for (a, b), places in sorted(arrows.items()):
            print(f"  {a} -> {b}: {len(places)} includes")
    for e in errors:
        print("error: " + e)
    for w in warnings:
        print(("error: " if args.strict else "warning: ") + w)

    failed = bool(errors) or (args.strict and size_findings)
    print()
    print(f"check-architecture: {len(files)} files, {include_count} quoted includes "
          f"({unresolved} not in the tree), {len(arrows)} arrows between parts; rules from "
          f"{os.path.relpath(arch, root) if arch.startswith(root) else arch}")
    print(f"  forbidden includes: {forbidden}; cycles between parts: {len(cycles)} (in "
          f"{len(components)} tangles); "
          f"folders that are no part: {len(unknown_parts)}")
    print(f"  size ({'errors' if args.strict else 'warnings'}): "
          f"{sum(1 for w in warnings if ': function ' not in w)} files over {args.max_file_lines} lines, "
          f"{sum(1 for w in warnings if ': function ' in w)} functions over {args.max_function_lines} lines")
    print("  result: " + ("FAILED" if failed else "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
