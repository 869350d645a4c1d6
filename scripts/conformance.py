#!/usr/bin/env python3
"""Conformance check: lore's importers against an independent count of the raw files.

Usage:
    scripts/conformance.py [--lore PATH] [--show-paths] ROOT

ROOT is laid out as a home (`home/.claude/projects/...`, `home/.codex/...`,
`home/.gemini/tmp/...`) with Aider histories anywhere under it (`*.aider.chat.history.md`),
as /work/shared/realworld/ is; OpenCode's and Kilo CLI's databases under
`.local/share/{opencode,kilo}/` (with their `-wal` beside them: copy a database and its log
to a scratch folder first when they live apart, as in /work/shared/realworld2/oversize/). Every transcript file is imported on its own into a throw-away
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



# --- the JSON/JSONL agents of issue 18 --------------------------------------------------------


def _jsonl(path):
    for raw in open(path, "rb"):
        try:
            v = json.loads(raw)
        except ValueError:
            continue
        if isinstance(v, dict):
            yield v


def _text_of(v):
    if isinstance(v, str):
        return v
    return json.dumps(v) if v is not None else ""


def qwen_blocks(path):
    """Qwen Code chat JSONL: `user` lines count one block when their text parts are non-empty;
    `assistant` lines one block per non-empty text part (thought or not) and per functionCall;
    `tool_result` lines one block per functionResponse; a slash command's `invocation` line is
    one system block; a `task_execution` result display is a sub-agent: one block for its
    prompt, one per listed call and per call result, one for its result or end. Files under
    `tmp/` are Gemini CLI's layout: counted by the Gemini reader."""
    if os.path.basename(path) == "logs.json" or os.path.basename(path).startswith(
            ("checkpoint-", "session-")):
        return gemini_blocks(path)
    c = collections.Counter()
    for line in _jsonl(path):
        t = line.get("type")
        parts = (line.get("message") or {}).get("parts") or []
        if t == "user":
            if any(nonempty(p.get("text")) for p in parts if isinstance(p, dict)):
                c["user"] += 1
        elif t == "assistant":
            for p in parts:
                if nonempty(p.get("text")) or "functionCall" in p:
                    c["assistant"] += 1
        elif t == "tool_result":
            c["tool"] += sum(1 for p in parts if "functionResponse" in p)
            rd = (line.get("toolCallResult") or {}).get("resultDisplay")
            if isinstance(rd, dict) and rd.get("type") == "task_execution":
                c["user"] += 1 if nonempty(rd.get("taskPrompt")) else 0
                for call in rd.get("toolCalls") or []:
                    c["assistant"] += 1
                    if nonempty(_text_of(call.get("result"))):
                        c["tool"] += 1
                if nonempty(rd.get("result")):
                    c["assistant"] += 1
                elif rd.get("terminateReason"):
                    c["system"] += 1
        elif t == "system":
            pl = line.get("systemPayload") or {}
            if line.get("subtype") == "slash_command" and pl.get("phase") == "invocation":
                c["system"] += 1
            elif line.get("subtype") == "chat_compression":
                c["system"] += 1
    return c


def pi_blocks(path):
    """Pi session JSONL: `message` entries: user one block (non-empty content), assistant one
    per non-empty text/thinking/toolCall block plus one for an errorMessage, toolResult one,
    bashExecution two (the command typed and its output); `compaction` and `branch_summary`
    one system block each."""
    c = collections.Counter()
    for e in _jsonl(path):
        t = e.get("type")
        if t in ("compaction", "branch_summary") and nonempty(e.get("summary")):
            c["system"] += 1
        if t != "message":
            continue
        m = e.get("message") or {}
        role = m.get("role")
        content = m.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        if role == "user":
            if any(nonempty(b.get("text")) or b.get("type") == "image" for b in blocks):
                c["user"] += 1
        elif role == "assistant":
            for b in blocks:
                if b.get("type") == "text" and nonempty(b.get("text")):
                    c["assistant"] += 1
                elif b.get("type") == "thinking" and nonempty(b.get("thinking")):
                    c["assistant"] += 1
                elif b.get("type") == "toolCall":
                    c["assistant"] += 1
            if nonempty(m.get("errorMessage")):
                c["system"] += 1
        elif role == "toolResult":
            c["tool"] += 1
        elif role == "bashExecution":
            c["user"] += 1
            c["tool"] += 1
    return c


