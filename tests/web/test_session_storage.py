"""Session storage layout on a real diskcache store with a real engine simulator: the stored parts reassemble
into exactly the engine's state, a tick writes a constant number of small values, a lost part is reported."""
from __future__ import annotations

import json

import pytest

from dashapp import engine_facade as E
from dashapp.platform import session_storage as S
from dashapp.platform.session_ids import new_session_id
from dashapp.platform.store import DiskSessionStore
from dashapp.ui.policy_fields import field_specs
from dashapp.ui.validation import DEFAULT_CONTROLS, clean_controls


class CountingStore(DiskSessionStore):
    """The real diskcache store, counting what each save writes."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.writes: list[tuple[str, int]] = []

    def put(self, key, value):
        self.writes.append((key, len(json.dumps(value))))
        super().put(key, value)

    def put_many(self, items, delete=()):
        self.writes.extend((key, len(json.dumps(value))) for key, value in items.items())
        super().put_many(items, delete)


@pytest.fixture
def store(tmp_path):
    s = CountingStore(str(tmp_path / "s"), 64 * 2**20, 600)
    yield s
    s.close()


def _sim(days=120):
    c = clean_controls(dict(DEFAULT_CONTROLS, forecaster="ma7", demand_mode="synthetic", horizon=days),
                       {"ma7"}, E.policy_options(), {k: b for k, (_l, _s, b) in field_specs().items()})
    return c, E.build_simulator(None, "x", c)


def test_parts_reassemble_into_the_engine_state_and_ticks_write_constant_sizes(store):
    sid = new_session_id()
    controls, sim = _sim()
    rec = S.new_record(controls)
    S.save_session(store, sid, rec, sim, new_run=True)
    sizes = []
    for _day in range(1, 101):
        store.writes.clear()
        sim.step()
        S.save_session(store, sid, rec, sim)
        sizes.append(sum(n for _, n in store.writes))
        assert len(store.writes) == 3  # last ledger chunk, state, record
    # bounded by one chunk (32 rows), not by the day: days 65..96 write what days 1..32 wrote
    assert max(sizes[64:96]) < 1.1 * max(sizes[:32])
    state = S.load_state(store, sid, store.get(sid))
    assert state == json.loads(json.dumps(sim.to_state()))
    S._live.clear()  # another process: rebuild from the store and continue identically
    other = S.live_simulator(store, sid, store.get(sid))
    a, b = other.step(), sim.step()
    assert a == b


def test_lost_part_is_session_expired(store):
    sid = new_session_id()
    controls, sim = _sim()
    rec = S.new_record(controls)
    sim.run(40)
    S.save_session(store, sid, rec, sim, new_run=True)
    store.delete(f"{sid}:ledger:{rec['run_key']}:0")
    S._live.clear()
    with pytest.raises(S.SessionExpired):
        S.load_rows(store, sid, store.get(sid))
    with pytest.raises(S.SessionExpired):
        S.live_simulator(store, sid, store.get(sid))
