"""The per-key load model (run by `cargo test -p loadgen`, so `make test` runs it too):
python3 infra/cost/test_partition_load.py"""

import contextlib
import io
import json
import math
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

    def test_the_list_hint_gate_pays_for_every_refused_claim(self):
        load = model.Model(MIX, PROJECTIONS).load()
        # A 2 s turn: on each of 32 shards a batch finds it taken (a refused claim and a miss),
        # waits for its end and claims again; one claim in all wins. Every one writes a unit
        # (a refused conditional write still consumes the item's write units): 3 per shard per
        # turn.
        self.assertAlmostEqual(load[("table", "PUSH")]["write"], 32 * 3 / 2)
        self.assertEqual(load[("table", "PUSH")]["read"], 0)
        self.assertEqual(model.flagged(load[("table", "PUSH")]), [])
        # It passes a third of the write limit past 333 writes a second: 223 shards.
        wide = dict(MIX["traffic"], stream_shards=223)
        gate = model.Model(dict(MIX, traffic=wide), PROJECTIONS).load()[("table", "PUSH")]
        self.assertIn("writes > 333/s", model.flagged(gate))

    def test_every_agents_connection_is_read_once_per_list_hint(self):
        load = model.Model(MIX, PROJECTIONS).load()
        # One hint every 2 s reads 2,500 agent connections of 270 bytes (GSI2 projects all):
        # 675,000 bytes, 165 units, halved as eventually consistent.
        self.assertAlmostEqual(load[("GSI2", "CONNS#AGENTS")]["read"], 0.5 * 165 / 2)
        # Each agent connects once an hour: a put and a later removal of a 370-byte entry.
        self.assertAlmostEqual(load[("GSI2", "CONNS#AGENTS")]["write"], 2500 / 3600 * 2)
        self.assertEqual(model.flagged(load[("GSI2", "CONNS#AGENTS")]), [])
        # The read passes a third of its limit only past 4,000 units a hint: about 60,700 agents.
        for agents, flags in ((60600, []), (60700, ["reads > 1000/s"])):
            many = dict(MIX["traffic"], concurrent_chats=4 * agents)
            hinted = model.Model(dict(MIX, traffic=many), PROJECTIONS).load()[("GSI2", "CONNS#AGENTS")]
            self.assertEqual(model.flagged(hinted), flags, agents)

    def test_tickets_and_connections_live_on_keys_of_their_own(self):
        load = model.Model(MIX, PROJECTIONS).load()
        started = 10000 / 600
        # A ticket key takes, within its second, its put, the connect's read and the
        # transaction's delete (2 units).
        self.assertAlmostEqual(load[("table", "TICKET#<hash>")]["write"], 1 + 2)
        self.assertAlmostEqual(load[("table", "TICKET#<hash>")]["read"], 1)
        # A connection's lookup: its transactional put (2), and its transactional delete (2):
        # by a $disconnect, or by the chat's end (then the $disconnect finds no lookup and
        # writes nothing); over 12,500 open connections (10,000 apps and 2,500 dashboards).
        connects = started * 2 + 2500 / 3600
        writes = connects * 2 + (started + 2500 / 3600) * 2 + started * (2 + 0)
        self.assertAlmostEqual(load[("table", "CONN#<connectionId>")]["write"], writes / 12500)
        # One chat's connections partition: a half-unit Query per change posted to the
        # customer (150 replies, 450 typing signals, 196 read markers, claims, transfers,
        # releases and ends), as if each came in a batch of its own, and the end's strong
        # read; two transactional connection puts, one deleted by $disconnect and one forgotten
        # at the end (each delete in a transaction: 2 units).
        posted = 150 + 450 + (started * 2.75 + 150) + started * 1.15 + started
        conns = load[("table", "CONNS#SESSION#<id>")]
        self.assertAlmostEqual(conns["read"], (posted * 0.5 + started * 1) / 10000)
        self.assertAlmostEqual(conns["write"], (started * 2 * 2 + started * 2 + started * 2) / 10000)
        # One agent's: the holder's connections read per event posted to it (about 936 a
        # second across 2,500 agents, half a unit each).
        self.assertLess(load[("table", "CONNS#ADMIN#<admin>")]["read"], 1)
        # The chat's own partition gains the connects' session check (2 units each), the
        # ticket's session read and, at most, the consumer's session read per message.
        push = ("push_", "fanout_")
        silent = {n: dict(o, accesses=[]) if n.startswith(push) else o for n, o in MIX["operations"].items()}
        chat_before = model.Model(dict(MIX, operations=silent), PROJECTIONS).load()[("table", "SESSION#<id>")]
        chat = load[("table", "SESSION#<id>")]
        self.assertAlmostEqual(chat["write"] - chat_before["write"], started * 2 * 2 / 10000)
        self.assertAlmostEqual(chat["read"] - chat_before["read"], (started * 2 + 300) / 10000)
        for key in (("table", "TICKET#<hash>"), ("table", "CONN#<connectionId>"),
                    ("table", "CONNS#SESSION#<id>"), ("table", "CONNS#ADMIN#<admin>")):
            self.assertEqual(model.flagged(load[key]), [], key)

    def test_the_assumed_stream_shards_serve_the_tables_throughput(self):
        # One open shard per partition: the partitions this traffic needs (3,000 read or 1,000
        # write units/s each) must not outnumber the shards the PUSH row assumes.
        priced = model.Model(MIX, PROJECTIONS)
        units = priced.throughput()
        partitions = units["read"] / model.READ_LIMIT + units["write"] / model.WRITE_LIMIT
        self.assertLessEqual(math.ceil(partitions), MIX["traffic"]["stream_shards"])
        self.assertGreater(partitions, MIX["traffic"]["stream_shards"] / 2, "not a loose guess either")
        self.assertAlmostEqual(priced.partitions(), partitions)

    def test_more_traffic_assumes_more_shards_and_so_more_refused_claims(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            model.main(["--chats", "20000", "--polls-per-s", "10000", "--sends-per-s", "600", "--json"])
        rows = {(r["store"], r["partition"]): r for r in json.loads(out.getvalue())}
        # About 61.1 partitions' worth of traffic: 62 shards, 3 gate writes each per 2 s turn.
        self.assertAlmostEqual(rows[("table", "PUSH")]["write"], 62 * 3 / 2)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            model.main(["--shards", "16", "--json"])
        rows = {(r["store"], r["partition"]): r for r in json.loads(out.getvalue())}
        self.assertAlmostEqual(rows[("table", "PUSH")]["write"], 16 * 3 / 2)

    def test_a_ping_costs_no_dynamodb(self):
        self.assertEqual(model.Model(MIX, PROJECTIONS).per_operation("push_ping"), {"read": 0.0, "write": 0.0})
        self.assertAlmostEqual(model.rates(MIX["traffic"])["push_ping"], 12500 / 300)

    def test_the_table_prints_every_key(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            model.main(["--chats", "10000"])
        text = out.getvalue()
        keys = ("COUNTER", "SESSION#<id>", "ACTIVE", "WAITING", "PRESENCE", "ACTIVITY",
                "STATS#<today>#<shard>", "UNASSIGNED", "ASSIGNEE#<admin>", "CANNED", "ADMIN",
                "PUSH", "TICKET#<hash>", "CONN#<connectionId>", "CONNS#SESSION#<id>",
                "CONNS#ADMIN#<admin>", "CONNS#AGENTS")
        for key in keys:
            self.assertIn(f"| {key} |", text)


if __name__ == "__main__":
    unittest.main()
