"""The per-key load model (run by `cargo test -p loadgen`, so `make test` runs it too):
python3 infra/cost/test_partition_load.py"""

import contextlib
import io
import json
import unittest

import partition_load as model

MIX = json.loads((model.ROOT / "infra/cost/request_mix.json").read_text())
PROJECTIONS = model.template_projections(model.ROOT / "template.yaml")


class MixTest(unittest.TestCase):
    def test_the_template_projects_the_session_indexes_keys_only(self):
        self.assertEqual(PROJECTIONS["GSI1"], "KEYS_ONLY")
        self.assertEqual(PROJECTIONS["GSI3"], "KEYS_ONLY")
        self.assertEqual(PROJECTIONS["GSI4"], "KEYS_ONLY")
        self.assertEqual(PROJECTIONS["GSI2"], "ALL")

    def test_the_model_prices_each_operation_as_the_local_server_measured_it(self):
        # The test's scene (tests/api/load_model.rs): one session listed, nobody waiting when
        # it ends, two agents, no canned replies. There, the model's units must be the
        # measured ones the mix records.
        scene = dict(
            MIX["traffic"],
            waiting_share=0,
            active_list_page=1,
            waiting_list_page=1,
            agents=2,
            canned_replies=0,
        )
        priced = model.Model(dict(MIX, traffic=scene), PROJECTIONS)
        for name, operation in MIX["operations"].items():
            with self.subTest(name):
                self.assertEqual(priced.per_operation(name), operation["measured_units"])

    def test_every_operation_has_a_rate(self):
        self.assertEqual(set(model.rates(MIX["traffic"])), set(MIX["operations"]))


class LoadTest(unittest.TestCase):
    def test_a_hand_checked_key(self):
        # COUNTER: 2 transactional writes of 1 unit per started chat (create and end), at
        # 10,000 chats of 10 minutes; read by every list page, eventually consistent.
        load = model.Model(MIX, PROJECTIONS).load()
        started = 10000 / 600
        self.assertAlmostEqual(load[("table", "COUNTER")]["write"], 2 * 2 * started)
        lists = 2500 / 5 * (1 + 2)  # the active list, and two pages of the waiting list
        self.assertAlmostEqual(load[("table", "COUNTER")]["read"], lists * 0.5)
        # One chat's own partition: its 2 s poll alone is half a read unit a second.
        self.assertGreater(load[("table", "SESSION#<id>")]["read"], 0.5)

    def test_keys_only_takes_the_session_updates_off_the_active_partition(self):
        after = model.Model(MIX, PROJECTIONS).load()
        mix, projections = model.with_before(MIX, PROJECTIONS)
        before = model.Model(mix, projections).load()
        self.assertIn("writes > 333/s", model.flagged(before[("GSI1", "ACTIVE")]))
        self.assertIn("writes > 333/s", model.flagged(before[("GSI3", "PRESENCE")]))
        # After: only starts and ends move the ACTIVE index (1 write each).
        self.assertAlmostEqual(after[("GSI1", "ACTIVE")]["write"], 2 * 10000 / 600)
        self.assertEqual(model.flagged(after[("GSI1", "ACTIVE")]), [])
        self.assertEqual(model.flagged(after[("GSI3", "PRESENCE")]), [])
        for key in after:
            self.assertLess(after[key]["write"], model.WRITE_LIMIT * model.FLAG_SHARE, key)

    def test_each_list_instance_reads_a_shared_lists_head_once_a_second(self):
        load = model.Model(MIX, PROJECTIONS).load()
        # 2,500 dashboards refresh every 5 s: 500 active-list and 1,000 waiting-list requests
        # a second at 50 ms each keep 75 instances busy. Each reads the head of each shared
        # list (198 keys of 120 bytes: 23,760 bytes, 6 units, halved as eventually
        # consistent) once a second, instead of 500 refreshes x two 99-key pages (1.5 units
        # each) on WAITING.
        instances = (500 + 1000) * 0.050
        self.assertAlmostEqual(load[("GSI4", "WAITING")]["read"], instances * 3)
        self.assertAlmostEqual(load[("GSI1", "ACTIVE")]["read"], instances * 3)
        for key in load:
            self.assertLess(load[key]["read"], model.READ_LIMIT * model.FLAG_SHARE, key)
        # 25 dashboards (5 refreshes a second) keep one instance busy: one head read a second.
        few = model.Model(dict(MIX, traffic=dict(MIX["traffic"], concurrent_chats=100)), PROJECTIONS)
        self.assertAlmostEqual(few.load()[("GSI4", "WAITING")]["read"], 1 * 3)

    def test_a_counter_shard_takes_a_sixteenth_of_the_counted_events(self):
        load = model.Model(MIX, PROJECTIONS).load()
        started = 10000 / 600
        # Starts, ends and ratings (one each per chat) and every message: 2 units each
        # (transactional), spread over today's 16 shards.
        events = 3 * started + 150 + 150
        self.assertAlmostEqual(load[("table", "STATS#<today>#<shard>")]["write"], events * 2 / 16)
        # Each agent's panel reads every shard of the 7 days once a minute, eventually consistent.
        summaries = 2500 / 60
        self.assertAlmostEqual(load[("table", "STATS#<today>#<shard>")]["read"], summaries * 0.5)
        self.assertAlmostEqual(load[("table", "STATS#<past day>#<shard>")]["read"], summaries * 0.5)

    def test_the_unassigned_partition_takes_every_start_and_every_claim(self):
        load = model.Model(MIX, PROJECTIONS).load()
        started = 10000 / 600
        # Put on start and on release, removed on claim (by button or first reply) and on the
        # unassigned ends: 1 unit each (a keys-only entry).
        writes = started * (1 + 0.05 + 1 + 0.1)
        self.assertAlmostEqual(load[("GSI5", "UNASSIGNED")]["write"], writes)
        self.assertEqual(model.flagged(load[("GSI5", "UNASSIGNED")]), [])

    def test_the_table_prints_every_key(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            model.main(["--chats", "10000"])
        text = out.getvalue()
        keys = ("COUNTER", "SESSION#<id>", "ACTIVE", "WAITING", "PRESENCE", "ACTIVITY",
                "STATS#<today>#<shard>", "UNASSIGNED", "ASSIGNEE#<admin>", "CANNED", "ADMIN")
        for key in keys:
            self.assertIn(f"| {key} |", text)


if __name__ == "__main__":
    unittest.main()
