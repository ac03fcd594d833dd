"""A headless Dash browser session over plain HTTP: the requests dash-renderer sends, without a browser.

Why: the load test and the fault/bad-input/security tests must send *the same callback requests the page sends*
(start, ticks, pause, upload) — at a rate and in numbers a real Chromium cannot reach on 2 cores. This module plays
the renderer's part: it reads the layout (`/_dash-layout`) and the callback graph (`/_dash-dependencies`), keeps the
current value of every component property, mounts `dcc.Location` (which fires the pages router), fires the
initial callbacks of every layout chunk, sends all inputs and states of a callback exactly as dash-renderer does,
applies responses (including `dash.Patch` operations), and follows chained callbacks.

Limits (documented, not hidden): clientside callbacks are not executed (their outputs keep their values);
pattern-matching (dict) ids are supported for exact ids only (no ALL/MATCH expansion).
Loopback only: a base URL that is not 127.0.0.1/localhost/::1 is refused.
"""
from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from typing import Any, Iterable
from urllib.parse import urlsplit

import requests

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def require_loopback(url: str) -> str:
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise ValueError(f"refusing {url!r}: this tool only talks to loopback (127.0.0.1), not {host!r}")
    return url.rstrip("/")


def stringify_id(id_: Any) -> str:
    """Dash's string form of a component id (dict ids: sorted-key JSON, as dash._utils.stringify_id)."""
    if isinstance(id_, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{json.dumps(id_[k])}" for k in sorted(id_)) + "}"
    return str(id_)


