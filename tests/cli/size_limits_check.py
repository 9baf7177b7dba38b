#!/usr/bin/env python3
"""Size limits of sim/ (issue 18): no file over 500 lines, no function over 80 lines, except those
listed with a reason in tests/cli/size_limits_exceptions.txt.

Functions are found by a brace-matching scan, not a compiler: comments, string and character literals
(raw strings included) and preprocessor lines are blanked first, then every `{` opened at namespace or
class scope whose head (the text since the previous `;`, `{` or `}`) has a parameter list and is not a
type, namespace or `= {...}` initializer starts a function. The function ends at its matching `}`
unless a `,` or `{` follows (a constructor's brace-initialised member, `a_{x}, b_{y} {`). Lambdas and
local classes count toward the function that holds them. A function's length runs from the first line
of its signature to its closing brace, both included.

Usage: size_limits_check.py <root> <exceptions file>   (prints findings; exit 1 if any)
       size_limits_check.py --list <file>...           (prints every function: lines name first-line)
"""
import os
import re
import sys

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80

SCOPE_HEAD = re.compile(r"\b(namespace|class|struct|union|enum)\b|\bextern\s*$")
CONTROL_HEAD = re.compile(r"^(if|for|while|switch|catch|do|else|try)\b")
ACCESS = re.compile(r"^\s*(public|private|protected)\s*:(?!:)")


def blank_non_code(text):
    """Returns text with comments, literals and preprocessor lines replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c in " \t":
            out.append(c)
            i += 1
            continue
        if line_start and c == "#":  # preprocessor line, with backslash continuations
            while i < n and not (text[i] == "\n" and text[i - 1] != "\\"):
                out.append("\n" if text[i] == "\n" else " ")
                i += 1
            continue
        line_start = c == "\n"
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                out.append(" ")
                i += 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
            continue
        raw = re.match(r'(?:u8|u|U|L)?R"([^()\\ ]{0,16})\(', text[i:i + 24])
        if raw and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = text.find(")" + raw.group(1) + '"', i + raw.end())
            end = n if end < 0 else end + len(raw.group(1)) + 2
            out.append('""' + re.sub(r"[^\n]", " ", text[i + 2:end]))
            i = end
            continue
        if c in "\"'":
            # A digit separator (1'000) is not a character literal.
            if c == "'" and i > 0 and text[i - 1].isalnum() and i + 1 < n and text[i + 1].isalnum() \
                    and re.match(r"[0-9a-fA-F]", text[i - 1]):
                out.append(" ")
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + c)
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def function_name(head):
    """The (qualified) name before the parameter list of a function head, for reports."""
    head = re.sub(r"\s+", " ", head).strip()
    head = re.sub(r"^template ?<.*?> ?(?=[A-Za-z_~])", "", head)
    depth = 0
    for k, ch in enumerate(head):
        if ch == "<":
            depth += 1
        elif ch == ">" and depth > 0 and head[k - 1] != "-":
            depth -= 1
        elif ch == "(" and depth == 0:
            if head[:k].rstrip().endswith("]"):
                return "lambda"
            m = re.search(r"((?:[A-Za-z_~][\w]*(?:<[^()]*?>)?::)*(?:operator\s*[^\s(]+|~?[A-Za-z_]\w*))\s*$",
                          head[:k])
            if m:
                return m.group(1).replace(" ", "")
            if head[:k].rstrip().endswith("operator()") or head[:k].rstrip().endswith("operator"):
                return "operator()"
    return head[:60]


def is_function_head(head):
    flat = re.sub(r"\s+", " ", head).strip()
    if not flat or "(" not in flat:
        return False
    if CONTROL_HEAD.match(flat):
        return False
    before_paren = flat[:flat.index("(")]
    if SCOPE_HEAD.search(before_paren) or re.search(r"=\s*$", flat) or "=" in before_paren.replace("operator=", ""):
        return False
    return True


def functions(text):
    """Yields (name, first_line, last_line) of every function defined at namespace or class scope."""
    code = blank_non_code(text)
    line_of = []
    line = 1
    for ch in code:
        line_of.append(line)
        if ch == "\n":
            line += 1
    stack = []  # per open brace: "scope" or "func"
    head_start = 0
    func = None  # [name, first_line, depth at which it opened]
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        if ch == "{":
            in_func = func is not None
            if not in_func:
                head = code[head_start:i]
                access = ACCESS.match(head)
                if access:
                    head_start += access.end()
                    head = code[head_start:i]
                if is_function_head(head):
                    offset = len(head) - len(head.lstrip())
                    func = [function_name(head), line_of[head_start + offset], len(stack)]
                    stack.append("func")
                else:
                    stack.append("scope")
            else:
                stack.append("func")
            head_start = i + 1
        elif ch == "}":
            if stack:
                stack.pop()
            if func is not None and len(stack) == func[2]:
                rest = code[i + 1:].lstrip()
                if not (rest.startswith(",") or rest.startswith("{")):
                    yield func[0], func[1], line_of[i]
                    func = None
            head_start = i + 1
        elif ch == ";" and func is None:
            head_start = i + 1
        elif ch == ":" and func is None and code[head_start:i + 1].strip() in ("public:", "private:", "protected:"):
            head_start = i + 1
        i += 1


def read_exceptions(path):
    """path:name -> reason. Lines: `sim/x.cpp Name::fn  reason`; `sim/x.cpp *  reason` for a file."""
    exceptions = {}
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            parts = text.split(None, 2)
            if len(parts) < 3:
                sys.exit(f"{path}:{number}: each exception needs a path, a function (or *) and a reason")
            exceptions[(parts[0], parts[1])] = parts[2]
    return exceptions


def sources(root):
    for base, _, names in os.walk(os.path.join(root, "sim")):
        for name in names:
            if name.endswith((".cpp", ".hpp")):
                yield os.path.relpath(os.path.join(base, name), root)


def main(argv):
    if len(argv) >= 2 and argv[0] == "--list":
        for path in argv[1:]:
            with open(path, encoding="utf-8") as f:
                for name, first, last in functions(f.read()):
                    print(f"{last - first + 1} {name} {first}")
        return 0
    root, exceptions_path = argv
    exceptions = read_exceptions(exceptions_path)
    used = set()
    findings = []
    for rel in sorted(sources(root)):
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = f.read()
        lines = text.count("\n")
        if lines > MAX_FILE_LINES:
            if (rel, "*") in exceptions:
                used.add((rel, "*"))
            else:
                findings.append(f"{rel}: {lines} lines (limit {MAX_FILE_LINES})")
        for name, first, last in functions(text):
            length = last - first + 1
            if length <= MAX_FUNCTION_LINES:
                continue
            if (rel, name) in exceptions:
                used.add((rel, name))
            else:
                findings.append(f"{rel}:{first}: {name} is {length} lines (limit {MAX_FUNCTION_LINES})")
    for key in sorted(set(exceptions) - used):
        findings.append(f"{exceptions_path}: stale exception {key[0]} {key[1]} (within the limits now, "
                        "or renamed): remove it")
    for finding in findings:
        print(finding)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
