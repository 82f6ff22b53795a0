"""The local server's capacity arithmetic, by hand, and the server measuring real requests
(moto in process, no socket): python3 infra/test_dynamodb_capacity.py
(run by `cargo test -p loadgen`, so `make test` runs it too)."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dynamodb_capacity as capacity  # noqa: E402

SCHEMA = capacity.Schema(
    keys=("PK", "SK"),
    indexes=(
        capacity.Index("GSI1", ("GSI1PK", "GSI1SK"), "KEYS_ONLY"),
        capacity.Index("GSI2", ("GSI2PK", "GSI2SK"), "ALL"),
    ),
)


def s(text):
    return {"S": text}


def session(**extra):
    item = {"PK": s("SESSION#a"), "SK": s("SESSION"), "GSI1PK": s("ACTIVE"), "GSI1SK": s("t#a")}
    item.update({k: s(v) for k, v in extra.items()})
    return item


class SizesTest(unittest.TestCase):
    def test_item_sizes_count_names_and_values(self):
        self.assertEqual(capacity.item_size({"ab": s("xyz")}), 5)
        self.assertEqual(capacity.item_size({"n": {"N": "12345"}}), 1 + 4)  # 3 + 1 bytes
        self.assertEqual(capacity.item_size({"n": {"N": "-0.0100"}}), 1 + 2)
        self.assertEqual(capacity.item_size({"b": {"BOOL": True}, "z": {"NULL": True}}), 4)
        # A map: 3 bytes, then each name, value and 1 byte per element.
        self.assertEqual(capacity.item_size({"m": {"M": {"k": s("vv")}}}), 1 + 3 + 1 + 2 + 1)
        self.assertEqual(capacity.item_size({"é": s("é")}), 4, "UTF-8 bytes, not characters")

    def test_units_round_up_with_a_minimum_of_one(self):
        self.assertEqual(capacity.read_units(0, True), 1)
        self.assertEqual(capacity.read_units(4096, True), 1)
        self.assertEqual(capacity.read_units(4097, True), 2)
        self.assertEqual(capacity.read_units(4097, False), 1.0)
        self.assertEqual(capacity.read_units(10, False), 0.5)
        self.assertEqual(capacity.write_units(0), 1)
        self.assertEqual(capacity.write_units(1024), 1)
        self.assertEqual(capacity.write_units(1025), 2)


class WritesTest(unittest.TestCase):
    def test_an_update_of_an_unprojected_attribute_writes_no_keys_only_index(self):
        old, new = session(lastSeq="1"), session(lastSeq="2")
        consumed = capacity.write_consumed(old, new, SCHEMA)
        self.assertEqual((consumed.write, consumed.table, consumed.indexes), (1, 1, {}))

    def test_an_index_with_all_attributes_is_written_by_every_change(self):
        old = dict(session(lastSeq="1"), GSI2PK=s("P"), GSI2SK=s("k"))
        new = dict(old, lastSeq=s("2"))
        consumed = capacity.write_consumed(old, new, SCHEMA)
        self.assertEqual(consumed.indexes, {"GSI2": 1})
        self.assertEqual(consumed.write, 2)

    def test_putting_removing_and_moving_an_index_entry(self):
        new = session()
        put = capacity.write_consumed(None, new, SCHEMA)
        self.assertEqual(put.indexes, {"GSI1": 1})
        ended = {k: v for k, v in new.items() if not k.startswith("GSI1")}
        self.assertEqual(capacity.write_consumed(new, ended, SCHEMA).indexes, {"GSI1": 1})
        moved = dict(new, GSI1SK=s("u#a"))
        self.assertEqual(
            capacity.write_consumed(new, moved, SCHEMA).indexes, {"GSI1": 2}, "delete + put"
        )

    def test_transactions_double_the_table_units_of_the_larger_item(self):
        old = session(big="x" * 1500)  # about 1.5 KB: 2 units
        new = session()
        consumed = capacity.write_consumed(old, new, SCHEMA, transactional=True)
        self.assertEqual(consumed.table, 4)
        self.assertEqual(capacity.refused_write_consumed(old).write, 2)
        self.assertEqual(capacity.refused_write_consumed(None, True).write, 2)

    def test_index_entries_carry_100_bytes_of_overhead(self):
        # 930 bytes of projected attributes + 100: past 1 KB in the index, not in the table.
        old = dict(session(), GSI2PK=s("P"), GSI2SK=s("k"))
        filler = 930 - capacity.item_size(old) - len("pad")
        new = dict(old, pad=s("x" * filler))
        self.assertEqual(capacity.item_size(new), 930)
        consumed = capacity.write_consumed(old, new, SCHEMA)
        self.assertEqual((consumed.table, consumed.indexes), (1, {"GSI2": 2}))


class ReadsTest(unittest.TestCase):
    def test_item_reads_round_each_item_and_queries_the_sum(self):
        self.assertEqual(capacity.item_reads_consumed([100, 5000, 0], True).read, 1 + 2 + 1)
        self.assertEqual(capacity.item_reads_consumed([100, 5000], False).read, 1.5)
        self.assertEqual(capacity.item_reads_consumed([100], True, transactional=True).read, 2)
        query = capacity.query_consumed([3000, 3000], consistent=True, index=None)
        self.assertEqual((query.read, query.table), (2, 2))
        on_index = capacity.query_consumed([3000, 3000], consistent=True, index="GSI1")
        self.assertEqual((on_index.read, on_index.indexes), (1.0, {"GSI1": 1.0}))

    def test_the_reported_capacity_has_the_shape_dynamodb_answers(self):
        consumed = capacity.write_consumed(None, session(), SCHEMA)
        self.assertEqual(
            capacity.report(consumed, "t", "TOTAL"),
            {"TableName": "t", "CapacityUnits": 2, "ReadCapacityUnits": 0.0, "WriteCapacityUnits": 2},
        )
        detailed = capacity.report(consumed, "t", "INDEXES")
        self.assertEqual(detailed["Table"], {"CapacityUnits": 1})
        self.assertEqual(detailed["GlobalSecondaryIndexes"], {"GSI1": {"CapacityUnits": 1}})


class ServerTest(unittest.TestCase):
    """The middleware in front of moto, called as WSGI: what real requests consume."""

    @classmethod
    def setUpClass(cls):
        try:
            from werkzeug.test import Client
            import dynamodb_local
        except ImportError as missing:  # moto lives in .venv (infra/setup.sh)
            raise unittest.SkipTest(f"moto not installed: {missing}")
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        cls.server = dynamodb_local.LikeDynamoDb(DomainDispatcherApplication(create_backend_app))
        cls.client = Client(cls.server)
        cls.call(
            "CreateTable",
            {
                "TableName": "cap",
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "GSI1PK", "GSI1SK")
                ],
                "KeySchema": [
                    {"AttributeName": "PK", "KeyType": "HASH"},
                    {"AttributeName": "SK", "KeyType": "RANGE"},
                ],
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": "GSI1",
                        "KeySchema": [
                            {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                            {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "KEYS_ONLY"},
                    }
                ],
            },
        )

    @classmethod
    def call(cls, operation, body, expect=200):
        response = cls.client.post(
            "/",
            data=json.dumps(body),
            headers={
                "X-Amz-Target": f"DynamoDB_20120810.{operation}",
                "Content-Type": "application/x-amz-json-1.0",
                "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            },
        )
        assert response.status_code == expect, (response.status_code, response.get_data(as_text=True))
        return json.loads(response.get_data() or b"{}")

    def totals(self):
        response = self.client.get("/_local/capacity", environ_base={"REMOTE_ADDR": "127.0.0.1"})
        return json.loads(response.get_data())

    def test_requests_are_measured_answered_and_totalled(self):
        before = self.totals()
        item = dict(session(), big=s("x" * 2100))
        put = self.call("PutItem", {"TableName": "cap", "Item": item, "ReturnConsumedCapacity": "INDEXES"})
        # 2 KB and a bit: 3 table units; the keys-only entry is small: 1.
        self.assertEqual(put["ConsumedCapacity"]["Table"], {"CapacityUnits": 3})
        self.assertEqual(put["ConsumedCapacity"]["GlobalSecondaryIndexes"], {"GSI1": {"CapacityUnits": 1}})
        self.assertEqual(put["ConsumedCapacity"]["CapacityUnits"], 4)

        key = {"PK": s("SESSION#a"), "SK": s("SESSION")}
        got = self.call("GetItem", {"TableName": "cap", "Key": key, "ConsistentRead": True, "ReturnConsumedCapacity": "TOTAL"})
        self.assertEqual(got["ConsumedCapacity"]["CapacityUnits"], 1)
        self.assertNotIn("Table", got["ConsumedCapacity"], "TOTAL has no breakdown")
        silent = self.call("GetItem", {"TableName": "cap", "Key": key})
        self.assertNotIn("ConsumedCapacity", silent, "only when asked")

        update = {
            "TableName": "cap", "Key": key, "UpdateExpression": "SET big = :v",
            "ExpressionAttributeValues": {":v": s("y")}, "ReturnConsumedCapacity": "INDEXES",
        }
        updated = self.call("UpdateItem", update)
        self.assertEqual(updated["ConsumedCapacity"]["CapacityUnits"], 3, "the larger, old item; no index write")
        refused = dict(update, ConditionExpression="attribute_not_exists(PK)")
        self.call("UpdateItem", refused, expect=400)

        # A filtered Query pays for what it read, not what it returned.
        self.call("PutItem", {"TableName": "cap", "Item": {"PK": s("SESSION#a"), "SK": s("MSG#1"), "pad": s("x" * 5000)}})
        query = self.call("Query", {
            "TableName": "cap", "KeyConditionExpression": "PK = :pk",
            "FilterExpression": "SK = :none", "ConsistentRead": True,
            "ExpressionAttributeValues": {":pk": s("SESSION#a"), ":none": s("nothing")},
            "ReturnConsumedCapacity": "TOTAL",
        })
        self.assertEqual(query["Count"], 0)
        self.assertEqual(query["ConsumedCapacity"]["CapacityUnits"], 2, "5 KB and a small item read")

        batch = self.call("BatchGetItem", {
            "RequestItems": {"cap": {"Keys": [key, {"PK": s("NONE"), "SK": s("NONE")}]}},
            "ReturnConsumedCapacity": "TOTAL",
        })
        self.assertEqual(batch["ConsumedCapacity"], [
            {"TableName": "cap", "CapacityUnits": 1.0, "ReadCapacityUnits": 1.0, "WriteCapacityUnits": 0.0}
        ], "two eventually consistent reads, one of an absent item")

        after = self.totals()
        # put 4, update 3, refused update 1 (the item is small now), message put 5.
        self.assertEqual(after["write"] - before["write"], 4 + 3 + 1 + 5)
        self.assertEqual(after["read"] - before["read"], 1 + 0.5 + 2 + 1)
        self.assertEqual(after["requests"] - before["requests"], 8)
        self.assertEqual(after["operations"]["PutItem"]["requests"] - before.get("operations", {}).get("PutItem", {}).get("requests", 0), 2)

    def test_the_totals_are_for_local_clients_only(self):
        response = self.client.get("/_local/capacity", environ_base={"REMOTE_ADDR": "10.1.2.3"})
        self.assertEqual(response.status_code, 403)


if __name__ == "__main__":
    unittest.main()