def split_output(output: str) -> list[tuple[str, str]]:
    """'..a.x...b.y..' or 'a.x' -> [(id, prop), ...]; the '@hash' of allow_duplicate is dropped."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    out = []
    for p in parts:
        cid, prop = p.rsplit(".", 1)
        out.append((cid, prop.split("@")[0]))
    return out


def is_component(obj: Any) -> bool:
    return isinstance(obj, dict) and "type" in obj and "namespace" in obj and "props" in obj


def apply_patch(value: Any, patch: dict, copy_value: bool = True) -> Any:
    """Apply a serialised dash.Patch the way dash-renderer does (common operations); ``copy_value=False``
    patches ``value`` in place (the session owns its values: no deep copy of growing figures per tick)."""
    root = (copy.deepcopy(value) if copy_value else value) if value is not None else {}
    for op in patch.get("operations", []):
        loc, params, name = op["location"], op.get("params", {}), op["operation"]
        if name in ("Assign", "Delete") and loc:
            parent = root
            for key in loc[:-1]:
                parent = parent[key]
            if name == "Assign":
                if isinstance(parent, list) and loc[-1] == len(parent):
                    parent.append(params["value"])
                else:
                    parent[loc[-1]] = params["value"]
            else:
                del parent[loc[-1]]
            continue
        if not loc and name == "Assign":
            root = params["value"]
            continue
        target = root
        for key in loc:
            target = target[key]
        v = params.get("value")
        if name == "Append":
            target.append(v)
        elif name == "Prepend":
            target.insert(0, v)
        elif name == "Extend":
            target.extend(v)
        elif name == "Insert":
            target.insert(params["index"], v)
        elif name == "Clear":
            target.clear()
        elif name == "Reverse":
            target.reverse()
        elif name == "Remove":
            target.remove(v)
        elif name == "Merge":
            target.update(v)
        elif name in ("Add", "Sub", "Mul", "Div"):
            parent = root
            for key in loc[:-1]:
                parent = parent[key]
            cur = parent[loc[-1]]
            parent[loc[-1]] = {"Add": cur + v if cur is not None else v, "Sub": (cur or 0) - v,
                               "Mul": (cur or 0) * v, "Div": (cur or 0) / v}[name]
        else:
            raise ValueError(f"unsupported patch operation {name}")
    return root


@dataclass
class Call:
    """One callback request as sent and answered (for latency and error accounting)."""

    output: str
    status: int
    ms: float
    nbytes: int
    changed: list[str]
    error: str = ""


@dataclass
class DashSession:
    """One browser tab: its own cookie jar, its own component values, its own callback history."""

    base: str
    timeout: float = 15.0
    http: requests.Session = field(default_factory=requests.Session)
    values: dict[tuple[str, str], Any] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    deps: list[dict] | None = None
    follow_chains: bool = True
    max_chain: int = 50
    browser_storage: dict[str, Any] = field(default_factory=dict)  # dcc.Store session/local data across loads

    def __post_init__(self) -> None:
        self.base = require_loopback(self.base)
        self.http.trust_env = False  # loopback only: no proxy lookups from the environment per request

    # ---- page load ---------------------------------------------------------------------------------------
    def load(self, path: str = "/", deps: list[dict] | None = None) -> None:
        """GET the page, its layout and callback graph, mount Location, fire initial callbacks (as on load)."""
        r = self.http.get(self.base + path, timeout=self.timeout)
        r.raise_for_status()
        self.deps = deps if deps is not None else self.get_json("/_dash-dependencies")
        layout = self.get_json("/_dash-layout")
        self.values.clear()
        self.types.clear()
        new_ids = self._register(layout)
        self._restore_storage()
        location_changes = []
        for cid, ctype in self.types.items():
            if ctype == "Location":
                for prop, val in (("pathname", path.split("?")[0]), ("search", ""), ("hash", ""),
                                  ("href", self.base + path)):
                    if self.values.get((cid, prop)) != val:
                        self.values[(cid, prop)] = val
                        location_changes.append(f"{cid}.{prop}")
        self._run(self._initial_for(new_ids), location_changes)

    def _restore_storage(self) -> None:
        """dcc.Store(storage_type='session'|'local') keeps its data over a reload, like the browser's storage."""
        for cid, ctype in self.types.items():
            if ctype == "Store" and self.values.get((cid, "storage_type")) in ("session", "local") \
                    and cid in self.browser_storage:
                self.values[(cid, "data")] = self.browser_storage[cid]

    def _save_storage(self, cid: str) -> None:
        if self.types.get(cid) == "Store" and self.values.get((cid, "storage_type")) in ("session", "local"):
            self.browser_storage[cid] = self.values.get((cid, "data"))

    def get_json(self, path: str) -> Any:
        r = self.http.get(self.base + path, timeout=self.timeout)
        r.raise_for_status()
        return r.json()

    def _register(self, tree: Any) -> set[str]:
        """Record every component's props; return the ids found."""
        found: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, list):
                for n in node:
                    walk(n)
            elif is_component(node):
                props = node["props"]
                cid = props.get("id")
                if cid is not None:
                    sid = stringify_id(cid)
                    found.add(sid)
                    self.types[sid] = node["type"]
                    for k, v in props.items():
                        self.values[(sid, k)] = v
                for v in props.values():
                    if isinstance(v, (list, dict)):
                        walk(v)
        walk(tree)
        return found

    # ---- callbacks ---------------------------------------------------------------------------------------
    def callbacks(self) -> list[dict]:
        assert self.deps is not None, "load() first"
        return self.deps

    def find(self, input: str | None = None, output: str | None = None) -> dict:
        """The callback with input 'id.prop' and/or output 'id.prop' (server-side callbacks only)."""
        hits = []
        for cb in self.callbacks():
            if cb.get("clientside_function"):
                continue
            ins = {f"{stringify_id(i['id'])}.{i['property']}" for i in cb["inputs"]}
            outs = {f"{c}.{p}" for c, p in split_output(cb["output"])}
            if (input is None or input in ins) and (output is None or output in outs):
                hits.append(cb)
        if not hits:
            raise LookupError(f"no server callback with input={input} output={output}")
        return hits[0]

    def _initial_for(self, new_ids: set[str]) -> list[dict]:
        """Callbacks dash-renderer fires when these components appear (not prevent_initial_call)."""
        out = []
        for cb in self.callbacks():
            if cb.get("prevent_initial_call") or cb.get("clientside_function"):
                continue
            ids = {stringify_id(i["id"]) for i in cb["inputs"]} | {c for c, _ in split_output(cb["output"])}
            if not ids & new_ids:
                continue
            if all((stringify_id(i["id"]), i["property"]) in self.values or stringify_id(i["id"]) in self.types
                   for i in cb["inputs"]):
                out.append(cb)
        return out

    def _triggered_by(self, changed: Iterable[str]) -> list[dict]:
        ch = set(changed)
        return [cb for cb in self.callbacks() if not cb.get("clientside_function")
                and any(f"{stringify_id(i['id'])}.{i['property']}" in ch for i in cb["inputs"])]

    def _dep_values(self, deps: list[dict]) -> list[dict]:
        out = []
        for d in deps:
            sid = stringify_id(d["id"])
            entry = {"id": d["id"], "property": d["property"]}
            val = self.values.get((sid, d["property"]))
            if val is not None:
                entry["value"] = val
            out.append(entry)
        return out

    def request_body(self, cb: dict, changed: list[str]) -> dict:
        outs = [{"id": c, "property": p} for c, p in split_output(cb["output"])]
        return {
            "output": cb["output"],
            "outputs": outs if cb["output"].startswith("..") else outs[0],
            "inputs": self._dep_values(cb["inputs"]),
            "state": self._dep_values(cb.get("state", [])),
            "changedPropIds": changed,
        }

    def post(self, body: dict) -> requests.Response:
        """Send one raw callback request (forged bodies too) and account for it."""
        t0 = time.perf_counter()
        try:
            r = self.http.post(self.base + "/_dash-update-component", json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            self.calls.append(Call(body.get("output", "?"), 0, (time.perf_counter() - t0) * 1e3, 0,
                                   body.get("changedPropIds", []), f"{type(exc).__name__}: {exc}"))
            raise
        ms = (time.perf_counter() - t0) * 1e3
        err = "" if r.status_code in (200, 204) else r.text[:300]
        self.calls.append(Call(body.get("output", "?"), r.status_code, ms, len(r.content),
                               body.get("changedPropIds", []), err))
        return r

    def fire(self, cb: dict, changed: list[str]) -> tuple[requests.Response, list[str], set[str]]:
        """Call one callback; apply its response; return (response, changed props, new component ids)."""
        r = self.post(self.request_body(cb, changed))
        changed_out: list[str] = []
        new_ids: set[str] = set()
        if r.status_code == 200:
            data = r.json()
            for cid, props in data.get("response", {}).items():
                for prop, val in props.items():
                    key = (cid, prop)
                    if isinstance(val, dict) and val.get("__dash_patch_update"):
                        try:
                            val = apply_patch(self.values.get(key), val, copy_value=False)
                        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
                            val = self.values.get(key)  # the renderer would log; values stay usable
                    self.values[key] = val
                    changed_out.append(f"{cid}.{prop}")
                    if prop == "data":
                        self._save_storage(cid)
                    if prop == "children" or _has_component(val):  # only these can carry components
                        found = self._register(val)
                        new_ids |= found
                        if found:
                            self._restore_storage()
            # set_props side updates arrive under "sideUpdate"
            for cid, props in (data.get("sideUpdate") or {}).items():
                for prop, val in props.items():
                    self.values[(cid, prop)] = val
                    changed_out.append(f"{cid}.{prop}")
        elif r.status_code != 204:
            pass
        return r, changed_out, new_ids

    def _run(self, initial: list[dict], changed: list[str]) -> None:
        """Fire initial callbacks and those triggered by ``changed``, following chains like the renderer."""
        queue: list[tuple[dict, list[str]]] = [(cb, []) for cb in initial]
        for cb in self._triggered_by(changed):
            queue.append((cb, [c for c in changed if c in _input_keys(cb)]))
        steps = 0
        while queue and steps < self.max_chain:
            cb, ch = _merge_first(queue)
            steps += 1
            _, out_changed, new_ids = self.fire(cb, ch)
            if not self.follow_chains:
                continue
            queue.extend((c, []) for c in self._initial_for(new_ids))
            for nxt in self._triggered_by(out_changed):
                queue.append((nxt, [c for c in out_changed if c in _input_keys(nxt)]))

    def trigger(self, prop: str, value: Any, extra: dict[str, Any] | None = None) -> requests.Response | None:
        """The user changes ``prop`` ('id.prop') to ``value`` (e.g. a click: n_clicks+1); fire what follows.

        Returns the response of the first callback fired (the one the user's action triggers directly)."""
        for k, v in (extra or {}).items():
            cid, p = k.rsplit(".", 1)
            self.values[(cid, p)] = v
        cid, p = prop.rsplit(".", 1)
        self.values[(cid, p)] = value
        first = self._triggered_by([prop])
        if not first:
            raise LookupError(f"no server callback listens to {prop}")
        n0 = len(self.calls)
        resp = None
        queue: list[tuple[dict, list[str]]] = [(cb, [prop]) for cb in first]
        steps = 0
        while queue and steps < self.max_chain:
            cb, ch = _merge_first(queue)
            steps += 1
            r, out_changed, new_ids = self.fire(cb, ch)
            if resp is None:
                resp = r
            if not self.follow_chains:
                continue
            queue.extend((c, []) for c in self._initial_for(new_ids))
            for nxt in self._triggered_by(out_changed):
                queue.append((nxt, [c for c in out_changed if c in _input_keys(nxt)]))
        assert len(self.calls) > n0
        return resp

    def click(self, button_id: str) -> requests.Response | None:
        n = (self.values.get((button_id, "n_clicks")) or 0) + 1
        return self.trigger(f"{button_id}.n_clicks", n, {f"{button_id}.n_clicks_timestamp": int(time.time() * 1e3)})

    def get(self, cid: str, prop: str) -> Any:
        return self.values.get((cid, prop))

    def text(self, cid: str) -> str:
        """The visible text of a component's children (strings joined), like element.text in a browser."""
        return _text(self.values.get((cid, "children")))


def _has_component(v: Any) -> bool:
    return is_component(v) or (isinstance(v, list) and any(is_component(x) for x in v))


def _text(node: Any) -> str:
    if node is None:
        return ""
    if isinstance(node, (str, int, float)):
        return str(node)
    if isinstance(node, list):
        return " ".join(t for t in (_text(n) for n in node) if t)
    if is_component(node):
        return _text(node["props"].get("children"))
    return ""


def _input_keys(cb: dict) -> set[str]:
    return {f"{stringify_id(i['id'])}.{i['property']}" for i in cb["inputs"]}


def _merge_first(queue: list[tuple[dict, list[str]]]) -> tuple[dict, list[str]]:
    """Pop the first queued callback, merging later queued triggers of the same callback into one call."""
    cb, ch = queue.pop(0)
    merged = list(ch)
    rest = []
    for other, och in queue:
        if other["output"] == cb["output"]:
            merged += [c for c in och if c not in merged]
        else:
            rest.append((other, och))
    queue[:] = rest
    return cb, merged
