"""The monitoring check of template_checks.py can fail (a check that cannot is worthless), and
the Fn::ForEach expansion it relies on: `.venv-tools/bin/python infra/checks/test_template_checks.py`
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
