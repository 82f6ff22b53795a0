"""Reads and writes per second on every DynamoDB partition key at a given traffic, in capacity
units, from the per-operation request mix in infra/cost/request_mix.json (its request counts are
asserted against the API by tests/api/load_model.rs) and the index projections of template.yaml.

    python3 infra/cost/partition_load.py [--mix infra/cost/request_mix.json] [--before]
        [--chats 10000] [--polls-per-s 5000] [--sends-per-s 300] [--shards 32] [--json]

One row per partition key: the table's fixed keys (COUNTER, CANNED, PUSH, ...), one chat's
SESSION#<id>, one agent's keys (ADMIN#<admin>, ASSIGNEE#<admin>, ...), one of the day's 16
analytics counter shards, one push ticket's TICKET#<hash> and one connection's
CONN#<connectionId> (the kind's total divided by chats, agents, shards, or the tickets and
connections alive at once), and each index's partitions (UNASSIGNED and ASSIGNEE#<admin> on the
assignee index, CONNS#AGENTS on GSI2). A key is flagged when it passes a third of DynamoDB's per-partition
limits (1,000 write units/s, 3,000 read units/s). `--before` shows the design before the keys-only indexes
(the mix's `before_issue_14`: ACTIVE and WAITING projecting every attribute).

Units (as infra/dynamodb_capacity.py, which the local DynamoDB server uses): reads 4 KB per
unit, per item for GetItem/BatchGetItem, summed for a Query, half when eventually consistent
(every index read); writes 1 KB per unit, doubled in a transaction, and consumed by a write its
condition refuses too; an index entry is its projected attributes plus 100 bytes.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITE_LIMIT = 1000
READ_LIMIT = 3000
FLAG_SHARE = 1 / 3
INDEX_ENTRY_OVERHEAD = 100


def template_projections(path: Path) -> dict[str, str]:
    """IndexName -> ProjectionType, read from template.yaml's table (no YAML parser needed)."""
    text = path.read_text()
    found = re.findall(r"- IndexName: (\w+)\n(?:.*\n)*?\s+ProjectionType: (\w+)", text)
    return dict(found)


def rates(traffic: dict) -> dict[str, float]:
    """Operations per second at this traffic."""
    chats = traffic["concurrent_chats"]
    started = chats / (traffic["chat_minutes"] * 60)
    agents = chats / traffic["chats_per_agent"]
    delivering = traffic["agent_sends_per_s"]  # every reply is delivered by one poll
    presence = chats / traffic["presence_refresh_s"]
    lists = agents / traffic["list_interval_s"]
    # Each chat is claimed once: by the Claim button, or else by its first reply.
    claiming_replies = started * (1 - traffic["explicit_claim_share"])
    # While a side composes, the dashboard and the app send a typing signal every few seconds.
    signals_per_message = traffic["compose_s_per_message"] / traffic["typing_signal_interval_s"]
    # Upper bound: every customer message is seen by its holder's open-chat read, which then
    # writes the read marker.
    unread_reads = traffic["user_sends_per_s"]
    sign_ins = agents * traffic["agent_sign_ins_per_hour"] / 3600
    return {
        "create_session": started,
        "send_user": traffic["user_sends_per_s"],
        "send_agent_claiming": claiming_replies,
        "send_agent": traffic["agent_sends_per_s"] - claiming_replies,
        "poll_empty": traffic["polls_per_s"] - delivering - presence,
        "poll_delivering": delivering,
        "poll_presence": presence,
        "leave": started * (1 - traffic["agent_end_share"]),
        "admin_end": started * traffic["agent_end_share"],
        "rating": started,
        "admin_sign_in": sign_ins,
        "admin_list_active": lists,
        "admin_list_waiting": lists * traffic["waiting_pages_per_refresh"],
        "admin_open_transcript": started * traffic["opens_per_chat"],
        "admin_transcript_after": agents / traffic["open_chat_poll_interval_s"] - unread_reads,
        "admin_transcript_after_unread": unread_reads,
        "typing_user": traffic["user_sends_per_s"] * signals_per_message,
        "typing_agent": traffic["agent_sends_per_s"] * signals_per_message,
        "claim": started * traffic["explicit_claim_share"],
        "transfer": started * traffic["transfers_per_chat"],
        "release": started * traffic["releases_per_chat"],
        # Every agent keeps the analytics panel open; it refreshes each minute.
        "analytics_summary": agents / traffic["analytics_refresh_s"],
        # The dashboard loads the canned replies and the team once per page load (sign-in).
        "canned_list": sign_ins,
        "agents_list": sign_ins,
        **push_rates(traffic, started, agents, signals_per_message, unread_reads),
    }


