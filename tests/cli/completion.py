#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The bash completion against the program and its option tables.

    completion.py HVLOG CLI_SOURCE_DIR COMPLETION_FILE

completion/hvlog.bash reads everything it offers from the program's usage
tables (`hvlog --help`, `hvlog help CMD`: src/cli/main.c commands[]). This
checks, so neither can drift:
  - every longopts[] table in CLI_SOURCE_DIR/*.c belongs to a command (the
    cli_getopt("CMD", ..., table) call that uses it) that `hvlog --help`
    lists, and that command's usage names exactly the table's long options:
    none missing (the completion would not offer it), none extra (the
    completion would offer what the parser refuses);
  - bash, with the completion sourced, completes `hvlog ` and `hvlog help `
    to every command, and `hvlog CMD --` to exactly the command's long
    options, `hvlog CMD -` to its short ones too;
  - an option whose usage gives its values as words (--format
    ctf|perfetto|...) is completed to those words, with --opt=value too;
    one taking a path (-o OUT) to file names.
A command added to commands[] with its own table is covered without a
change here. Exit 0 with a summary line, 1 listing every problem.
"""
import os
import re
import subprocess
import sys
import tempfile

HVLOG, SRC, COMPLETION = (os.path.abspath(a) for a in sys.argv[1:4])
problems = []


def problem(msg):
    problems.append(msg)


def run(args):
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        problem(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def source_tables():
    """{command: set of long options} from every longopts[] table."""
    tables = {}
    table_re = re.compile(r"struct option\s+(\w+)\s*\[\]\s*=\s*\{(.*?)\};", re.S)
    for name in sorted(os.listdir(SRC)):
        if not name.endswith(".c"):
            continue
        text = open(os.path.join(SRC, name), encoding="utf-8").read()
        for m in table_re.finditer(text):
            opts = set(re.findall(r'\{\s*"([A-Za-z0-9-]+)"\s*,\s*(?:no|required|optional)_argument',
                                  m.group(2)))
            use = re.compile(r'cli_getopt\(\s*"([a-z0-9-]+)"[^;]*?\b' + re.escape(m.group(1)) + r"\b")
            u = use.search(text, m.end())
            if not u:
                problem(f"{name}: option table {m.group(1)} is used by no cli_getopt(\"CMD\", ...) call")
                continue
            tables.setdefault(u.group(1), set()).update(opts)
    return tables


def usage_of(cmd):
    lines = run([HVLOG, "help", cmd]).splitlines()
    usage = [lines[0]] if lines else []
    usage += [l for l in lines[1:] if l[:1] in (" ", "\t")]
    return "\n".join(usage)


def complete(script, cases):
    """Run bash with the completion sourced; one COMPREPLY line per case."""
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write(f"source {shlex_quote(COMPLETION)}\n")
        f.write('c() { COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _hvlog;'
                " printf '%s ' \"${COMPREPLY[@]}\"; echo; }\n")
        for words in cases:
            f.write("c " + " ".join(shlex_quote(w) for w in [HVLOG] + words) + "\n")
        path = f.name
    try:
        out = subprocess.run(["bash", "--norc", "--noprofile", path], capture_output=True, text=True,
                             cwd=script)
    finally:
        os.unlink(path)
    if out.returncode != 0 or out.stderr:
        problem(f"bash with the completion: exit {out.returncode}: {out.stderr.strip()[:300]}")
    lines = out.stdout.split("\n")
    return [set(l.split()) for l in lines[:len(cases)]] + [set()] * (len(cases) - len(lines))


def shlex_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def main():
    top = run([HVLOG, "--help"])
    commands = re.findall(r"^  ([a-z][a-z0-9-]*) ", top.split("commands:", 1)[-1], re.M)
    if not commands:
        problem("no commands in `hvlog --help`")
    tables = source_tables()
    for cmd in sorted(set(tables) - set(commands)):
        problem(f"command '{cmd}' has an option table but `hvlog --help` does not list it")
    usages = {cmd: usage_of(cmd) for cmd in commands}
    longs, shorts, valued, pathed = {}, {}, {}, {}
    for cmd, usage in usages.items():
        longs[cmd] = set(re.findall(r"(?:^|[\[ |])(--[a-z][a-z0-9-]*)", usage))
        shorts[cmd] = set(re.findall(r"(?:^|[\[ |])(-[a-zA-Z])\b", usage))
        table = {"--" + o for o in tables.get(cmd, set())}
        for opt in sorted(table - longs[cmd]):
            problem(f"{cmd}: the parser takes {opt} but `hvlog help {cmd}` does not name it")
        for opt in sorted(longs[cmd] - table):
            problem(f"{cmd}: `hvlog help {cmd}` names {opt} but the parser does not take it")
        # "[--json] TRACE": a ']' ends an option's group, TRACE is no value of it.
        tokens = usage.replace("[", " ").replace("]", " ] ").split()
        for i, tok in enumerate(tokens[:-1]):
            if not tok.startswith("-"):
                continue
            spec = tokens[i + 1]
            if spec.startswith("-") or spec in ("]", "|"):
                continue
            words = [w for w in spec.split("|") if re.fullmatch(r"[a-z0-9][a-z0-9-]*", w)]
            opt = tok.split("|")[-1]
            if words:
                valued[(cmd, opt)] = set(words)
            elif spec in ("OUT", "FILE", "TRACE", "DIR"):
                pathed[(cmd, opt)] = spec

    cases = [[""], ["help", ""]]
    cases += [[cmd, "--"] for cmd in commands]
    cases += [[cmd, "-"] for cmd in commands]
    cases += [[cmd, opt, ""] for (cmd, opt) in valued]
    cases += [[cmd, opt, "=", ""] for (cmd, opt) in valued]
    cases += [[cmd, opt, "comp"] for (cmd, opt) in pathed]
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "completion-probe"))  # a directory: DIR and OUT both offer it
        got = complete(d, cases)
    k = 0
    for what in ("hvlog", "hvlog help"):
        if got[k] != set(commands):
            problem(f"`{what} <TAB>` offers {sorted(got[k])}, not the commands {commands}")
        k += 1
    for cmd in commands:
        if got[k] != longs[cmd]:
            problem(f"`hvlog {cmd} --<TAB>` offers {sorted(got[k])}, the usage names {sorted(longs[cmd])}")
        k += 1
    for cmd in commands:
        if got[k] != longs[cmd] | shorts[cmd]:
            problem(f"`hvlog {cmd} -<TAB>` offers {sorted(got[k])}, not {sorted(longs[cmd] | shorts[cmd])}")
        k += 1
    for form in ("OPT VALUE", "OPT=VALUE"):
        for (cmd, opt), words in valued.items():
            if got[k] != words:
                problem(f"`hvlog {cmd} {form.replace('OPT', opt).replace('VALUE', '')}<TAB>` offers "
                        f"{sorted(got[k])}, the usage lists {sorted(words)}")
            k += 1
    for (cmd, opt) in pathed:
        if got[k] != {"completion-probe"}:
            problem(f"`hvlog {cmd} {opt} comp<TAB>` offers {sorted(got[k])}, not the path completion-probe")
        k += 1
    if problems:
        for p in problems:
            print(f"completion: {p}", file=sys.stderr)
        sys.exit(1)
    print(f"completion: {len(commands)} commands, {sum(len(v) for v in longs.values())} long options "
          f"(each in its parser's table), {len(valued)} option value lists, {len(pathed)} path "
          "options completed as the usage says")


main()