def droid_blocks(path):
    """Factory Droid JSONL: `message` lines, one block per non-empty text, thinking, image,
    tool_use and tool_result item of `message.content`."""
    c = collections.Counter()
    for line in _jsonl(path):
        if line.get("type") != "message":
            continue
        m = line.get("message") or {}
        for b in m.get("content") or []:
            t = b.get("type")
            if t == "text" and nonempty(b.get("text")):
                c[m.get("role")] += 1
            elif t == "thinking" and nonempty(b.get("thinking")):
                c["assistant"] += 1
            elif t == "tool_use":
                c["assistant"] += 1
            elif t == "tool_result":
                c["tool"] += 1
            elif t == "image":
                c[m.get("role")] += 1
    return c


def kiro_blocks(path):
    """Kiro CLI JSONL: one block per non-empty `text` block of `Prompt` (user) and
    `AssistantMessage` lines, per `toolUse` (assistant) and per `toolResult` (tool)."""
    c = collections.Counter()
    for line in _jsonl(path):
        kind = line.get("kind")
        for b in (line.get("data") or {}).get("content") or []:
            bk = b.get("kind")
            if bk == "text" and nonempty(_text_of(b.get("data"))):
                c["user" if kind == "Prompt" else "assistant"] += 1
            elif bk == "toolUse":
                c["assistant"] += 1
            elif bk == "toolResult":
                c["tool"] += 1
    return c


def continue_blocks(path):
    """Continue session JSON: per history item, a user message one block (non-empty
    content) plus one per context item; an assistant message one for non-empty content, one
    per toolCall, one per toolCallState with output (unless a `tool` message answers it);
    thinking, tool and system messages one each."""
    doc = json.load(open(path))
    c = collections.Counter()
    hist = doc.get("history") or []
    answered = {h["message"].get("toolCallId") for h in hist
                if (h.get("message") or {}).get("role") == "tool"}

    def content(m):
        x = m.get("content")
        if isinstance(x, list):
            return "".join(p.get("text", "") if p.get("type") == "text" else "[image]"
                           for p in x if p.get("type") in ("text", "imageUrl"))
        return _text_of(x)
    for h in hist:
        m = h.get("message") or {}
        role = m.get("role")
        if role == "user":
            c["system"] += len(h.get("contextItems") or [])
            c["user"] += 1 if nonempty(content(m)) else 0
        elif role == "assistant":
            c["assistant"] += 1 if nonempty(content(m)) else 0
            c["assistant"] += len(m.get("toolCalls") or [])
            for s in h.get("toolCallStates") or []:
                if s.get("toolCallId") in answered:
                    continue
                out = "\n".join(_text_of(o.get("content")) for o in s.get("output") or [])
                if nonempty(out) or s.get("status") in ("errored", "canceled", "cancelled"):
                    c["tool"] += 1
        elif role in ("thinking", "tool", "system") and nonempty(content(m)):
            c["assistant" if role == "thinking" else role] += 1
    return c


def cline_blocks(path):
    """Cline / Roo Code / Kilo Code `api_conversation_history.json`: one block per non-empty
    text, thinking, tool_use, tool_result and image item, plus one user block for each
    `<feedback>`/`<answer>` inside a `[tool] Result:` text. `ui_messages.json` (read when a
    task has no API history): one block per say text/user_feedback/completion_result/reasoning/
    error and per tool, command and command_output message."""
    doc = json.load(open(path))
    c = collections.Counter()
    if os.path.basename(path) == "ui_messages.json":
        roles = {"user_feedback": "user", "text": "assistant", "completion_result": "assistant",
                 "reasoning": "assistant", "tool": "assistant", "command": "assistant",
                 "command_output": "tool"}
        first = True
        for m in doc:
            k = m.get("say") or m.get("ask")
            if k == "error" and m.get("type") == "say" and nonempty(m.get("text")):
                c["system"] += 1
            if k not in roles or not nonempty(m.get("text")):
                continue
            if k in ("text", "user_feedback", "completion_result", "reasoning") \
                    and m.get("type") != "say":
                continue
            if k == "text" and m.get("type") == "say" and first:
                first = False
                c["user"] += 1
            else:
                c[roles[k]] += 1
        return c
    for m in doc:
        for b in m.get("content") or []:
            t = b.get("type")
            if t == "text" and nonempty(b.get("text")):
                c[m.get("role")] += 1
                txt = b["text"]
                if txt.lstrip().startswith("[") and "] Result:" in txt:
                    c["user"] += sum(1 for tag in ("<feedback>", "<answer>") if tag in txt)
            elif t == "thinking" and nonempty(b.get("thinking")):
                c["assistant"] += 1
            elif t in ("tool_use", "image"):
                c[m.get("role") if t == "image" else "assistant"] += 1
            elif t == "tool_result":
                c["tool"] += 1
    return c


