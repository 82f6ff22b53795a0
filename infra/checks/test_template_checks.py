"""The monitoring check of template_checks.py can fail (a check that cannot is worthless), so
can the recorded-calls IAM check, and the Fn::ForEach expansion they rely on: `.venv-tools/bin/python infra/checks/test_template_checks.py`
(run by `make template-check`)."""

import copy
import json
import logging
import unittest

import template_checks as tc
from language_extensions import FOREACH, ExpansionError, expand

logging.disable(logging.WARNING)
PROD = {"Environment": "prod", "AlarmEmail": "ops@example.com"}
RAW = tc.yaml_parse((tc.ROOT / "template.yaml").read_text())
# Every function the template defines (the count grows as functions are added).
FUNCTIONS = sum(
    1 for r in expand(RAW)["Resources"].values() if isinstance(r, dict) and r.get("Type") == "AWS::Serverless::Function"
)


def gaps(raw: dict, params: dict = PROD) -> dict:
    sam = expand(raw)
    cfn = tc.translate(sam, params)
    return tc.monitoring_gaps(sam, cfn, tc.Resolver(cfn, params))


class MonitoringCheckTest(unittest.TestCase):
    def test_the_template_as_it_is_passes(self):
        self.assertTrue(all(v == [] for v in gaps(RAW).values()), gaps(RAW))

    def test_a_function_left_out_of_the_alarm_list_fails(self):
        found = gaps(tc.without_function_in_loops(RAW, "IdleSweepFunction"))
        for kind in ("errors alarm", "throttles alarm", "duration alarm"):
            self.assertEqual(found[kind], ["IdleSweepFunction"], json.dumps(found))

    def test_a_new_function_in_no_list_fails(self):
        found = gaps(tc.with_extra_function(RAW, "HealthFunction", "AttachmentsFunction"))
        for kind in ("errors alarm", "throttles alarm", "duration alarm"):
            self.assertEqual(found[kind], ["AttachmentsFunction"], json.dumps(found))

    def test_a_dashboard_not_filtered_by_the_stack_fails(self):
        raw = copy.deepcopy(RAW)
        body = raw["Resources"]["OpsDashboard"]["Properties"]["DashboardBody"]
        body["Fn::Sub"] = body["Fn::Sub"].replace("aws:cloudformation:stack-name", "team")
        found = gaps(raw)
        self.assertEqual(len(found["dashboard"]), FUNCTIONS, json.dumps(found))

    def test_a_duration_alarm_not_at_80_percent_of_the_timeout_fails(self):
        self.assertEqual(tc.duration_threshold_gaps(expand(RAW)), [])
        raw = copy.deepcopy(RAW)
        raw["Resources"]["HealthFunction"]["Properties"]["Timeout"] = 30
        self.assertEqual(tc.duration_threshold_gaps(expand(raw)), ["HealthFunction (8000 ms for a 30 s timeout)"])

    def test_essential_monitoring_has_no_per_function_alarms(self):
        found = gaps(RAW, {"Environment": "dev"})
        self.assertEqual(len(found["errors alarm"]), FUNCTIONS)


class IamCallsCheckTest(unittest.TestCase):
    """The push consumer's own policy from template.yaml, in a template around it small enough
    to translate on its own."""

    @classmethod
    def setUpClass(cls):
        fanout = copy.deepcopy(RAW["Resources"]["PushFanoutFunction"])
        properties = fanout["Properties"]
        properties.pop("DeploymentPreference", None)
        properties.pop("Events", None)
        properties.update({"Handler": "bootstrap", "Runtime": "provided.al2023"})
        sam = {
            "Transform": "AWS::Serverless-2016-10-31",
            "Resources": {
                "ChatTable": {
                    "Type": "AWS::DynamoDB::Table",
                    "Properties": {
                        "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
                        "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
                        "BillingMode": "PAY_PER_REQUEST",
                    },
                },
                "PushApi": {
                    "Type": "AWS::ApiGatewayV2::Api",
                    "Properties": {"Name": "push", "ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action"},
                },
                "PushFanoutFunction": fanout,
            },
        }
        cfn = tc.translate(sam, {})
        cls.resolver = tc.Resolver(cfn, {})
        cls.policies = {n: cls.resolver.value(s) for n, s in tc.function_policies(cfn, sam).items()}

    def verdict(self, action, resource=None, leading_key=None):
        call = ("push-fanout", action, None, leading_key, resource)
        return tc.call_verdict(call, self.policies, self.resolver)[0]

    def test_posts_and_closes_on_the_stage_are_allowed(self):
        self.assertTrue(self.verdict("execute-api:ManageConnections", "PushApi/v1/POST/@connections/<id>"))
        self.assertTrue(self.verdict("execute-api:ManageConnections", "PushApi/v1/DELETE/@connections/<id>"))

    def test_a_wrong_stage_method_or_api_fails(self):
        for resource in (
            "PushApi/v2/POST/@connections/<id>",
            "PushApi//POST/@connections/<id>",
            "PushApi/v1/GET/@connections/<id>",
            "OtherApi/v1/POST/@connections/<id>",
        ):
            self.assertFalse(self.verdict("execute-api:ManageConnections", resource), resource)

    def test_dynamodb_calls_are_checked_as_before(self):
        self.assertTrue(self.verdict("Query", leading_key="SESSION#<id>"))
        self.assertFalse(self.verdict("Query", leading_key="TICKET#<id>"))
        self.assertFalse(self.verdict("PutItem", leading_key="SESSION#<id>"))

    def test_iam_wildcards(self):
        self.assertTrue(tc.iam_wildcard("a:*/v1/*/@connections/*", "a:x/v1/POST/@connections/<id>"))
        self.assertTrue(tc.iam_wildcard("a?c", "abc"))
        self.assertFalse(tc.iam_wildcard("a[b]c", "abc"))
        self.assertTrue(tc.iam_wildcard("a[b]c", "a[b]c"))
        self.assertTrue(tc.iam_wildcard("DynamoDB:query", "dynamodb:Query", case_insensitive=True))


class ExpansionTest(unittest.TestCase):
    def test_foreach_substitutes_keys_sub_strings_and_refs(self):
        raw = {
            "Transform": ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"],
            "Resources": {
                f"{FOREACH}Topics": [
                    "Name",
                    ["a-b", "C"],
                    {"Topic&{Name}": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "Name"}, "DisplayName": {"Fn::Sub": "${Name} of ${AWS::StackName}"}}}},
                ]
            },
        }
        out = expand(raw)
        self.assertEqual(out["Transform"], "AWS::Serverless-2016-10-31")
        self.assertEqual(sorted(out["Resources"]), ["TopicC", "Topicab"])
        self.assertEqual(out["Resources"]["Topicab"]["Properties"], {"TopicName": "a-b", "DisplayName": {"Fn::Sub": "a-b of ${AWS::StackName}"}})

    def test_a_collision_is_refused(self):
        raw = {
            "Transform": "AWS::LanguageExtensions",
            "Resources": {"TopicA": {"Type": "AWS::SNS::Topic"}, f"{FOREACH}T": ["N", ["A"], {"Topic${N}": {"Type": "AWS::SNS::Topic"}}]},
        }
        with self.assertRaises(ExpansionError):
            expand(raw)


if __name__ == "__main__":
    unittest.main()