def push_rates(
    traffic: dict,
    started: float,
    agents: float,
    signals_per_message: float,
    unread_reads: float,
) -> dict[str, float]:
    """The push channel's operations per second (decision 0009; `traffic_notes` in the mix)."""
    chats = traffic["concurrent_chats"]
    # Every connection is opened with a ticket of its own. A customer's last connection is
    # closed by the chat's end (read strongly and forgotten by the consumer, then a $disconnect
    # that finds nothing); the others end in a $disconnect that deletes both items.
    customer_connects = started * traffic["customer_connects_per_chat"]
    agent_connects = agents * traffic["agent_connects_per_hour"] / 3600
    user_sends, agent_sends = traffic["user_sends_per_s"], traffic["agent_sends_per_s"]
    typing_user = user_sends * signals_per_message
    typing_agent = agent_sends * signals_per_message
    # Changes the consumer posts to a chat's customer: support messages, support typing, the
    # agent's read marker, each claim, transfer and release, the end. An upper bound: counted
    # as if each came in a batch of its own (a batch reads a partition's connections once).
    agent_read_markers = started * traffic["opens_per_chat"] + unread_reads
    assignments = started * (1 + traffic["transfers_per_chat"] + traffic["releases_per_chat"])
    customer_events = agent_sends + typing_agent + agent_read_markers + assignments + started
    # Changes posted to the holder: messages of both sides, customer typing, the customer's
    # delivery marker (a delivering poll), the claim (new holder), transfer (both), release
    # (old) and the end of a held chat.
    delivering_polls = agent_sends  # every reply is delivered by one poll
    handovers = started * (1 + 2 * traffic["transfers_per_chat"] + traffic["releases_per_chat"])
    holder_events = (
        user_sends + agent_sends + typing_user + delivering_polls
        + handovers + started * traffic["held_at_end_share"]
    )
    # The list hint's gate: one claim wins per turn. Each shard's consumer wants every turn
    # (every message changes a list row): a batch that finds the turn taken writes a refused
    # claim and a miss, waits for the turn to end and claims once more, and the shard's next
    # batch starts in the next turn. So per shard and turn: two claims and a miss.
    turns = 1000 / traffic["list_hint_ms"]
    shards = traffic["stream_shards"]
    return {
        "push_ticket_customer": customer_connects,
        "push_ticket_agent": agent_connects,
        "push_connect_customer": customer_connects,
        "push_connect_agent": agent_connects,
        "push_disconnect_customer": customer_connects - started,
        "push_disconnect_agent": agent_connects,
        "push_disconnect_closed": started,
        "push_ping": (chats + agents) / traffic["ping_interval_s"],
        "fanout_session_connections": customer_events,
        "fanout_holder_connections": holder_events,
        # Upper bound: every message, as if its session's record were always in another batch.
        "fanout_session_read": user_sends + agent_sends,
        "fanout_closing_session": started,
        "fanout_list_hint_won": turns,
        "fanout_list_hint_refused": max(0.0, 2 * shards * turns - turns),
        "fanout_list_hint_missed": shards * turns,
        "fanout_agent_connections": turns,
    }


