"""A CSV uploaded on the simulator page: decoded, read by the engine's one loader with the mapping step (the
columns detected from the header; a role detection cannot decide, such as two possible demand columns, is asked
back with its candidates), kept in the session's store entry. No dash here; the callback shows the message and,
when `choices` is set, a dropdown per undecided role whose pick comes back as `columns`."""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from dashapp import engine_facade as E
from dashapp.platform.session_ids import valid_session_id
from dashapp.platform.store import StoreUnavailable
from dashapp.platform.upload_keys import merge_message, merged_key_columns


@dataclass
class UploadResult:
    message: str
    accepted: bool  # True: the file is kept and the page switches its data source to it
    needs_mapping: bool = False  # refused because its item/location columns need mapping (/portfolio)
    choices: dict | None = None  # role -> candidate columns the user picks from (the mapping step)


def _refused(text: str) -> UploadResult:
    return UploadResult(text, False)


class UploadRefused(ValueError):
    """A data-URL upload that is not a usable file; the message names the file and what is wrong."""


def file_name(filename) -> str:
    """The file's own name (no client path), at most 120 characters."""
    name = filename if isinstance(filename, str) and filename else "upload.csv"
    return name.replace("\\", "/").rsplit("/", 1)[-1][:120]


def decode_data_url(contents, name: str, max_bytes: int) -> bytes:
    """The bytes of a browser upload (a base64 data URL) no larger than max_bytes; UploadRefused otherwise."""
    if not isinstance(contents, str) or "," not in contents:
        raise UploadRefused(f"{name}: not a file upload")
    b64 = contents.split(",", 1)[1]
    if len(b64) * 3 // 4 > max_bytes + 3:
        raise UploadRefused(f"{name}: the file is larger than the {max_bytes / 2**20:.0f} MB upload limit; "
                            "nothing was loaded")
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise UploadRefused(f"{name}: the upload is not valid base64 data") from None


def pick_question(name: str, role: str, columns: list[str]) -> str:
    """The mapping step's question: names every candidate column and what to do."""
    names = " and ".join(repr(c) for c in columns)
    return (f"{name}: {len(columns)} columns could be the {role}: {names}. Pick the {role} column below; "
            "nothing was loaded yet.")


def accept_upload(store, sid, contents, filename, max_bytes: int, columns: dict | None = None) -> UploadResult:
    """Read a data-URL upload with the engine (columns: roles the user picked in the mapping step) and keep it
    for this session (a running run is untouched)."""
    name = file_name(filename)
    if not valid_session_id(sid):
        return _refused("No session yet: reload the page.")
    try:
        raw = decode_data_url(contents, name, max_bytes)
    except UploadRefused as exc:
        return _refused(str(exc))
    try:
        mapping = E.upload_layout(raw, name, columns)
    except E.USER_ERRORS as exc:
        return _refused(f"Upload refused — {exc}")
    for role, cols in mapping.ambiguous.items():  # never resolved by a guess: the user picks
        if getattr(mapping, role) is None:
            return UploadResult(pick_question(name, role, cols), False, needs_mapping=True, choices={role: cols})
    if mapping.demand is None and mapping.unused:  # no column named like a demand: the user names it
        return UploadResult(f"{name}: no column looks like the demand (units per day). Pick the demand column "
                            "below; nothing was loaded yet.", False, needs_mapping=True,
                            choices={"demand": list(mapping.unused)})
    merged = merged_key_columns(raw, mapping)
    if merged:  # never merge several items or locations into one series silently
        return UploadResult(merge_message(name, merged), False, needs_mapping=True)
    try:
        ds = E.load_upload(raw, name, mapping)
        summary = ds.summary()
        E.keep_upload(store, sid, ds)
    except E.USER_ERRORS as exc:
        return _refused(f"Upload refused — {exc}")
    except StoreUnavailable as exc:
        return _refused(f"Upload not kept — session store unavailable: {exc}")
    dates = summary.get("date_range")
    return UploadResult(f"{name}: {len(summary['series'])} series, {summary['rows']} rows"
                        + (f", {dates[0]} to {dates[1]}" if dates else "") + ". Choose a series and press Start.",
                        True)


def series_names(store, sid, source: str) -> list[str]:
    """The series the Series dropdown offers: of this session's upload, or of the bundled sample."""
    if source == "upload" and valid_session_id(sid):
        stored = store.get(E.upload_key(sid))
        return list(stored["series"]) if stored else []
    return list(E.sample_dataset().series)
