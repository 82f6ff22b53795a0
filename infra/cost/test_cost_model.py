"""The cost model's arithmetic on a small fixed input, and the idle cost it reads from
template.yaml (run by `cargo test -p loadgen`, so
`make test` runs it too): python3 infra/cost/test_cost_model.py"""

import contextlib
import io
import json
import os
import tempfile
import unittest

import cost_model

# Two chats of one minute each: per chat 1 create, 2 sends, 30 polls, 2 agent replies; 4
# replies stored in all (2 per chat).
REPORT = {
    "base_url": "http://127.0.0.1:3000",
    "mean_chat_s": 60.0,
    "counts": {"started": 2},
    "delivery": {"replies": 4},
    "per_chat": {"create_session": 1, "send_message": 2, "poll": 30, "admin_reply": 2},
    "endpoints": [{"key": "poll", "p50_ms": 2.2}],
    "capacity": None,
}


class CostModelTest(unittest.TestCase):
    def setUp(self):
        # A standard chat of 2 minutes: the poll (timer-driven) doubles, the rest does not.
        self.mix = cost_model.chat_mix(REPORT, chat_minutes=2)

    def test_timer_driven_requests_scale_with_the_chat_and_the_rest_do_not(self):
        self.assertEqual(self.mix.requests["poll"], 60)
        self.assertEqual(self.mix.requests["send_message"], 2)
        self.assertEqual(self.mix.requests["admin_reply"], 2)
        self.assertEqual(self.mix.requests["leave"], 0)
        self.assertEqual(self.mix.replies, 2)

    def test_rest_api_cost_per_thousand_chats_by_hand(self):
        cost = cost_model.per_thousand(cost_model.request_cost(self.mix, 3.50))
        # 65 requests per chat (1 + 2 + 60 + 2).
        self.assertAlmostEqual(cost.gateway, 65 * 3.50 / 1000, places=9)
        # Reads: sends 2, polls 60, replies 2, delivering polls 2 = 66. Writes: create 8,
        # sends 18, replies 26, delivering polls 8 = 60.
        self.assertEqual(cost_model.units_per_chat(self.mix), (66, 60))
        self.assertAlmostEqual(cost.dynamodb, (66 * 0.125 + 60 * 0.625) / 1000, places=9)
        # 438 ms at 128 MB = 0.05475 GB-s, plus 65 invocations.
        self.assertAlmostEqual(cost.lambda_, (65 * 0.20 + 0.05475 * 0.0000133334 * 1e6) / 1000, places=9)
        self.assertAlmostEqual(cost.logs, 65 * 1250 / 1e9 * 0.50 * 1000, places=9)
        self.assertAlmostEqual(cost.xray, 65 * 0.05 * 5.00 / 1000, places=9)
        self.assertAlmostEqual(cost.total, 0.2275 + 0.04575 + 0.01373000365 + 0.040625 + 0.01625, places=9)

    def test_monthly_adds_the_fixed_cost(self):
        fixed = cost_model.idle_costs()["default"].total
        self.assertEqual(cost_model.monthly(2.0, 0), fixed)
        self.assertAlmostEqual(cost_model.monthly(2.0, 1000), fixed + 2.0 * 30)
        self.assertAlmostEqual(cost_model.monthly(2.0, 100_000), fixed + 2.0 * 3000)

    def test_http_api_differs_from_rest_only_in_the_gateway(self):
        rest = cost_model.request_cost(self.mix, 3.50)
        http = cost_model.request_cost(self.mix, 1.00)
        self.assertAlmostEqual(rest.gateway / http.gateway, 3.5)
        self.assertEqual((rest.dynamodb, rest.lambda_, rest.logs), (http.dynamodb, http.lambda_, http.logs))

    def test_websocket_keeps_a_tenth_of_the_polls_and_pays_for_pushes_and_minutes(self):
        ws = cost_model.websocket_cost(self.mix, 3.50)
        # REST requests left: 1 + 2 + 6 polls + 2 = 11.
        pushes = (2 + 1 + 2 / 5) * 0.9
        expected_gateway = (11 * 3.50 + pushes * 1.00 + 2 * 0.9 * 0.25) / 1e6
        self.assertAlmostEqual(ws.gateway, expected_gateway, places=12)
        rest = cost_model.request_cost(self.mix, 3.50)
        self.assertLess(ws.total, rest.total)

    def test_median_latency_can_stand_in_for_billed_ms(self):
        mix = cost_model.chat_mix(REPORT, chat_minutes=2, lambda_ms_source="report")
        self.assertEqual(mix.lambda_ms["poll"], 3)  # 2.2 ms billed as 3
        self.assertEqual(mix.lambda_ms["send_message"], cost_model.ENDPOINTS["send_message"].lambda_ms)

    def test_an_endpoint_the_model_does_not_know_is_refused(self):
        report = dict(REPORT, per_chat={"poll": 1, "teleport": 1})
        with self.assertRaisesRegex(ValueError, "teleport"):
            cost_model.chat_mix(report, chat_minutes=10)

    def test_the_command_prints_the_three_transports(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "report.json")
            with open(path, "w", encoding="utf-8") as file:
                json.dump(REPORT, file)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                self.assertEqual(cost_model.main(["--report", path, "--chat-minutes", "2"]), 0)
        text = out.getvalue()
        for name in ("REST API (as deployed)", "HTTP API", "WebSocket push + polling fallback"):
            self.assertIn(name, text)
        self.assertIn("did not measure consumed capacity", text)
        self.assertIn("mid-2025", text)


