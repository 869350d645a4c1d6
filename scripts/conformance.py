#!/usr/bin/env python3
"""Conformance check: lore's importers against an independent count of the raw files.

Usage:
    scripts/conformance.py [--lore PATH] [--show-paths] ROOT

ROOT is laid out as a home (`home/.claude/projects/...`, `home/.codex/...`,
`home/.gemini/tmp/...`) with Aider histories anywhere under it (`*.aider.chat.history.md`),
as /work/shared/realworld/ is. Every transcript file is imported on its own into a throw-away
LORE_HOME (`lore import FILE`), and the message rows lore stored for it are compared with a
count made here, by rules written from the formats themselves (docs/conformance.md says
which), not from lore's importers. ROOT is only read.

Prints one Markdown table row per file: a label (tool and number; `--show-paths` adds the
path, which for real transcripts names real people: keep such output out of the repository),
lore's count, the independent count, the difference, and lore's and the reader's counts by
role, so that each difference can be explained.

Exit status: 0 when it ran (differences are findings, not failures); 2 on bad usage.
"""

import argparse
import collections
import json
import os
import sqlite3
import subprocess
import sys
import tempfile


# ---------------------------------------------------------------------------------------------
# Independent readers. Each returns a Counter of role -> blocks, where a block is one piece of
# content a person would see as a separate item: a prompt, a reply, a thought, a tool call, a
# tool result. Roles: user (typed by a human), assistant, tool (results), system (text the
# tool itself injected, when the format marks it as such).
# ---------------------------------------------------------------------------------------------


def nonempty(text):
    return isinstance(text, str) and text.strip() != ""


def claude_blocks(path):
    """Claude Code JSONL: every `user`/`assistant` line's `message.content`: a string is one
    block, a list has one block per non-empty text/thinking item and per tool_use, tool_result,
    image or document item."""
    c = collections.Counter()
    for raw in open(path, "rb"):
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(line, dict) or line.get("type") not in ("user", "assistant"):
            continue
        msg = line.get("message")
        if not isinstance(msg, dict):
            continue
        role = line["type"]
        content = msg.get("content")
        if isinstance(content, str):
            if nonempty(content):
                c["system" if line.get("isMeta") else role] += 1
            continue
        for item in content or []:
            if not isinstance(item, dict):
                continue
            kind = item.get("type")
            if kind == "text" and nonempty(item.get("text")):
                c["system" if line.get("isMeta") else role] += 1
            elif kind == "thinking" and nonempty(item.get("thinking")):
                c["assistant"] += 1
            elif kind in ("tool_use", "server_tool_use"):
                c["assistant"] += 1
            elif kind in ("tool_result", "web_search_tool_result"):
                c["tool"] += 1
            elif kind in ("image", "document"):
                c[role] += 1
    return c