def amp_blocks(path):
    """Amp thread JSON: one block per non-empty text and thinking item and per tool_use and
    tool_result item of each message's content."""
    doc = json.load(open(path))
    c = collections.Counter()
    for m in doc.get("messages") or []:
        for b in m.get("content") or []:
            t = b.get("type")
            if t == "text" and nonempty(b.get("text")):
                c[m.get("role")] += 1
            elif t == "thinking" and nonempty(b.get("thinking")):
                c["assistant"] += 1
            elif t == "tool_use":
                c["assistant"] += 1
            elif t == "tool_result":
                c["tool"] += 1
    return c


def count_opencode_part(c, p, user):
    """One OpenCode part's blocks (the rules `opencode_blocks` describes), added to `c`."""
    t = p.get("type")
    if t == "text" and nonempty(p.get("text")):
        c["system" if user and p.get("synthetic") else "user" if user else "assistant"] += 1
    elif t == "reasoning" and nonempty(p.get("text")):
        c["assistant"] += 1
    elif t == "tool":
        c["assistant"] += 1
        if (p.get("state") or {}).get("status") in ("completed", "error"):
            c["tool"] += 1
    elif t in ("file", "subtask", "compaction", "retry"):
        c["system"] += 1


def opencode_blocks(path):
    """OpenCode / Kilo CLI SQLite (`session`, `message`, `part`), opened read-only
    (`mode=ro`; the `-wal` beside it is read by SQLite): per part of every message, a non-empty
    `text` is one block (user for a user message unless `synthetic`, which OpenCode injected:
    system; assistant otherwise), a non-empty `reasoning` one assistant block, a `tool` one
    assistant block plus one tool block once its state is `completed` or `error`; `file`,
    `subtask`, `compaction` and `retry` parts are one system block each, and so is a message's
    `error`. Other part types (step markers, snapshots, patches) are bookkeeping."""
    c = collections.Counter()
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        roles = {}
        for mid, data in con.execute("SELECT id, data FROM message"):
            try:
                d = json.loads(data)
            except ValueError:
                d = {}
            roles[mid] = d.get("role")
            if isinstance(d.get("error"), dict):
                c["system"] += 1
        for mid, data in con.execute("SELECT message_id, data FROM part"):
            try:
                p = json.loads(data)
            except ValueError:
                continue
            count_opencode_part(c, p, roles.get(mid) == "user")
    finally:
        con.close()
    return c


def opencode_storage_blocks(path):
    """OpenCode before 1.2, the `storage/` JSON tree: `path` is
    `storage/session/<project>/<id>.json`; its messages are `storage/message/<id>/*.json` and
    each message's parts `storage/part/<message id>/*.json`, counted by the rules of
    `opencode_blocks` (a file that does not parse is skipped)."""
    c = collections.Counter()
    storage = os.path.dirname(os.path.dirname(os.path.dirname(path)))
    sid = os.path.basename(path)[:-len(".json")]

    def load(p):
        try:
            with open(p, encoding="utf-8") as f:
                return json.load(f)
        except ValueError:
            return None

    def listing(d):
        return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".json")) \
            if os.path.isdir(d) else []

    for mp in listing(os.path.join(storage, "message", sid)):
        d = load(mp)
        if not isinstance(d, dict):
            continue
        user = d.get("role") == "user"
        if isinstance(d.get("error"), dict):
            c["system"] += 1
        mid = os.path.basename(mp)[:-len(".json")]
        for pp in listing(os.path.join(storage, "part", mid)):
            p = load(pp)
            if isinstance(p, dict):
                count_opencode_part(c, p, user)
    return c