# A push run of the same two chats: customers on the push channel (a ticket, a connect and a
# catch-up read each), agents too; 10 minutes of socket time and 8 frames received per chat.
PUSH_REPORT = dict(
    REPORT,
    mode="push on both sides",
    per_chat={
        "create_session": 1,
        "send_message": 2,
        "admin_reply": 2,
        "customer_ticket": 1,
        "ws_connect_customer": 1,
        "poll_catch_up": 1,
        "agent_ticket": 0.5,
        "ws_connect_agent": 0.5,
        "admin_list_waiting_on_hint": 1,
        "admin_list_active_on_hint": 1,
        "admin_list_waiting": 0.5,
    },
    push={
        "customers": {"frames_received": 6, "connected_chat_s": 120},
        "agents": {"frames_received": 10, "connected_chat_s": 120},
    },
)


class PushCostTest(unittest.TestCase):
    def setUp(self):
        self.mix = cost_model.chat_mix(PUSH_REPORT, chat_minutes=2)

    def test_frames_follow_the_chat_and_socket_time_follows_the_clock(self):
        ws = self.mix.websocket
        # 16 frames over 2 chats; sockets of 1 minute per chat and side, doubled to 2 minutes.
        self.assertEqual(ws.received, {"customers": 3, "agents": 5})
        self.assertEqual(ws.connection_minutes, 4)
        self.assertAlmostEqual(ws.messages, 8 + 4 / 5)
        # The safety list re-read is a timer: doubled; the hint re-reads are not.
        self.assertEqual(self.mix.requests["admin_list_waiting"], 1)
        self.assertEqual(self.mix.requests["admin_list_waiting_on_hint"], 1)

    def test_requests_split_by_party_and_kind(self):
        split = cost_model.by_party(self.mix)
        self.assertEqual(split["customers"]["rest"], 1 + 2 + 1)
        self.assertEqual(split["customers"]["ticket"], 1)
        self.assertEqual(split["customers"]["ws_connect"], 1)
        self.assertEqual(split["customers"]["requests"], 6)
        self.assertEqual(split["agents"]["requests"], 2 + 0.5 + 0.5 + 1 + 1 + 1)
        self.assertEqual(split["agents"]["frames_received"], 5)

    def test_a_connect_costs_no_request_but_its_socket_minutes_and_messages(self):
        rest = cost_model.measured_push_cost(self.mix, 3.50)
        # Requests through the REST API: everything but the 1.5 connects.
        requests = sum(self.mix.requests.values()) - 1.5
        ws = self.mix.websocket
        expected = (requests * 3.50 + ws.messages * 1.00 + ws.connection_minutes * 0.25) / 1e6
        self.assertAlmostEqual(rest.gateway, expected, places=12)

    def test_a_standard_chat_can_be_given_as_requests_per_chat(self):
        given = {
            "requests": {"poll": 300, "send_message": 3, "admin_reply": 3},
            "replies": 3,
            "chat_minutes": 10,
        }
        mix = cost_model.mix_from_requests(given)
        self.assertEqual(mix.requests["poll"], 300, "taken as given, not scaled")
        self.assertIsNone(mix.websocket)
        cost = cost_model.request_cost(mix, 3.50)
        self.assertAlmostEqual(cost.gateway, 306 * 3.50 / 1e6, places=12)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "mix.json")
            with open(path, "w", encoding="utf-8") as file:
                json.dump(dict(given, websocket={"messages": 5, "connection_minutes": 10}), file)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                self.assertEqual(cost_model.main(["--requests-per-chat", path]), 0)
        self.assertIn("as measured: REST API + WebSocket", out.getvalue())
        with self.assertRaisesRegex(ValueError, "teleport"):
            cost_model.mix_from_requests({"requests": {"teleport": 1}})

    def test_the_command_prints_the_split_for_each_report(self):
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for name, report in (("polling", REPORT), ("push", PUSH_REPORT)):
                paths += ["--report", os.path.join(tmp, f"{name}.json")]
                with open(paths[-1], "w", encoding="utf-8") as file:
                    json.dump(report, file)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                self.assertEqual(cost_model.main([*paths, "--chat-minutes", "2", "--by-party"]), 0)
        text = out.getvalue()
        self.assertIn("push on both sides", text)
        self.assertIn("| agents: **requests** | 2.0 | 6.0 |", text)