def iso_seconds(text):
    import datetime
    try:
        return int(datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def uuid7_seconds(text):
    import uuid
    try:
        u = uuid.UUID(str(text))
    except ValueError:
        return None
    return (u.int >> 80) // 1000 if u.version == 7 else None


def codex_items(path):
    """Codex rollouts: the `response_item` payloads of a JSONL rollout (or the `items` of a
    2025 single-document `.json`, or the bare items of an early JSONL rollout): a `message`
    with any non-empty text is one block (its parts are one message); a `reasoning` item with
    any non-empty summary or content text one; every tool call and every tool output one."""
    c = collections.Counter()
    items = []
    if path.endswith(".json"):
        doc = json.load(open(path))
        items = doc.get("items", []) if isinstance(doc, dict) else []
    else:
        own_id, own_start, inherited, forked = None, None, False, False
        for raw in open(path, "rb"):
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(line, dict):
                continue
            # A forked rollout repeats an ancestor's session_meta and history, up to its own
            # first turn (one that began at or after its own start): that part is not its own.
            p = line.get("payload") if isinstance(line.get("payload"), dict) else {}
            if line.get("type") == "session_meta":
                if own_id is None:
                    own_id = p.get("id")
                    own_start = iso_seconds(p.get("timestamp"))
                    forked = bool(p.get("forked_from_id"))
                elif forked and p.get("id") != own_id:
                    inherited = True
                continue
            if inherited:
                began = None
                if line.get("type") == "event_msg" and p.get("type") == "task_started":
                    began = p.get("started_at")
                    if began is None:
                        began = uuid7_seconds(p.get("turn_id"))
                elif line.get("type") == "turn_context":
                    began = uuid7_seconds(p.get("turn_id"))
                else:
                    continue
                if began is None or own_start is None or began >= own_start:
                    inherited = False
                else:
                    continue
            if line.get("type") == "response_item":
                items.append(line.get("payload") or {})
            elif "type" not in line or line.get("type") in ("message", "reasoning",
                                                           "function_call",
                                                           "function_call_output",
                                                           "local_shell_call"):
                # Early rollouts: items written bare, one per line.
                if line.get("type"):
                    items.append(line)
    for it in items:
        # The 2025 single-document rollouts write messages as bare {role, content}.
        kind = it.get("type") or ("message" if "role" in it else None)
        if kind == "message":
            role = it.get("role")
            role = {"developer": "system"}.get(role, role)
            if any(isinstance(p, dict) and nonempty(p.get("text"))
                   for p in it.get("content") or []):
                c[role] += 1
        elif kind == "reasoning":
            # A summary, or (open-weight models) the reasoning text itself in `content`.
            parts = (it.get("summary") or []) + (it.get("content") or [])
            if any(isinstance(p, dict) and nonempty(p.get("text")) for p in parts):
                c["assistant"] += 1
        elif kind in ("function_call", "custom_tool_call", "local_shell_call", "web_search_call",
                      "tool_search_call"):
            c["assistant"] += 1
        elif kind in ("function_call_output", "custom_tool_call_output", "tool_search_output"):
            c["tool"] += 1
    return c


def gemini_message(m, c):
    kind = m.get("type")
    content = m.get("content")
    if isinstance(content, list):
        text = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    else:
        text = content
    if kind == "user":
        if nonempty(text):
            c["user"] += 1
    elif kind == "gemini":
        if nonempty(text):
            c["assistant"] += 1
        for t in m.get("thoughts") or []:
            if isinstance(t, dict) and (nonempty(t.get("description")) or nonempty(t.get("subject"))):
                c["assistant"] += 1
        for call in m.get("toolCalls") or []:
            c["assistant"] += 1
            if call.get("result") is not None or call.get("resultDisplay") is not None:
                c["tool"] += 1
    elif kind in ("info", "error", "warning"):
        if nonempty(text):
            c["system"] += 1


def gemini_blocks(path):
    """Gemini CLI: chats (`.json` with `messages`, or `.jsonl` records where a later record
    with the same `id` replaces the earlier one), `logs.json` (one typed prompt per entry of
    type `user`) and `checkpoint-*.json` (`{role, parts}`: one block per text, functionCall and
    functionResponse part)."""
    c = collections.Counter()
    name = os.path.basename(path)
    if name == "logs.json":
        for e in json.load(open(path)):
            if isinstance(e, dict) and e.get("type") == "user" and nonempty(e.get("message")):
                c["user"] += 1
        return c
    if name.startswith("checkpoint-"):
        for turn in json.load(open(path)):
            role = turn.get("role")
            for p in turn.get("parts") or []:
                if nonempty(p.get("text")):
                    c["user" if role == "user" else "assistant"] += 1
                elif "functionCall" in p:
                    c["assistant"] += 1
                elif "functionResponse" in p:
                    c["tool"] += 1
        return c
    if path.endswith(".jsonl"):
        records = collections.OrderedDict()
        for raw in open(path, "rb"):
            try:
                r = json.loads(raw)
            except ValueError:
                continue
            if isinstance(r, dict) and "id" in r and "type" in r:
                records[r["id"]] = r
        for m in records.values():
            gemini_message(m, c)
        return c
    doc = json.load(open(path))
    for m in doc.get("messages", []) if isinstance(doc, dict) else []:
        gemini_message(m, c)
    return c


def aider_blocks(path):
    """Aider `.aider.chat.history.md`, by how Aider writes it: its own lines (`#### ` prompts,
    `> ` output) end with two spaces; a `> ` message runs to its first line that does; a run of
    `#### ` lines is one prompt, a command (`/word`, `!cmd`) when it starts so; a
    `<thinking-content-…>` … `</thinking-content-…>` block is one thought; any other run of
    non-blank text up to the next prompt, two-space `> ` line or thought, blank lines
    included, is one reply (its own `> ` quotes too). The last block of the file with no
    prompt yet is not counted (lore waits for it)."""
    c = collections.Counter()
    block = collections.Counter()
    state = None
    thinking = None
    open_output = False
    prompted = False

    def close(counter):
        for k, v in counter.items():
            c[k] += v
        counter.clear()

    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n").rstrip("\r")
        if line.startswith("# aider chat started at"):
            close(block)
            state, thinking, open_output, prompted = None, None, False, False
            continue
        if thinking is not None:
            if line.strip() == thinking:
                thinking = None
                state = None
            elif line.strip() and state != "thought":
                block["assistant"] += 1
                state = "thought"
            continue
        if open_output and not line.startswith("#### "):
            open_output = not line.endswith("  ")
            continue
        if line.startswith("#### ") or line == "####":
            prompted = True
            if state not in ("user", "command"):
                text = line[5:].strip()
                cmd = (len(text) > 1 and ((text[0] == "/" and text[1].isalpha())
                                          or (text[0] == "!" and not text[1].isspace())))
                state = "command" if cmd else "user"
                block["command" if cmd else "user"] += 1
        elif (line.startswith("> ") or line.startswith(">  ") or line == ">") and (
                state != "assistant" or line.endswith("  ")):
            if state != "tool":
                block["tool"] += 1
            state = "tool"
            open_output = not line.endswith("  ")
        elif line.strip().startswith("<thinking-content-") and line.strip().endswith(">"):
            thinking = "</" + line.strip()[1:]
            state = None
        elif line.strip() == "":
            if state in ("user", "command", "tool"):
                state = "gap"
        else:
            if state == "tool" and not open_output:
                continue  # unprefixed line under a `> ` line (Aider before the two spaces)
            if state != "assistant":
                block["assistant"] += 1
            state = "assistant"
    if prompted:
        close(block)
    return c


# ---------------------------------------------------------------------------------------------


def find_files(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            p = os.path.join(dirpath, f)
            rel = os.path.relpath(p, root)
            if f.endswith(".aider.chat.history.md"):
                out.append(("aider", p))
            elif "/.claude/projects/" in "/" + rel and f.endswith(".jsonl"):
                out.append(("claude-code", p))
            elif "/.codex/" in "/" + rel and f.startswith("rollout-"):
                out.append(("codex", p))
            elif "/.gemini/tmp/" in "/" + rel and f.endswith((".json", ".jsonl")):
                out.append(("gemini", p))
    return out


READERS = {
    "claude-code": claude_blocks,
    "codex": codex_items,
    "gemini": gemini_blocks,
    "aider": aider_blocks,
}


def lore_counts(lore, path, tool):
    with tempfile.TemporaryDirectory() as d:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": d,
            "LORE_HOME": os.path.join(d, "lore"),
            "LORE_KEYCHAIN": "off",
            "TZ": "UTC",
        }
        run = subprocess.run([lore, "import", "--tool", tool, path], env=env,
                             capture_output=True, text=True)
        db = os.path.join(d, "lore", "lore.db")
        if not os.path.exists(db):
            return None, run.stderr.strip().splitlines()[-1:] or ["no database"]
        con = sqlite3.connect(db)
        c = collections.Counter(dict(con.execute(
            "SELECT role, count(*) FROM messages GROUP BY role")))
        sessions = con.execute("SELECT count(*) FROM sessions").fetchone()[0]
        con.close()
        note = [l for l in run.stderr.strip().splitlines() if l.startswith(("warning", "error"))]
        return (c, sessions), note[:1]


def fmt(c):
    return " ".join(f"{k[0]}{v}" for k, v in sorted(c.items())) or "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root")
    ap.add_argument("--lore", default=os.environ.get("LORE", "lore"))
    ap.add_argument("--show-paths", action="store_true")
    a = ap.parse_args()
    if not os.path.isdir(a.root):
        print(f"error: {a.root} is not a folder; give a folder laid out as a home",
              file=sys.stderr)
        return 2
    files = find_files(a.root)
    print("| file | sessions | lore | reader | diff | lore by role | reader by role |")
    print("|---|---:|---:|---:|---:|---|---|")
    numbers = collections.Counter()
    totals = collections.Counter()
    for tool, path in files:
        numbers[tool] += 1
        label = f"{tool}-{numbers[tool]:02d}"
        if a.show_paths:
            label += f" `{os.path.relpath(path, a.root)}`"
        try:
            reader = READERS[tool](path)
        except (ValueError, OSError, AttributeError, TypeError) as e:
            reader = None
            why = f"reader failed: {e}"
        got, note = lore_counts(a.lore, path, tool)
        r_total = sum(reader.values()) if reader is not None else None
        if got is None:
            l_total, sessions, l_roles = 0, 0, collections.Counter()
        else:
            l_roles, sessions = got
            l_total = sum(l_roles.values())
        diff = "" if r_total is None else f"{l_total - r_total:+d}"
        totals["files"] += 1
        totals["lore"] += l_total
        totals["reader"] += r_total or 0
        if r_total == l_total:
            totals["equal"] += 1
        extra = "; ".join(note)
        print(f"| {label} | {sessions} | {l_total} | {r_total if r_total is not None else why} "
              f"| {diff} | {fmt(l_roles)} | {fmt(reader or {})}{' — ' + extra if extra else ''} |")
    print()
    print(f"{totals['files']} files; {totals['equal']} with equal totals; "
          f"lore {totals['lore']} messages, reader {totals['reader']}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