def cursor_vscdb_blocks(path):
    """Cursor IDE `state.vscdb` (opened `mode=ro`): every `composerData:<id>` row of
    `cursorDiskKV`; its bubbles are the `bubbleId:<id>:<bubble>` rows named by
    `fullConversationHeadersOnly` (a missing row is skipped) or the inline `conversation` list.
    A `type` 1 bubble's non-empty `text` is a user block; a `type` 2 bubble gives an assistant
    block per non-empty `thinking.text` and `text`, and for `toolFormerData` one assistant
    block plus one tool block when it has a non-empty string `result` or its status is
    `error`. The 2024 chat panel (`ItemTable` key `workbench.panel.aichat.view.aichat.chatdata`):
    per tab, a `user` bubble with non-empty `text` or `delegate.a` is a user block, an `ai`
    bubble with non-empty `rawText` or `text` an assistant block."""
    c = collections.Counter()
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def load(raw):
        try:
            return json.loads(raw)
        except (ValueError, TypeError):
            return None

    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "cursorDiskKV" in tables:
            kv = dict(con.execute(
                "SELECT key, value FROM cursorDiskKV WHERE key LIKE 'composerData:%' "
                "OR key LIKE 'bubbleId:%'"))
            for key, raw in kv.items():
                if not key.startswith("composerData:"):
                    continue
                comp = load(raw)
                if not isinstance(comp, dict):
                    continue
                cid = comp.get("composerId") or key.split(":", 1)[1]
                bubbles = []
                for h in comp.get("fullConversationHeadersOnly") or []:
                    b = load(kv.get(f"bubbleId:{cid}:{h.get('bubbleId')}"))
                    if isinstance(b, dict):
                        bubbles.append(b)
                bubbles += [b for b in comp.get("conversation") or [] if isinstance(b, dict)]
                for b in bubbles:
                    if b.get("type") == 1 and nonempty(b.get("text")):
                        c["user"] += 1
                    elif b.get("type") == 2:
                        if nonempty((b.get("thinking") or {}).get("text")):
                            c["assistant"] += 1
                        if nonempty(b.get("text")):
                            c["assistant"] += 1
                        t = b.get("toolFormerData")
                        if isinstance(t, dict):
                            c["assistant"] += 1
                            if nonempty(t.get("result")) or t.get("status") == "error":
                                c["tool"] += 1
        if "ItemTable" in tables:
            row = con.execute("SELECT value FROM ItemTable WHERE key = "
                              "'workbench.panel.aichat.view.aichat.chatdata'").fetchone()
            data = load(row[0]) if row else None
            for tab in (data or {}).get("tabs") or []:
                for b in tab.get("bubbles") or []:
                    if b.get("type") == "user" and (nonempty(b.get("text")) or
                                                    nonempty((b.get("delegate") or {}).get("a"))):
                        c["user"] += 1
                    elif b.get("type") == "ai" and (nonempty(b.get("rawText")) or
                                                    nonempty(b.get("text"))):
                        c["assistant"] += 1
    finally:
        con.close()
    return c


def crush_blocks(path):
    """Crush `crush.db` (opened `mode=ro`): per message, per element of its `parts` JSON list:
    a non-empty `text` is a block of the message's role (user, assistant; any other role:
    system), a non-empty `reasoning.thinking` an assistant block, a `tool_call` an assistant
    block, a `tool_result` a tool block, an `image_url` or `binary` a system block, and a
    `finish` whose `reason` is `error` a system block."""
    c = collections.Counter()
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for role, parts in con.execute("SELECT role, parts FROM messages"):
            try:
                parts = json.loads(parts)
            except ValueError:
                continue
            for p in parts if isinstance(parts, list) else []:
                t, d = p.get("type"), p.get("data") or {}
                if t == "text" and nonempty(d.get("text")):
                    c[role if role in ("user", "assistant") else "system"] += 1
                elif t == "reasoning" and nonempty(d.get("thinking")):
                    c["assistant"] += 1
                elif t == "tool_call":
                    c["assistant"] += 1
                elif t == "tool_result":
                    c["tool"] += 1
                elif t in ("image_url", "binary") or (t == "finish" and d.get("reason") == "error"):
                    c["system"] += 1
    finally:
        con.close()
    return c