class IdleCostTest(unittest.TestCase):
    """The idle cost of each samconfig.toml environment, read from template.yaml."""

    def setUp(self):
        self.costs = cost_model.idle_costs()

    def test_a_dev_stack_costs_under_1_usd_a_month_idle(self):
        dev = self.costs["default"]
        self.assertEqual(dev.environment, "dev")
        self.assertLess(dev.total, 1.00, cost_model.render_idle(self.costs))
        self.assertEqual(dev.dashboards, 0)

    def test_prod_keeps_an_errors_throttles_and_duration_alarm_per_function(self):
        prod = self.costs["prod"]
        self.assertEqual(prod.environment, "prod")
        self.assertEqual(len(prod.functions), 31)
        for function in prod.functions:
            self.assertLessEqual({"Errors", "Throttles", "Duration"}, prod.function_alarms.get(function, set()), function)
        self.assertEqual(prod.dashboards, 1)

    def test_prices_alarm_metrics_dashboards_secrets_and_waf(self):
        template = {
            "Parameters": {"Environment": {"Type": "String", "Default": "dev"}},
            "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Environment"}, "prod"]}},
            "Resources": {
                "Math": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [
                    {"Id": "a", "MetricStat": {"Metric": {"MetricName": "A"}, "Period": 300}},
                    {"Id": "b", "MetricStat": {"Metric": {"MetricName": "B"}, "Period": 300}},
                    {"Id": "e", "Expression": "a + b"}]}},
                "Fast": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "C", "Period": 10}},
                "Board": {"Type": "AWS::CloudWatch::Dashboard", "Condition": "IsProd"},
                "Secret": {"Type": "AWS::SecretsManager::Secret"},
                "Acl": {"Type": "AWS::WAFv2::WebACL", "Condition": "IsProd", "Properties": {"Rules": [{}, {}]}},
            },
        }
        dev = cost_model.idle_cost_of(template, {})
        prod = cost_model.idle_cost_of(template, {"Environment": "prod"})
        self.assertEqual((dev.alarms, dev.alarm_metrics, dev.total), (2, 3, round(0.10 * 2 + 0.30 + 0.40, 2)))
        self.assertEqual(prod.total, round(dev.total + 3.00 + 5.00 + 2 * 1.00, 2))

    def test_the_push_dead_letter_queue_is_free_idle_and_its_alarm_is_in_every_environment(self):
        # Dev: the API 5XX alarm (2 metrics) and the dead-letter alarm (1); prod adds the
        # consumer's IteratorAge alarm to the rest.
        dev, prod = self.costs["default"], self.costs["prod"]
        self.assertEqual((dev.alarms, dev.alarm_metrics, dev.queues), (2, 3, 1))
        self.assertIn("IteratorAge", prod.function_alarms["PushFanoutFunction"])
        template = {
            "Resources": {
                "Failures": {"Type": "AWS::SQS::Queue"},
                "Depth": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "ApproximateNumberOfMessagesVisible", "Period": 300}},
            }
        }
        cost = cost_model.idle_cost_of(template, {})
        self.assertEqual((cost.queues, cost.alarms, cost.total), (1, 1, 0.10))

    def test_a_resource_type_without_an_idle_price_is_refused(self):
        template = {"Resources": {"Cache": {"Type": "AWS::ElastiCache::CacheCluster"}}}
        with self.assertRaisesRegex(ValueError, "AWS::ElastiCache::CacheCluster has no idle price"):
            cost_model.idle_cost_of(template, {})

    def test_the_command_prints_the_idle_table(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(cost_model.main(["--idle"]), 0)
        self.assertIn("Idle cost per environment", out.getvalue())
        self.assertIn("| prod (Environment=prod) |", out.getvalue())

    def test_the_docs_show_the_table_the_template_gives(self):
        # docs/performance/cost.md holds the table under its marker: it must be this output.
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            cost_model.main(["--idle"])
        rows = [line for line in out.getvalue().splitlines() if line.startswith("|")]
        page = (cost_model.ROOT / "docs" / "performance" / "cost.md").read_text()
        after_marker = page.split("<!-- idle-cost-table -->", 1)[1].lstrip("\n")
        shown = [line for line in after_marker.splitlines()[: len(rows)]]
        self.assertEqual(shown, rows, "regenerate: python3 infra/cost/cost_model.py --idle")


if __name__ == "__main__":
    unittest.main()
