"""DynamoDB's capacity arithmetic: the read and write units a request consumes, from the sizes
of the items it reads and writes (AWS documentation, "Read/write capacity mode" and "Item
sizes"). Pure functions on the wire format (`{"S": "..."}` attribute values); the local server
(infra/dynamodb_local.py) feeds them the items before and after each request.

- Item size: attribute names plus values (strings: UTF-8 bytes; numbers: about one byte per
  two significant digits plus one; binary: bytes; booleans and nulls: 1; lists and maps: 3
  plus their elements plus 1 per element).
- Reads: 4 KB units, rounded up per item (GetItem, BatchGetItem) or over the whole result
  (Query, Scan: every item evaluated, before a filter), at least one unit; eventually
  consistent reads (and every index read) cost half; transactional reads double.
- Writes: 1 KB units of the larger of the item before and after, at least one; transactions
  double the table's units. Each global secondary index the write touches costs its own
  units, on the index entry's size (projected attributes plus keys plus 100 bytes): putting
  an entry in (1 write), taking it out (1), changing its key (2: delete and put), changing a
  projected attribute (1); a write that changes nothing projected costs the index nothing.
  Index writes are assumed not doubled by transactions (the documentation doubles the item's).
- A write refused by its condition still consumes the table's units for the item's size.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
INDEX_ENTRY_OVERHEAD = 100


def value_size(value: dict) -> int:
    (kind, body), = value.items()
    if kind == "S":
        return len(body.encode("utf-8"))
    if kind == "N":
        return number_size(body)
    if kind == "B":
        return len(base64.b64decode(body))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode("utf-8")) for v in body)
    if kind == "NS":
        return sum(number_size(v) for v in body)
    if kind == "BS":
        return sum(len(base64.b64decode(v)) for v in body)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in body)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + value_size(v) + 1 for k, v in body.items())
    raise ValueError(f"unknown attribute type {kind}")


def number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").split("e")[0].split("E")[0]
    significant = digits.strip("0") or "0"
    return math.ceil(len(significant) / 2) + 1


def item_size(item: dict | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return units if consistent else units / 2


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]  # hash key, then range key if any
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    included: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schema:
    keys: tuple[str, ...]
    indexes: tuple[Index, ...] = ()


def index_entry(item: dict | None, schema: Schema, index: Index) -> dict | None:
    """The item's entry in a (sparse) index, or None when it lacks the index's keys."""
    if not item or any(k not in item for k in index.keys):
        return None
    if index.projection == "ALL":
        return dict(item)
    names = set(schema.keys) | set(index.keys)
    if index.projection == "INCLUDE":
        names |= set(index.included)
    return {k: v for k, v in item.items() if k in names}


def index_write_units(old: dict | None, new: dict | None, schema: Schema, index: Index) -> int:
    before, after = index_entry(old, schema, index), index_entry(new, schema, index)
    entry_units = lambda entry: write_units(item_size(entry) + INDEX_ENTRY_OVERHEAD)  # noqa: E731
    if before is None and after is None:
        return 0
    if before is None:
        return entry_units(after)
    if after is None:
        return entry_units(before)
    if any(before[k] != after[k] for k in index.keys):
        return entry_units(before) + entry_units(after)
    return entry_units(after) if before != after else 0


@dataclass
class Consumed:
    """Units of one request (or a running total), split as DynamoDB reports them."""

    read: float = 0.0
    write: float = 0.0
    table: float = 0.0
    indexes: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.read + self.write

    def add_index(self, name: str, units: float, writing: bool) -> None:
        if units:
            self.indexes[name] = self.indexes.get(name, 0.0) + units
            self.add(units, writing)

    def add_table(self, units: float, writing: bool) -> None:
        self.table += units
        self.add(units, writing)

    def add(self, units: float, writing: bool) -> None:
        if writing:
            self.write += units
        else:
            self.read += units

    def merge(self, other: "Consumed") -> None:
        self.read += other.read
        self.write += other.write
        self.table += other.table
        for name, units in other.indexes.items():
            self.indexes[name] = self.indexes.get(name, 0.0) + units


def write_consumed(
    old: dict | None, new: dict | None, schema: Schema, transactional: bool = False
) -> Consumed:
    """A write that took effect: `old` and `new` are the item before and after (None: absent)."""
    consumed = Consumed()
    table_units = write_units(max(item_size(old), item_size(new)))
    consumed.add_table(table_units * (2 if transactional else 1), writing=True)
    for index in schema.indexes:
        consumed.add_index(index.name, index_write_units(old, new, schema, index), writing=True)
    return consumed


def refused_write_consumed(old: dict | None, transactional: bool = False) -> Consumed:
    """A write whose condition refused it: the table's units for the item as it is."""
    consumed = Consumed()
    consumed.add_table(write_units(item_size(old)) * (2 if transactional else 1), writing=True)
    return consumed


def item_reads_consumed(
    sizes: list[int], consistent: bool, transactional: bool = False
) -> Consumed:
    """GetItem, BatchGetItem, TransactGetItems: each item rounded up on its own (an item that
    does not exist costs the minimum)."""
    consumed = Consumed()
    per_item = [read_units(size, consistent) * (2 if transactional else 1) for size in sizes]
    consumed.add_table(sum(per_item), writing=False)
    return consumed


def query_consumed(evaluated_sizes: list[int], consistent: bool, index: str | None) -> Consumed:
    """Query and Scan: the sizes of every item evaluated, summed, then rounded up once."""
    consumed = Consumed()
    units = read_units(sum(evaluated_sizes), consistent and index is None)
    if index:
        consumed.add_index(index, units, writing=False)
    else:
        consumed.add_table(units, writing=False)
    return consumed


def report(consumed: Consumed, table_name: str, detail: str) -> dict:
    """The `ConsumedCapacity` object of a response, for ReturnConsumedCapacity TOTAL or INDEXES."""
    body = {
        "TableName": table_name,
        "CapacityUnits": consumed.total,
        "ReadCapacityUnits": consumed.read,
        "WriteCapacityUnits": consumed.write,
    }
    if detail == "INDEXES":
        body["Table"] = {"CapacityUnits": consumed.table}
        if consumed.indexes:
            body["GlobalSecondaryIndexes"] = {
                name: {"CapacityUnits": units} for name, units in consumed.indexes.items()
            }
    return body
