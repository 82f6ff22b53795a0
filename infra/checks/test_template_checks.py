"""The monitoring, deployment-alarm and push channel checks of template_checks.py can fail (a
check that cannot is worthless), so can the recorded-calls IAM check, and the Fn::ForEach
expansion they rely on: `.venv-tools/bin/python infra/checks/test_template_checks.py`
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

    def test_a_function_named_on_the_dashboard_counts_only_for_the_metrics_graphed(self):
        raw = copy.deepcopy(RAW)
        body = raw["Resources"]["OpsDashboard"]["Properties"]["DashboardBody"]
        body["Fn::Sub"] = body["Fn::Sub"].replace("aws:cloudformation:stack-name", "team")
        lines = ",".join(f'["AWS/Lambda", "{m}", "FunctionName", "${{HealthFunction}}"]' for m in tc.WATCHED_METRICS)
        body["Fn::Sub"] = body["Fn::Sub"].replace('"metrics": [\n', f'"metrics": [{lines},\n', 1)
        found = gaps(raw)["dashboard"]
        self.assertNotIn("HealthFunction", found)
        # The push consumer is named for its IteratorAge only.
        self.assertIn("PushFanoutFunction", found)
        self.assertEqual(len(found), FUNCTIONS - 1)

    def test_a_duration_alarm_not_at_80_percent_of_the_timeout_fails(self):
        self.assertEqual(tc.duration_threshold_gaps(expand(RAW)), [])
        raw = copy.deepcopy(RAW)
        raw["Resources"]["HealthFunction"]["Properties"]["Timeout"] = 30
        self.assertEqual(tc.duration_threshold_gaps(expand(raw)), ["HealthFunction (8000 ms for a 30 s timeout)"])

    def test_essential_monitoring_has_no_per_function_alarms(self):
        found = gaps(RAW, {"Environment": "dev"})
        self.assertEqual(len(found["errors alarm"]), FUNCTIONS)


def translated(raw: dict, params: dict = PROD) -> tuple[dict, dict, "tc.Resolver"]:
    sam = expand(raw)
    cfn = tc.translate(sam, params)
    return sam, cfn, tc.Resolver(cfn, params)


def push_problems(raw: dict, params: dict = PROD) -> dict:
    sam, cfn, resolver = translated(raw, params)
    return {**tc.websocket_problems(sam, cfn, resolver), **tc.stream_problems(cfn, resolver)}


def failing(found: dict) -> dict:
    return {k: v for k, v in found.items() if v}


class DeploymentAlarmsTest(unittest.TestCase):
    """A deployment's rollback alarms must see the function: the REST API's 5XX alarm cannot
    guard a WebSocket route, a stream consumer or a scheduled function."""

    def test_the_template_as_it_is_passes(self):
        for params in (PROD, {"Environment": "dev"}):
            gaps = tc.deployment_gaps(*translated(RAW, params)[1:])
            self.assertEqual(gaps["unguarded"], [], json.dumps(gaps))

    def test_a_websocket_route_on_the_rest_api_alarm_fails(self):
        raw = copy.deepcopy(RAW)
        raw["Resources"]["PushMessageFunction"]["Properties"]["DeploymentPreference"]["Alarms"] = {
            "Fn::If": ["FullMonitoring", [{"Ref": "Api5xxAlarm"}, {"Ref": "PushMessageFunctionErrorsAlarm"}], [{"Ref": "Api5xxAlarm"}]]
        }
        for params in (PROD, {"Environment": "dev"}):
            gaps = tc.deployment_gaps(*translated(raw, params)[1:])
            self.assertEqual(gaps["unguarded"], ["PushMessageFunction (on Api5xxAlarm, which never sees it)"], json.dumps(gaps))

    def test_the_stream_consumer_without_its_dead_letter_alarm_fails_in_essential(self):
        raw = copy.deepcopy(RAW)
        raw["Resources"]["PushFanoutFunction"]["Properties"]["DeploymentPreference"]["Alarms"] = {
            "Fn::If": ["FullMonitoring", [{"Ref": "PushFanoutFunctionErrorsAlarm"}], []]
        }
        gaps = tc.deployment_gaps(*translated(raw, {"Environment": "dev"})[1:])
        self.assertEqual(gaps["unguarded"], ["PushFanoutFunction (on no alarm, though PushFanoutFailuresAlarm sees it)"])

    def test_a_rest_function_without_the_5xx_alarm_fails_in_essential(self):
        raw = copy.deepcopy(RAW)
        raw["Resources"]["HealthFunction"]["Properties"]["DeploymentPreference"]["Alarms"] = {
            "Fn::If": ["FullMonitoring", [{"Ref": "HealthFunctionErrorsAlarm"}], []]
        }
        gaps = tc.deployment_gaps(*translated(raw, {"Environment": "dev"})[1:])
        self.assertEqual(gaps["unguarded"], ["HealthFunction (on no alarm, though Api5xxAlarm sees it)"])


class PushChannelCheckTest(unittest.TestCase):
    """Each push check fails on a template that breaks what it asserts."""

    def test_the_template_as_it_is_passes(self):
        for params in (PROD, {"Environment": "dev"}):
            self.assertEqual(failing(push_problems(RAW, params)), {})

    def test_a_route_on_the_wrong_crate_fails(self):
        raw = copy.deepcopy(RAW)
        raw["Resources"]["PushApi"]["Properties"]["Routes"]["$connect"]["FunctionArn"] = {"Ref": "PushDisconnectFunction.Alias"}
        found = failing(push_problems(raw))
        self.assertIn("$connect: invokes push-disconnect", found["routes"][0])
        # And push-disconnect may now be invoked from $connect too.
        self.assertEqual(list(found), ["routes", "permissions"], json.dumps(found))

    def test_a_route_past_the_alias_fails(self):
        raw = copy.deepcopy(RAW)
        raw["Resources"]["PushApi"]["Properties"]["Routes"]["$disconnect"]["FunctionArn"] = {"Fn::GetAtt": ["PushDisconnectFunction", "Arn"]}
        found = failing(push_problems(raw))
        self.assertEqual(list(found), ["routes"], json.dumps(found))
        self.assertIn("not the function's alias", found["routes"][0])

    def test_a_permission_for_any_stage_fails(self):
        sam, cfn, resolver = translated(RAW)
        arn = cfn["Resources"]["PushApiConnectPermission"]["Properties"]["SourceArn"]
        arn["Fn::Sub"] = arn["Fn::Sub"].replace("/v1/$connect", "/*/$connect")
        found = failing(tc.websocket_problems(sam, cfn, resolver))
        self.assertEqual(list(found), ["permissions"], json.dumps(found))

    def test_an_unthrottled_or_unlogged_stage_fails(self):
        for prop in ("DefaultRouteSettings", "AccessLogSettings"):
            raw = copy.deepcopy(RAW)
            del raw["Resources"]["PushApi"]["Properties"][prop]
            found = failing(push_problems(raw))
            self.assertEqual(list(found), ["stage"], json.dumps(found))

    def test_no_route_response_selection_on_default_fails(self):
        raw = copy.deepcopy(RAW)
        del raw["Resources"]["PushApi"]["Properties"]["Routes"]["$default"]["RouteResponseSelectionExpression"]
        self.assertEqual(list(failing(push_problems(raw))), ["route response"])

    def test_each_missing_stream_mapping_setting_fails(self):
        for prop, value in (
            ("FunctionResponseTypes", None),
            ("BisectBatchOnFunctionError", None),
            ("MaximumRetryAttempts", -1),
            ("MaximumRetryAttempts", 11),
            ("MaximumRecordAgeInSeconds", None),
            ("FilterCriteria", None),
        ):
            raw = copy.deepcopy(RAW)
            event = raw["Resources"]["PushFanoutFunction"]["Properties"]["Events"]["Changes"]["Properties"]
            if value is None:
                del event[prop]
            else:
                event[prop] = value
            found = failing(push_problems(raw))
            self.assertEqual(list(found), ["mappings"], f"{prop}={value}: {json.dumps(found)}")

    def test_no_on_failure_destination_fails(self):
        raw = copy.deepcopy(RAW)
        del raw["Resources"]["PushFanoutFunction"]["Properties"]["Events"]["Changes"]["Properties"]["DestinationConfig"]
        raw["Resources"]["PushFanoutFunction"]["Properties"]["DeploymentPreference"]["Alarms"] = []
        self.assertIn("no OnFailure destination", " ".join(push_problems(raw)["mappings"]))

    def test_a_stream_without_a_consumer_fails(self):
        raw = copy.deepcopy(RAW)
        del raw["Resources"]["PushFanoutFunction"]["Properties"]["Events"]
        self.assertIn("ChatTable has a stream that no function consumes", push_problems(raw)["mappings"])

    def test_no_iterator_age_alarm_fails_with_full_monitoring(self):
        raw = copy.deepcopy(RAW)
        del raw["Resources"]["PushFanoutIteratorAgeAlarm"]
        props = raw["Resources"]["PushFanoutFunction"]["Properties"]["DeploymentPreference"]
        props["Alarms"] = {"Fn::If": ["FullMonitoring", [{"Ref": "PushFanoutFunctionErrorsAlarm"}], [{"Ref": "PushFanoutFailuresAlarm"}]]}
        body = raw["Resources"]["OpsDashboard"]["Properties"]["DashboardBody"]
        body["Fn::Sub"] = body["Fn::Sub"].replace('"${PushFanoutIteratorAgeAlarm.Arn}",', "")
        self.assertEqual(list(failing(push_problems(raw))), ["iterator age alarm"])

    def test_a_dead_letter_alarm_missing_in_essential_or_at_a_higher_threshold_fails(self):
        raw = copy.deepcopy(RAW)
        raw["Resources"]["PushFanoutFailuresAlarm"]["Condition"] = "FullMonitoring"
        raw["Resources"]["PushFanoutFunction"]["Properties"]["DeploymentPreference"]["Alarms"] = {
            "Fn::If": ["FullMonitoring", [{"Ref": "PushFanoutFunctionErrorsAlarm"}], []]
        }
        self.assertEqual(list(failing(push_problems(raw, {"Environment": "dev"}))), ["dead-letter alarm"])
        raw = copy.deepcopy(RAW)
        raw["Resources"]["PushFanoutFailuresAlarm"]["Properties"]["Threshold"] = 10
        self.assertEqual(list(failing(push_problems(raw))), ["dead-letter alarm"])

    def test_manage_connections_on_any_api_or_for_another_function_fails(self):
        raw = copy.deepcopy(RAW)
        statement = raw["Resources"]["PushFanoutFunction"]["Properties"]["Policies"][0]["Statement"][0]
        statement["Resource"] = [{"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:*/v1/POST/@connections/*"}]
        found = failing(push_problems(raw))
        self.assertEqual(list(found), ["manage connections"], json.dumps(found))
        raw = copy.deepcopy(RAW)
        grant = copy.deepcopy(raw["Resources"]["PushFanoutFunction"]["Properties"]["Policies"][0]["Statement"][0])
        raw["Resources"]["PushMessageFunction"]["Properties"]["Policies"][0]["Statement"].append(grant)
        found = failing(push_problems(raw))
        self.assertEqual(found, {"manage connections": ["PushMessageFunction may call execute-api:ManageConnections and consumes no stream"]})


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
        self.assertTrue(self.verdict("Query", leading_key="CONNS#<id>"))
        self.assertTrue(self.verdict("UpdateItem", leading_key="PUSH"))
        self.assertFalse(self.verdict("Query", leading_key="SESSION#<id>"))
        self.assertFalse(self.verdict("UpdateItem", leading_key="SESSION#<id>"))
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