def read_units(size: float, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return units if consistent else units / 2


def write_units(size: float) -> int:
    return max(1, math.ceil(size / 1024))


class Model:
    def __init__(self, mix: dict, projections: dict[str, str]):
        self.mix = mix
        self.items = mix["items"]
        self.traffic = mix["traffic"]
        self.projections = projections

    def number(self, value) -> float:
        if not isinstance(value, str):
            return value
        if value == "agents" and value not in self.traffic:
            return self.traffic["concurrent_chats"] / self.traffic["chats_per_agent"]
        return self.traffic[value]

    def index_writes(self, index: str, item: str, effect) -> list[tuple[str, float]]:
        """(index partition, entry writes) of one write's effect on one index."""
        default = self.items[item]["indexes"][index]
        share = 1.0
        if isinstance(effect, list):
            effect, share = effect[0], self.number(effect[1])
        if isinstance(effect, dict):
            spec = dict(effect)
            share = self.number(spec.pop("share", 1.0))
            rest = spec.pop("else", None)
            ((effect, partitions),) = spec.items()
            partitions = partitions if isinstance(partitions, list) else [partitions]
            found = [(p, share) for p in partitions]
            if rest is not None and share < 1:
                found += [(rest, 1 - share)] * len(partitions)
        elif effect in ("put", "remove"):
            found = [(default, share)]
        elif effect == "move":
            found = [(default, 2 * share)]
        elif effect == "update":
            found = [(default, share)] if self.projections[index] == "ALL" else []
        else:
            raise ValueError(f"unknown index effect {effect}")
        if effect not in ("put", "remove", "move", "update"):
            raise ValueError(f"unknown index effect {effect}")
        entry = write_units(self.entry_bytes(index, item))
        return [(partition, entry * writes) for partition, writes in found]

    def entry_bytes(self, index: str, item: str) -> int:
        keys = self.mix["index_key_bytes"]
        projected = self.items[item]["bytes"] if self.projections[index] == "ALL" else keys
        return projected + INDEX_ENTRY_OVERHEAD

    def accesses(self, access: dict) -> list[tuple[str, str, str, float]]:
        """(store, partition, read|write, units) of one access: the table or an index."""
        found = []
        if "read" in access:
            size = self.items[access["item"]]["bytes"]
            count = self.number(access.get("count", 1))
            units = read_units(size, access.get("consistent", False)) * count
            found.append(("table", access["read"], "read", units))
        elif "query" in access:
            index = access.get("index")
            if index:
                size = self.entry_bytes(index, access["item"]) - INDEX_ENTRY_OVERHEAD
                total = size * self.number(access["entries"])
                found.append((index, access["query"], "read", read_units(total, False)))
            else:
                total = sum(self.items[i]["bytes"] * self.number(n) for i, n in access["items"].items())
                units = read_units(total, access.get("consistent", False))
                found.append(("table", access["query"], "read", units))
        else:
            # A write, or a transaction's ConditionCheck: it costs write units on its key.
            item = access["item"]
            double = 2 if access.get("transactional") else 1
            key = access.get("write") or access["check"]
            found.append(("table", key, "write", write_units(self.items[item]["bytes"]) * double))
            for index, effect in access.get("indexes", {}).items():
                for partition, units in self.index_writes(index, item, effect):
                    found.append((index, partition, "write", units))
        return found

    def per_operation(self, name: str) -> dict[str, float]:
        totals = {"read": 0.0, "write": 0.0}
        for access in self.mix["operations"][name]["accesses"]:
            for _, _, kind, units in self.accesses(access):
                totals[kind] += units
        return totals

    def throughput(self) -> dict[str, float]:
        """The table's units per second in all keys and indexes: what its partitions (and so
        its stream's shards, one per partition) must serve. Every list page is priced as
        read from its index, not from a shared head: an upper bound."""
        per_second = rates(self.traffic)
        totals = {"read": 0.0, "write": 0.0}
        for name in self.mix["operations"]:
            for kind, units in self.per_operation(name).items():
                totals[kind] += per_second[name] * units
        return totals

    def partitions(self) -> float:
        """Partitions the table needs for its throughput (3,000 read or 1,000 write units/s
        each); DynamoDB keeps about one open stream shard per partition."""
        units = self.throughput()
        return units["read"] / READ_LIMIT + units["write"] / WRITE_LIMIT

    def load(self) -> dict[tuple[str, str], dict[str, float]]:
        """(store, partition) -> units per second, for one key of each kind."""
        per_second = rates(self.traffic)
        missing = set(self.mix["operations"]) ^ set(per_second)
        if missing:
            raise ValueError(f"operations without a rate, or rates without an operation: {missing}")
        spread = {
            # The summary reads 7 days of 16 shards; today's 16 are also the ones written.
            "<past day>#<shard>": 6 * 16,
            "<shard>": 16,
            "<id>": self.traffic["concurrent_chats"],
            "<admin>": self.traffic["concurrent_chats"] / self.traffic["chats_per_agent"],
            "<email>": self.traffic["concurrent_chats"] / self.traffic["chats_per_agent"],
            # Keys alive at once: tickets issued in their short life, and open connections
            # (one per chat's app, one per agent's dashboard).
            "<hash>": (per_second["push_ticket_customer"] + per_second["push_ticket_agent"])
            * self.traffic["ticket_life_s"],
            "<connectionId>": self.traffic["concurrent_chats"] * (1 + 1 / self.traffic["chats_per_agent"]),
        }
        load: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: {"read": 0.0, "write": 0.0})
        for name, operation in self.mix["operations"].items():
            for access in operation["accesses"]:
                rate = per_second[name]
                if access.get("head_cached"):
                    access, rate = self.head_reads(access, per_second)
                for store, partition, kind, units in self.accesses(access):
                    keys = next((n for marker, n in spread.items() if marker in partition), 1)
                    load[(store, partition)][kind] += rate * units / keys
        return dict(load)

    def list_instances(self, per_second: dict[str, float]) -> float:
        """Instances of the list function: its requests/s x the time each takes (at least one)."""
        lists = per_second["admin_list_active"] + per_second["admin_list_waiting"]
        return max(1.0, lists * self.traffic["list_request_ms"] / 1000)

    def head_reads(self, access: dict, per_second: dict[str, float]) -> tuple[dict, float]:
        """A list every dashboard reads: each instance reads its head (one Query of
        `list_head_keys` keys) at most once per cache period, or once per dashboard refresh
        if that is rarer, and serves the refresh's pages (at most two, inside the head) from
        it. Returns the head read and its rate."""
        refreshes = per_second["admin_list_active"]  # one per dashboard refresh
        instances = self.list_instances(per_second)
        rate = min(refreshes, instances / self.traffic["list_head_cache_s"])
        return dict(access, entries="list_head_keys"), rate