def goose_blocks(path):
    """Goose `sessions.db` (opened `mode=ro`): per message, per item of its `content_json`
    list: a non-empty `text` is a user block in a user message the user saw
    (`metadata_json.userVisible` not false), a system block in one they did not, an assistant
    block otherwise; a non-empty `thinking` and a `toolRequest` are assistant blocks, a
    `toolResponse` a tool block, an `image` a system block."""
    c = collections.Counter()
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for role, content, meta in con.execute(
                "SELECT role, content_json, metadata_json FROM messages"):
            try:
                items = json.loads(content)
            except ValueError:
                continue
            try:
                visible = (json.loads(meta or "{}") or {}).get("userVisible", True) is not False
            except ValueError:
                visible = True
            for it in items if isinstance(items, list) else []:
                t = it.get("type")
                if t == "text" and nonempty(it.get("text")):
                    c["assistant" if role != "user" else "user" if visible else "system"] += 1
                elif (t == "thinking" and nonempty(it.get("thinking"))) or t == "toolRequest":
                    c["assistant"] += 1
                elif t == "toolResponse":
                    c["tool"] += 1
                elif t == "image":
                    c["system"] += 1
    finally:
        con.close()
    return c


# ---------------------------------------------------------------------------------------------


def copilot_blocks(path):
    """GitHub Copilot CLI `events.jsonl` (lines `{type, data, ...}`): a `user.message` with
    content is one user block; an `assistant.message` one block each for non-empty
    `reasoningText` and `content` and one per `toolRequests` entry; a `tool.execution_start`
    whose `toolCallId` no request named is a call the CLI made itself (one assistant block);
    each `tool.execution_complete` one tool block; `session.info`, `session.error`, `abort` and
    `session.compaction_complete` are the CLI's notices (system). `system.message` (the system
    prompt), turn markers, hooks and permissions are bookkeeping."""
    c = collections.Counter()
    requested = set()
    for line in _jsonl(path):
        t = line.get("type")
        d = line.get("data") or {}
        if t == "user.message" and nonempty(d.get("content")):
            c["user"] += 1
        elif t == "assistant.message":
            if nonempty(d.get("reasoningText")):
                c["assistant"] += 1
            if nonempty(d.get("content")):
                c["assistant"] += 1
            for r in d.get("toolRequests") or []:
                requested.add(r.get("toolCallId"))
                c["assistant"] += 1
        elif t == "tool.execution_start" and d.get("toolCallId") not in requested:
            c["assistant"] += 1
        elif t == "tool.execution_complete":
            c["tool"] += 1
        elif t in ("session.info", "session.error", "abort", "session.compaction_complete"):
            c["system"] += 1
    return c


