#!/usr/bin/env python3
"""Regenerates docs/configuration.md from `hsofctl config show --defaults`.

The key comments come from the binary (hsof-core's KEY_DOCS), so the docs, the file the
app writes and the schema stay one. Run after adding a key: `python3 scripts/config-docs.py`.
A test (hsof-core tests/config_file.rs) fails while a key is undocumented.
"""
import re
import subprocess
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
text = subprocess.run(["cargo", "run", "-q", "-p", "hsofctl", "--", "config", "show", "--defaults"],
                      cwd=root, check=True, capture_output=True, text=True).stdout
head = (root / "scripts/config-docs.head.md").read_text()
tail = (root / "scripts/config-docs.tail.md").read_text()

section, comment, order, docs, rows = None, None, [], {}, {}
for line in text.splitlines():
    if line.startswith("# ") and (section is not None or not line.startswith(("# HSOF", "# Every", "# Secrets"))):
        comment = line[2:]
        continue
    m = re.match(r"^\[(.+)\]$", line)
    if m:
        section = m.group(1)
        docs[section], rows[section], comment = comment, [], None
        order.append(section)
        continue
    m = re.match(r"^(\w+) = (.*)$", line)
    if m and section:
        rows[section].append((f"{section}.{m.group(1)}", m.group(2), comment or ""))
        comment = None

out = [head.rstrip(), "", "## Keys", ""]
for s in order:
    out += [f"### `[{s}]`", ""]
    if docs.get(s):
        out += [docs[s], ""]
    if rows[s]:
        out += ["| key | default | meaning |", "|---|---|---|"]
        out += ["| `%s` | `%s` | %s |" % (k, v.replace("|", "\\|"), c) for k, v, c in rows[s]]
        out.append("")
out.append(tail.rstrip())
(root / "docs/configuration.md").write_text("\n".join(out) + "\n")