def with_before(mix: dict, projections: dict[str, str]) -> tuple[dict, dict[str, str]]:
    before = mix["before_issue_14"]
    operations = dict(mix["operations"])
    for name, operation in before["operations"].items():
        operations[name] = dict(operations.get(name, {}), **operation)
    return dict(mix, operations=operations), dict(projections, **before["projections"])


def flagged(units: dict[str, float]) -> list[str]:
    flags = []
    if units["write"] > WRITE_LIMIT * FLAG_SHARE:
        flags.append(f"writes > {WRITE_LIMIT * FLAG_SHARE:.0f}/s")
    if units["read"] > READ_LIMIT * FLAG_SHARE:
        flags.append(f"reads > {READ_LIMIT * FLAG_SHARE:.0f}/s")
    return flags


def table(load: dict, traffic: dict, title: str) -> str:
    order = lambda key: (key[0] != "table", key[0], -load[key]["write"] - load[key]["read"])  # noqa: E731
    lines = [
        f"{title}: {traffic['concurrent_chats']:,} chats, {traffic['polls_per_s']:,} polls/s, "
        f"{traffic['user_sends_per_s'] + traffic['agent_sends_per_s']:,} sends/s, "
        f"{traffic['concurrent_chats'] / traffic['chats_per_agent']:,.0f} agents, "
        f"{traffic['stream_shards']:,} stream shards",
        "",
        "| table / index | partition key (one key) | read units/s | write units/s | over a third of the limit |",
        "|---|---|---:|---:|---|",
    ]
    for key in sorted(load, key=order):
        units = load[key]
        lines.append(
            f"| {key[0]} | {key[1]} | {units['read']:,.1f} | {units['write']:,.1f} | "
            f"{', '.join(flagged(units)) or '-'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mix", type=Path, default=ROOT / "infra/cost/request_mix.json")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--before", action="store_true", help="the design before the keys-only indexes")
    parser.add_argument("--chats", type=int, help="concurrent chats (default: the mix's)")
    parser.add_argument("--polls-per-s", type=float)
    parser.add_argument("--sends-per-s", type=float, help="customer and agent messages, half each")
    parser.add_argument("--shards", type=int, help="the table stream's shards (default: the mix's, or more if the traffic needs more partitions)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)

    mix = json.loads(args.mix.read_text())
    projections = template_projections(args.template)
    if args.before:
        mix, projections = with_before(mix, projections)
    traffic = dict(mix["traffic"])
    if args.chats:
        traffic["concurrent_chats"] = args.chats
    if args.polls_per_s is not None:
        traffic["polls_per_s"] = args.polls_per_s
    if args.sends_per_s is not None:
        traffic["user_sends_per_s"] = traffic["agent_sends_per_s"] = args.sends_per_s / 2
    if args.shards:
        traffic["stream_shards"] = args.shards
    else:
        # More traffic needs more partitions, and so more shards than the mix assumes.
        needed = Model(dict(mix, traffic=traffic), projections).partitions()
        traffic["stream_shards"] = max(traffic["stream_shards"], math.ceil(needed))
    model = Model(dict(mix, traffic=traffic), projections)
    load = model.load()
    if args.json:
        rows = [{"store": k[0], "partition": k[1], **v, "flags": flagged(v)} for k, v in load.items()]
        print(json.dumps(rows, indent=2))
    else:
        title = "Before the keys-only indexes" if args.before else "Per-key load"
        print(table(load, traffic, title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