def cursor_transcript_blocks(path):
    """Cursor agent transcripts (`agent-transcripts/<id>.jsonl`, lines `{role, message:
    {content}}`): a user line's text, split at its last `<user_query>` tag pair into the query
    (user, when non-empty) and what surrounds it (the attachments Cursor added: system, when
    non-empty), all of it the query when there is no tag; an assistant line one block per
    non-empty `text`, `thinking` or `reasoning` block and per `tool_use` block."""
    c = collections.Counter()
    for line in _jsonl(path):
        role = line.get("role")
        blocks = (line.get("message") or {}).get("content") or []
        if isinstance(blocks, str):
            blocks = [{"type": "text", "text": blocks}]
        if role == "user":
            text = "\n".join(b.get("text") or "" for b in blocks if b.get("type") == "text")
            start, end = text.rfind("<user_query>"), text.rfind("</user_query>")
            if start != -1 and end > start:
                query = text[start + len("<user_query>"):end]
                rest = text[:start] + text[end + len("</user_query>"):]
                if nonempty(rest):
                    c["system"] += 1
                if nonempty(query):
                    c["user"] += 1
            elif nonempty(text):
                c["user"] += 1
        elif role == "assistant":
            for b in blocks:
                t = b.get("type")
                if t == "text" and nonempty(b.get("text")):
                    c["assistant"] += 1
                elif t in ("thinking", "reasoning") and nonempty(
                        b.get("thinking") or b.get("text") or b.get("reasoning")):
                    c["assistant"] += 1
                elif t == "tool_use":
                    c["assistant"] += 1
    return c


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
            elif "/.qwen/projects/" in "/" + rel and "/chats/" in rel and f.endswith(".jsonl"):
                out.append(("qwen-code", p))
            elif "/.qwen/tmp/" in "/" + rel and (f == "logs.json" or f.startswith(
                    ("checkpoint-", "session-"))):
                out.append(("qwen-code", p))
            elif "/.pi/agent/sessions/" in "/" + rel and f.endswith(".jsonl"):
                out.append(("pi", p))
            elif "/.factory/sessions/" in "/" + rel and f.endswith(".jsonl"):
                out.append(("droid", p))
            elif "/.kiro/sessions/cli/" in "/" + rel and f.endswith(".jsonl"):
                out.append(("kiro", p))
            elif "/.continue/sessions/" in "/" + rel and f.endswith(".json") \
                    and f != "sessions.json":
                out.append(("continue", p))
            elif "/globalStorage/" in rel and "/tasks/" in rel and (
                    f == "api_conversation_history.json" or (
                        f == "ui_messages.json" and not os.path.exists(
                            os.path.join(dirpath, "api_conversation_history.json")))):
                ext = rel.split("/globalStorage/")[1].split("/")[0].lower()
                tool = {"saoudrizwan.claude-dev": "cline", "rooveterinaryinc.roo-cline":
                        "roo-code", "kilocode.kilo-code": "kilo-code"}.get(ext)
                if tool:
                    out.append((tool, p))
            elif "/amp/threads/" in "/" + rel and f.startswith("T-") and f.endswith(".json"):
                out.append(("amp", p))
            elif "/.local/share/opencode/" in "/" + rel and f.startswith("opencode") \
                    and f.endswith(".db"):
                out.append(("opencode", p))
            elif "/.local/share/opencode/storage/session/" in "/" + rel \
                    and f.startswith("ses_") and f.endswith(".json"):
                out.append(("opencode-storage", p))
            elif "/.local/share/goose/sessions/" in "/" + rel and f == "sessions.db":
                out.append(("goose", p))
            elif rel.endswith("/.crush/crush.db") or rel == ".crush/crush.db":
                out.append(("crush", p))
            elif "/.copilot/session-state/" in "/" + rel and f == "events.jsonl":
                out.append(("copilot", p))
            elif "/.cursor/projects/" in "/" + rel and "/agent-transcripts/" in rel \
                    and f.endswith(".jsonl"):
                out.append(("cursor-transcript", p))
            elif "/Cursor/User/globalStorage/" in "/" + rel and f == "state.vscdb":
                out.append(("cursor", p))
            elif "/.local/share/kilo/" in "/" + rel and f.startswith("kilo") and f.endswith(".db"):
                out.append(("kilo", p))
    return out


READERS = {
    "claude-code": claude_blocks,
    "codex": codex_items,
    "gemini": gemini_blocks,
    "aider": aider_blocks,
    "qwen-code": qwen_blocks,
    "pi": pi_blocks,
    "droid": droid_blocks,
    "kiro": kiro_blocks,
    "continue": continue_blocks,
    "cline": cline_blocks,
    "roo-code": cline_blocks,
    "kilo-code": cline_blocks,
    "amp": amp_blocks,
    "opencode": opencode_blocks,
    "opencode-storage": opencode_storage_blocks,
    "kilo": opencode_blocks,
    "cursor": cursor_vscdb_blocks,
    "crush": crush_blocks,
    "goose": goose_blocks,
    "copilot": copilot_blocks,
    "cursor-transcript": cursor_transcript_blocks,
}

# The reader names that are not lore's tool names.
LORE_TOOL = {"opencode-storage": "opencode", "cursor-transcript": "cursor"}


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
        except (ValueError, OSError, AttributeError, TypeError, sqlite3.Error) as e:
            reader = None
            why = f"reader failed: {e}"
        got, note = lore_counts(a.lore, path, LORE_TOOL.get(tool, tool))
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
