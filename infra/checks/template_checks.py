"""What `sam deploy` will create, checked offline.

template.yaml is translated with SAM's own translator (samtranslator, shipped with the SAM CLI
in .venv-tools) once per samconfig.toml environment, with that environment's
parameter_overrides, and the CloudFormation that comes out is checked: one API stage, every
function behind an alias with a gradual deployment guarded by alarms that see it (a REST API
alarm guards only the functions that API invokes), tracing, access logs, the table's deletion
policy, alarms that reach someone in prod, no empty header values, and every function's
monitoring: with full monitoring each AWS::Serverless::Function has its own Errors, Throttles
and Duration alarm and is on the ops dashboard (checked again on copies of the template with a
function left out, where it must fail). The push channel: one throttled, logged WebSocket stage,
each route on its own crate's alias with a permission for that route only, the $default route
response, the stream mappings' failure handling and filter, the IteratorAge and dead-letter
alarms, and execute-api:ManageConnections only for the stream consumer on this API's stage.

The template uses the AWS::LanguageExtensions transform (Fn::ForEach); it is expanded first
(infra/checks/language_extensions.py, compared with SAM CLI's own expander), as CloudFormation
does before SAM's transform.

With --iam-calls DIR it also checks the calls the test suite recorded per function (tests/lib.rs
writes them to DIR: DynamoDB actions, and `execute-api:ManageConnections` on
`PushApi/<stage>/<METHOD>/@connections/<id>`) against each function's translated IAM policy,
with `${PushApi}` and the pseudo parameters resolved as for the policies: any call the policy
does not allow fails, and so does a function that may use DynamoDB or the management API but
was never seen calling it (a coverage gap).

Usage: template_checks.py [--iam-calls DIR]
Prints one line per check and, last, `template checks: N passed, M failed`; exits 1 on a failure.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import re
import shlex
import sys
import tomllib
from pathlib import Path

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

from language_extensions import FOREACH, expand, uses_language_extensions

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT = "123456789012"
PARTITION = "aws"


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}{': ' + detail if detail else ''}")
        return ok

    def note(self, what: str) -> None:
        print(f"note {what}")


# ---------------------------------------------------------------------------------------------
# Inputs: samconfig environments and the translated template


def samconfig_environments(samconfig: dict) -> dict[str, dict]:
    return {name: body for name, body in samconfig.items() if isinstance(body, dict)}


def parameter_overrides(env: dict) -> dict[str, str]:
    text = env.get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
    if isinstance(text, list):
        text = " ".join(text)
    params = {}
    for pair in shlex.split(text):
        key, _, value = pair.partition("=")
        params[key] = value
    return params


def translate(template: dict, params: dict[str, str]) -> dict:
    # A session only to name the region; nothing is sent to AWS.
    session = boto3.session.Session(region_name=REGION)
    translator = Translator(managed_policy_map={}, sam_parser=Parser(), boto_session=session)
    # What `sam deploy` translates: the template after packaging, code in S3.
    packaged = copy.deepcopy(template)
    for resource in packaged["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            name = Path(resource["Properties"]["CodeUri"]).name
            resource["Properties"]["CodeUri"] = f"s3://deploy-bucket/{name}.zip"
    values = dict(params)
    values.update({"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": PARTITION})
    return translator.translate(
        sam_template=packaged,
        parameter_values=values,
        get_managed_policy_map=lambda: {},
    )


class Resolver:
    """Enough of CloudFormation's intrinsic functions to evaluate conditions, Rules and the
    ARNs in IAM policies, with made-up physical names."""

    def __init__(self, cfn: dict, params: dict[str, str]):
        self.cfn = cfn
        self.params = {}
        for name, spec in cfn.get("Parameters", {}).items():
            default = spec.get("Default")
            self.params[name] = params.get(name, "" if default is None else str(default))
        self.params.update(
            {
                "AWS::Region": REGION,
                "AWS::AccountId": ACCOUNT,
                "AWS::Partition": PARTITION,
                "AWS::StackName": "stack",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::NoValue": None,
            }
        )
        self.conditions: dict[str, bool] = {}
        for name in cfn.get("Conditions", {}):
            self.condition(name)

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.value(self.cfn["Conditions"][name]))
        return self.conditions[name]

    def ref(self, name: str):
        if name in self.params:
            return self.params[name]
        resource = self.cfn["Resources"][name]
        if resource["Type"] == "AWS::SecretsManager::Secret":
            return f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-AbCdEf"
        return f"{name.lower()}-physical"

    def get_att(self, name: str, attribute: str):
        resource = self.cfn["Resources"][name]
        if attribute == "Arn" and resource["Type"] == "AWS::DynamoDB::Table":
            return f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{self.ref(name)}"
        return f"arn:{PARTITION}:{resource['Type'].split('::')[1].lower()}:{REGION}:{ACCOUNT}:{name}/{attribute}"

    def sub(self, text: str, local: dict) -> str:
        def one(match: re.Match) -> str:
            key = match.group(1)
            if key in local:
                return str(self.value(local[key]))
            if "." in key and key.split(".")[0] in self.cfn["Resources"]:
                name, attribute = key.split(".", 1)
                return str(self.get_att(name, attribute))
            return str(self.ref(key))

        return re.sub(r"\$\{([^}!]+)\}", one, text)

    def value(self, node):
        if isinstance(node, list):
            return [self.value(v) for v in node if not _is_no_value(v)]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(name, attribute)
            if key == "Fn::Sub":
                text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                return self.sub(text, local)
            if key == "Fn::Join":
                return arg[0].join(str(self.value(v)) for v in arg[1])
            if key == "Fn::If":
                return self.value(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::Equals":
                return self.value(arg[0]) == self.value(arg[1])
            if key == "Fn::Not":
                return not self.value(arg[0])
            if key == "Fn::And":
                return all(self.value(a) for a in arg)
            if key == "Fn::Or":
                return any(self.value(a) for a in arg)
            if key == "Fn::Contains":
                return self.value(arg[1]) in self.value(arg[0])
            if key == "Condition":
                return self.condition(arg)
        # A value that resolves to AWS::NoValue removes its key, as in CloudFormation.
        resolved = {k: self.value(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not None}


def _is_no_value(node) -> bool:
    return node == {"Ref": "AWS::NoValue"}


def choose(node, resolver: Resolver):
    """The node with every Fn::If decided by this environment's conditions, the rest as is."""
    if isinstance(node, list):
        return [choose(v, resolver) for v in node if not _is_no_value(v)]
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return choose(yes if resolver.condition(name) else no, resolver)
        return {k: choose(v, resolver) for k, v in node.items() if not _is_no_value(v)}
    return node


def resources(cfn: dict, kind: str) -> dict[str, dict]:
    return {n: r for n, r in cfn["Resources"].items() if r["Type"] == kind}


def created(cfn: dict, resolver: Resolver, kind: str) -> dict[str, dict]:
    """Resources of a type that this environment's parameters actually create."""
    return {
        n: r
        for n, r in resources(cfn, kind).items()
        if "Condition" not in r or resolver.condition(r["Condition"])
    }


def function_names(sam: dict) -> dict[str, str]:
    """Logical id -> function name (its CodeUri folder), for every SAM function."""
    return {
        logical: Path(resource["Properties"]["CodeUri"]).name
        for logical, resource in sam["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


# ---------------------------------------------------------------------------------------------
# The checks, per environment


def check_samconfig(report: Report, samconfig: dict) -> None:
    def walk(node, path):
        for key, value in node.items():
            if isinstance(value, dict):
                yield from walk(value, path + [key])
            else:
                yield path + [key], value

    stale = [".".join(p) for p, _ in walk(samconfig, []) if p[-1] in ("cached", "beta_features")]
    report.check(not stale, "samconfig.toml: no `cached` (stale builds) and no `beta_features`", ", ".join(stale))
    for name, env in samconfig_environments(samconfig).items():
        region = env.get("global", {}).get("parameters", {}).get("region")
        report.check(bool(region), f"samconfig.toml [{name}]: region pinned", "no global.parameters.region")


def check_samconfig_expands(report: Report, samconfig: dict, raw: dict) -> None:
    """SAM CLI expands Fn::ForEach locally only when asked; `sam build` fails without it."""
    if not uses_language_extensions(raw):
        return
    for name, env in samconfig_environments(samconfig).items():
        unset = [c for c in ("build", "deploy") if env.get(c, {}).get("parameters", {}).get("language_extensions") is not True]
        report.check(not unset, f"samconfig.toml [{name}]: language_extensions = true for build and deploy", f"not in {unset}")


def check_expansion(report: Report, raw: dict, sam: dict) -> None:
    """Our Fn::ForEach expansion makes the resources SAM CLI's own expander makes."""
    report.check(uses_language_extensions(raw), "template.yaml uses the AWS::LanguageExtensions transform (Fn::ForEach)")
    left = [k for k in sam["Resources"] if k.startswith(FOREACH)]
    report.check(not left, "no Fn::ForEach left after expansion", ", ".join(left))
    try:
        from samcli.lib.cfn_language_extensions.sam_integration import expand_language_extensions
    except ImportError:
        report.note("SAM CLI's language extensions expander is not importable: not compared")
        return
    theirs = expand_language_extensions(copy.deepcopy(raw), {}, enabled=True).expanded_template["Resources"]

    def shape(resources: dict) -> dict:
        return {n: (r.get("Type"), r.get("Condition")) for n, r in resources.items()}

    ours, cli = shape(sam["Resources"]), shape(theirs)
    differ = sorted(n for n in ours.keys() | cli.keys() if ours.get(n) != cli.get(n))
    report.check(not differ, f"Fn::ForEach expanded as SAM CLI expands it ({len(ours)} resources)", ", ".join(differ[:10]))


def check_environment(report: Report, env_name: str, sam: dict, params: dict[str, str]) -> dict:
    tag = f"[{env_name}]"
    cfn = translate(sam, params)
    resolver = Resolver(cfn, params)

    stages = resources(cfn, "AWS::ApiGateway::Stage")
    # A Deployment with a StageName creates a stage of its own (SAM's hidden "Stage"), one
    # with none of the Stage resource's throttling, logging or WAF.
    hidden = [
        f"{n} (StageName {d['Properties']['StageName']})"
        for n, d in resources(cfn, "AWS::ApiGateway::Deployment").items()
        if d["Properties"].get("StageName")
    ]
    report.check(
        len(stages) == 1 and not hidden,
        f"{tag} exactly one API stage",
        ", ".join([f"{n} ({s['Properties'].get('StageName')})" for n, s in stages.items()] + hidden),
    )
    for name, stage in stages.items():
        props = stage["Properties"]
        report.check(props.get("TracingEnabled") is True, f"{tag} stage {name}: X-Ray tracing on")
        log = props.get("AccessLogSetting") or {}
        fields = {}
        try:
            fields = json.loads(re.sub(r"\$context\.[\w.]+", "x", log.get("Format", "")))
        except json.JSONDecodeError:
            pass
        wanted = {"requestId", "sourceIp", "status", "responseLatency", "wafResponseCode"}
        report.check(
            bool(log.get("DestinationArn")) and wanted <= set(fields),
            f"{tag} stage {name}: JSON access logs with {', '.join(sorted(wanted))}",
            f"missing {sorted(wanted - set(fields))}" if log else "no AccessLogSetting",
        )
        metered = [
            f"{m.get('HttpMethod')} {m.get('ResourcePath')}"
            for m in props.get("MethodSettings", [])
            if resolver.value(m.get("MetricsEnabled")) in (True, "true")
        ]
        alarm_dimensions = json.dumps([a["Properties"] for a in resources(cfn, "AWS::CloudWatch::Alarm").values()])
        unused = [m for m in metered if '"Method"' not in alarm_dimensions]
        report.check(not unused, f"{tag} per-method detailed metrics only where an alarm uses them", ", ".join(unused))

    functions = resources(cfn, "AWS::Lambda::Function")
    alarms = resources(cfn, "AWS::CloudWatch::Alarm")
    gaps = deployment_gaps(cfn, resolver)
    report.check(bool(functions) and not gaps["untraced"], f"{tag} X-Ray tracing on all {len(functions)} functions", ", ".join(gaps["untraced"]))
    report.check(not gaps["unaliased"], f"{tag} every function behind an alias (AutoPublishAlias)", ", ".join(gaps["unaliased"]))
    report.check(
        not gaps["unguarded"],
        f"{tag} every function deploys gradually (CodeDeploy) with rollback alarms that see it",
        "; ".join(gaps["unguarded"]),
    )
    if gaps["unwatched"]:
        report.note(f"{tag} no alarm of this environment sees {', '.join(gaps['unwatched'])}: they deploy gradually without rollback alarms")
    check_function_monitoring(report, tag, sam, cfn, resolver)

    tables = resources(cfn, "AWS::DynamoDB::Table")
    wrong = [
        f"{n}: DeletionPolicy={t.get('DeletionPolicy')} UpdateReplacePolicy={t.get('UpdateReplacePolicy')}"
        for n, t in tables.items()
        # CloudFormation accepts RetainExceptOnCreate only as a DeletionPolicy.
        if t.get("DeletionPolicy") != "RetainExceptOnCreate" or t.get("UpdateReplacePolicy") != "Retain"
    ]
    report.check(bool(tables) and not wrong, f"{tag} table DeletionPolicy RetainExceptOnCreate, UpdateReplacePolicy Retain", "; ".join(wrong))

    check_alarm_email_rule(report, tag, cfn, params)

    made = created(cfn, resolver, "AWS::CloudWatch::Alarm")
    silent = [n for n, a in made.items() if not a["Properties"].get("AlarmActions")]
    report.check(bool(made) and not silent, f"{tag} all {len(made)} alarms notify the alarm topic", ", ".join(silent))
    for name in ("Api5xxAlarm", "ApiThrottledAlarm", "ApiLatencyAlarm"):
        expressions = " ".join(
            str(resolver.value(m.get("Expression", ""))) for m in alarms.get(name, {}).get("Properties", {}).get("Metrics", [])
        )
        report.check(
            re.search(r"IF\(requests >= \d+", expressions) is not None,
            f"{tag} {name} has a minimum-traffic guard",
            expressions or "no such alarm",
        )

    check_no_empty_headers(report, tag, cfn, resolver)
    check_gateway_responses(report, tag, cfn, resolver)
    check_waf(report, tag, cfn, resolver)
    check_push_channel(report, tag, sam, cfn, resolver)
    return cfn


def check_alarm_email_rule(report: Report, tag: str, cfn: dict, params: dict[str, str]) -> None:
    """A prod stack without AlarmEmail must be refused by CloudFormation (template Rules)."""

    def refused(overrides: dict[str, str]) -> bool:
        resolver = Resolver(cfn, {**params, **overrides})
        for rule in cfn.get("Rules", {}).values():
            applies = "RuleCondition" not in rule or resolver.value(rule["RuleCondition"])
            if applies and not all(resolver.value(a["Assert"]) for a in rule["Assertions"]):
                return True
        return False

    prod_unset = refused({"Environment": "prod", "AlarmEmail": ""})
    prod_set = refused({"Environment": "prod", "AlarmEmail": "ops@example.com"})
    dev_unset = refused({"Environment": "dev", "AlarmEmail": ""})
    report.check(
        prod_unset and not prod_set and not dev_unset,
        f"{tag} Rules: prod without AlarmEmail is refused; with it, or in dev, accepted",
        f"prod unset refused={prod_unset}, prod set refused={prod_set}, dev unset refused={dev_unset}",
    )
    if params.get("Environment") == "prod" and not params.get("AlarmEmail"):
        report.note(f"{tag} sets no AlarmEmail: CloudFormation refuses this deploy until it does")


def header_values(node, path=""):
    """Every response header value set anywhere in a resolved template fragment."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and re.match(r"(gatewayresponse|method\.response)\.header\.", key):
                yield f"{path}/{key}", value
            elif key == "ResponseHeaders" and isinstance(value, list):
                for header in value:
                    yield f"{path}/{key}/{header.get('Name')}", header.get("Value")
            else:
                yield from header_values(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from header_values(value, f"{path}/{i}")


def check_no_empty_headers(report: Report, tag: str, cfn: dict, resolver: Resolver) -> None:
    resolved = resolver.value({n: r for n, r in cfn["Resources"].items()})
    empty = [p for p, v in header_values(resolved) if not isinstance(v, str) or v in ("", "''")]
    report.check(not empty, f"{tag} every header value is a non-empty string", "; ".join(empty[:5]))
    if not resolver.params.get("DashboardOrigin"):
        cors = [p for p, _ in header_values(resolved) if "Access-Control-Allow-Origin" in p]
        report.check(not cors, f"{tag} no CORS header while DashboardOrigin is empty", "; ".join(cors[:5]))


def check_gateway_responses(report: Report, tag: str, cfn: dict, resolver: Resolver) -> None:
    apis = resources(cfn, "AWS::ApiGateway::RestApi")
    bad = []
    count = 0
    for api in apis.values():
        body = resolver.value(api["Properties"].get("Body", {}))
        for kind, response in body.get("x-amazon-apigateway-gateway-responses", {}).items():
            for template in response.get("responseTemplates", {}).values():
                count += 1
                try:
                    envelope = json.loads(template.replace("$context.requestId", "id-1"))
                    error = envelope["error"]
                    ok = (
                        envelope.get("success") is False
                        and isinstance(error.get("code"), str)
                        and isinstance(error.get("message"), str)
                        and error.get("details", {}).get("requestId") == "id-1"
                    )
                except (json.JSONDecodeError, KeyError, AttributeError):
                    ok = False
                if not ok:
                    bad.append(kind)
    report.check(
        count > 0 and not bad,
        f"{tag} {count} gateway responses are the error envelope with details.requestId",
        ", ".join(bad),
    )


def check_waf(report: Report, tag: str, cfn: dict, resolver: Resolver) -> None:
    acls = created(cfn, resolver, "AWS::WAFv2::WebACL")
    if not acls:
        report.note(f"{tag} no WAF web ACL in this environment")
        return
    for name, acl in acls.items():
        rules = resolver.value(acl["Properties"]["Rules"])
        unscoped = [r["Name"] for r in rules if "ScopeDownStatement" not in r["Statement"].get("RateBasedStatement", {})]
        report.check(not unscoped, f"{tag} WAF {name}: every rate rule is scoped to a group of routes", ", ".join(unscoped))
        headerless = [
            r["Name"]
            for r in rules
            if "Block" in r["Action"]
            and not any(
                h["Name"] == "Cache-Control"
                for h in r["Action"]["Block"].get("CustomResponse", {}).get("ResponseHeaders", [])
            )
        ]
        report.check(not headerless, f"{tag} WAF {name}: block responses carry Cache-Control", ", ".join(headerless))


# ---------------------------------------------------------------------------------------------
# Every function monitored: its own Errors, Throttles and Duration alarms, and the dashboard

WATCHED_METRICS = ("Errors", "Throttles", "Duration")


def _function_of(value) -> str | None:
    """The function logical id a FunctionName dimension names: !Ref X or !Sub "${X}"."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return value["Ref"]
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        match = re.fullmatch(r"\$\{([\w]+)\}", value["Fn::Sub"])
        return match.group(1) if match else None
    return None


def _alarm_metrics(alarm: dict) -> list[dict]:
    """Every metric an alarm reads (a single-metric alarm, or each MetricStat of metric math)."""
    props = alarm.get("Properties", {})
    if "MetricName" in props:
        return [props]
    return [m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m]


def _alarm_watches(alarm: dict, metric: str, function: str) -> bool:
    return any(
        m.get("Namespace") == "AWS/Lambda"
        and m.get("MetricName") == metric
        and any(d.get("Name") == "FunctionName" and _function_of(d.get("Value")) == function for d in m.get("Dimensions", []))
        for m in _alarm_metrics(alarm)
    )


def dashboard_coverage(cfn: dict, resolver: Resolver) -> tuple[set[str], set[tuple[str, str]]]:
    """(metrics every function of the stack is graphed with, (function, metric) pairs graphed
    for one function by name).

    A metrics explorer widget over AWS::Lambda::Function filtered by this stack's
    aws:cloudformation:stack-name tag graphs every function the stack creates. A metric widget
    line ["AWS/Lambda", metric, "FunctionName", "${Function}"] graphs that one: naming a
    function on the dashboard for another metric (the push consumer's IteratorAge) covers
    nothing else."""
    everyone, named = set(), set()
    for dashboard in created(cfn, resolver, "AWS::CloudWatch::Dashboard").values():
        body = dashboard["Properties"]["DashboardBody"]
        text = body.get("Fn::Sub") if isinstance(body, dict) else body
        text = text[0] if isinstance(text, list) else text
        if not isinstance(text, str):
            continue
        try:
            widgets = json.loads(text.replace("${AWS::StackName}", "STACK").replace("${", "{")).get("widgets", [])
        except json.JSONDecodeError:
            continue
        for widget in widgets:
            props = widget.get("properties", {})
            labels = {(l.get("key"), l.get("value")) for l in props.get("labels", [])}
            if widget.get("type") == "explorer" and ("aws:cloudformation:stack-name", "STACK") in labels:
                everyone |= {m.get("metricName") for m in props.get("metrics", []) if m.get("resourceType") == "AWS::Lambda::Function"}
            if widget.get("type") == "metric":
                for line in props.get("metrics", []):
                    names = [v for v in line if isinstance(v, str)]
                    if names[:1] != ["AWS/Lambda"] or len(names) < 4:
                        continue
                    dimensions = dict(zip(names[2::2], names[3::2]))
                    function = re.fullmatch(r"\{(\w+)\}", dimensions.get("FunctionName", ""))
                    if function:
                        named.add((function.group(1), names[1]))
    return everyone, named


def monitoring_gaps(sam: dict, cfn: dict, resolver: Resolver) -> dict[str, list[str]]:
    """What monitoring each kind lacks: "errors alarm" etc. -> functions without it."""
    functions = sorted(function_names(sam))
    made = created(cfn, resolver, "AWS::CloudWatch::Alarm")
    gaps = {}
    for metric in WATCHED_METRICS:
        gaps[f"{metric.lower()} alarm"] = [f for f in functions if not any(_alarm_watches(a, metric, f) for a in made.values())]
    everyone, named = dashboard_coverage(cfn, resolver)
    gaps["dashboard"] = [f for f in functions if not all(m in everyone or (f, m) in named for m in WATCHED_METRICS)]
    return gaps


def duration_threshold_gaps(sam: dict) -> list[str]:
    """Functions whose Duration alarm does not fire at 80 % of their own timeout (the alarm's
    threshold comes from the DurationAlarm mapping, 8000 ms when a function has no entry)."""
    default_timeout = sam.get("Globals", {}).get("Function", {}).get("Timeout", 3)
    mapping = sam.get("Mappings", {}).get("DurationAlarm", {})
    wrong = []
    for function in sorted(function_names(sam)):
        alarm = sam["Resources"].get(f"{function}DurationAlarm")
        if alarm is None:
            continue  # reported by monitoring_gaps
        threshold = alarm["Properties"]["Threshold"]
        if isinstance(threshold, dict) and "Fn::FindInMap" in threshold:
            _, _, field, *rest = threshold["Fn::FindInMap"]
            default = rest[0].get("DefaultValue") if rest else None
            threshold = mapping.get(function, {}).get(field, default)
        timeout = sam["Resources"][function]["Properties"].get("Timeout", default_timeout)
        if threshold != timeout * 1000 * 8 // 10:
            wrong.append(f"{function} ({threshold} ms for a {timeout} s timeout)")
    return wrong


def check_function_monitoring(report: Report, tag: str, sam: dict, cfn: dict, resolver: Resolver) -> None:
    functions = function_names(sam)
    if not resolver.conditions.get("FullMonitoring"):
        made = created(cfn, resolver, "AWS::CloudWatch::Alarm")
        report.check("Api5xxAlarm" in made, f"{tag} essential monitoring keeps the API 5XX alarm (deployment rollback)")
        report.note(f"{tag} essential monitoring: {len(made)} alarms, no per-function alarms, no dashboard")
        return
    for kind, missing in monitoring_gaps(sam, cfn, resolver).items():
        where = "on the ops dashboard" if kind == "dashboard" else f"in its own {kind}"
        report.check(not missing, f"{tag} every one of the {len(functions)} functions is {where}", ", ".join(missing))
    wrong = duration_threshold_gaps(sam)
    report.check(not wrong, f"{tag} every Duration alarm fires at 80 % of its function's timeout", ", ".join(wrong))


def without_function_in_loops(sam_raw: dict, function: str) -> dict:
    """A copy of the template whose Fn::ForEach lists leave one function out."""
    copy_ = copy.deepcopy(sam_raw)
    for key, value in copy_["Resources"].items():
        if key.startswith(FOREACH) and isinstance(value[1], list) and function in value[1]:
            value[1].remove(function)
            # Its DeploymentPreference names its own Errors alarm, which is now gone.
            copy_["Resources"][function]["Properties"].pop("DeploymentPreference", None)
    return copy_


def with_extra_function(sam_raw: dict, like: str, name: str) -> dict:
    """A copy of the template with one more function (a copy of `like`) in no list."""
    copy_ = copy.deepcopy(sam_raw)
    extra = copy.deepcopy(copy_["Resources"][like])
    extra["Properties"].pop("DeploymentPreference", None)
    extra["Properties"].pop("Events", None)
    extra["Properties"]["CodeUri"] = f"functions/{name}"
    copy_["Resources"][name] = extra
    return copy_


def check_coverage_check_fails(report: Report, sam_raw: dict, params: dict[str, str]) -> None:
    """The coverage check must be able to fail: on a copy with a function left out of the
    alarm list, and on one with a new function no list has, it reports exactly that function."""
    prod = {**params, "Environment": "prod", "AlarmEmail": "ops@example.com"}
    victim = sorted(function_names(expand(sam_raw)))[0]
    for what, variant, function in (
        (f"{victim} left out of the alarm list", without_function_in_loops(sam_raw, victim), victim),
        ("a new function in no list", with_extra_function(sam_raw, victim, "ExtraFunction"), "ExtraFunction"),
    ):
        sam = expand(variant)
        cfn = translate(sam, prod)
        gaps = monitoring_gaps(sam, cfn, Resolver(cfn, prod))
        alarm_gaps = {k: v for k, v in gaps.items() if k != "dashboard"}
        report.check(
            all(v == [function] for v in alarm_gaps.values()),
            f"the monitoring check fails for {what}",
            json.dumps(gaps),
        )


# ---------------------------------------------------------------------------------------------
# Who invokes each function, and which alarms see it (deployment rollback alarms)


def _referenced(node) -> set[str]:
    """Logical ids a fragment names through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, list):
        for value in node:
            found |= _referenced(value)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".", 1)[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found |= {m.split(".", 1)[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
                if isinstance(value, list) and len(value) > 1:
                    found |= _referenced(value[1])
            else:
                found |= _referenced(value)
    return found


def _function_behind(cfn: dict, logical: str) -> str | None:
    """The AWS::Lambda::Function a logical id is, or is an alias or version of."""
    resource = cfn["Resources"].get(logical, {})
    if resource.get("Type") == "AWS::Lambda::Function":
        return logical
    if resource.get("Type") in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
        return _function_of(resource["Properties"].get("FunctionName"))
    return None


def invokers(cfn: dict) -> dict[str, dict[str, set[str]]]:
    """Function -> {"apis": APIs allowed to invoke it, "queues": its stream mappings' on-failure queues}."""
    found: dict[str, dict[str, set[str]]] = {}
    for permission in resources(cfn, "AWS::Lambda::Permission").values():
        props = permission["Properties"]
        function = _function_behind(cfn, _function_of(props.get("FunctionName")) or "")
        apis = {
            r
            for r in _referenced(props.get("SourceArn"))
            if cfn["Resources"].get(r, {}).get("Type") in ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api")
        }
        if function:
            found.setdefault(function, {"apis": set(), "queues": set()})["apis"] |= apis
    for mapping in resources(cfn, "AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        function = _function_behind(cfn, _function_of(props.get("FunctionName")) or "")
        destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        queues = {r for r in _referenced(destination) if cfn["Resources"].get(r, {}).get("Type") == "AWS::SQS::Queue"}
        if function:
            found.setdefault(function, {"apis": set(), "queues": set()})["queues"] |= queues
    return found


def alarm_sees(alarm: dict, function: str, cfn: dict, resolver: Resolver, invoked: dict | None = None) -> bool:
    """Whether an alarm reads a metric the function moves: its own Lambda metrics, the API
    Gateway metrics of an API that invokes it (a REST API by ApiName, a WebSocket API by
    ApiId), or the depth of its stream mapping's on-failure queue."""
    invoked = (invoked if invoked is not None else invokers(cfn)).get(function, {"apis": set(), "queues": set()})
    for metric in _alarm_metrics(alarm):
        dimensions = {d.get("Name"): d.get("Value") for d in metric.get("Dimensions", [])}
        namespace = metric.get("Namespace")
        if namespace == "AWS/Lambda" and _function_of(dimensions.get("FunctionName")) == function:
            return True
        if namespace == "AWS/ApiGateway":
            for api in invoked["apis"]:
                kind = cfn["Resources"][api]["Type"]
                if kind == "AWS::ApiGateway::RestApi" and "ApiName" in dimensions:
                    if resolver.value(dimensions["ApiName"]) == resolver.value(cfn["Resources"][api]["Properties"].get("Name")):
                        return True
                if kind == "AWS::ApiGatewayV2::Api" and dimensions.get("ApiId") == {"Ref": api}:
                    return True
        if namespace == "AWS/SQS":
            queue = dimensions.get("QueueName")
            if any(queue == {"Fn::GetAtt": [q, "QueueName"]} for q in invoked["queues"]):
                return True
    return False


def deployment_gaps(cfn: dict, resolver: Resolver) -> dict[str, list[str]]:
    """Per function: X-Ray, the alias, and the CodeDeploy group's rollback alarms. Every alarm
    a deployment watches must exist here and see that function (a REST API's 5XX alarm cannot
    roll back a WebSocket route or a stream consumer); with full monitoring the function's own
    Errors alarm is one of them; a function that some alarm of this environment sees is
    watched by at least one. Only where no alarm sees a function (essential monitoring, no
    API of ours in front of it) may it shift without one: "unwatched"."""
    functions = resources(cfn, "AWS::Lambda::Function")
    aliases = resources(cfn, "AWS::Lambda::Alias")
    groups = resources(cfn, "AWS::CodeDeploy::DeploymentGroup")
    made = created(cfn, resolver, "AWS::CloudWatch::Alarm")
    invoked = invokers(cfn)
    gaps: dict[str, list[str]] = {"untraced": [], "unaliased": [], "unguarded": [], "unwatched": []}
    for name, function in functions.items():
        if function["Properties"].get("TracingConfig", {}).get("Mode") != "Active":
            gaps["untraced"].append(name)
        alias = next((a for a in aliases.values() if a["Properties"].get("FunctionName") == {"Ref": name}), None)
        if alias is None:
            gaps["unaliased"].append(name)
            continue
        update = alias.get("UpdatePolicy", {}).get("CodeDeployLambdaAliasUpdate", {})
        group = groups.get(update.get("DeploymentGroupName", {}).get("Ref", ""))
        if group is None:
            gaps["unguarded"].append(f"{name} (no CodeDeploy deployment group)")
            continue
        config = choose(group.get("Properties", {}).get("AlarmConfiguration") or {}, resolver)
        watched = [a.get("Name", {}).get("Ref") for a in config.get("Alarms", [])] if config.get("Enabled") else []
        missing = [w for w in watched if w not in made]
        blind = [w for w in watched if w in made and not alarm_sees(made[w], name, cfn, resolver, invoked)]
        seeing = [a for a, alarm in made.items() if alarm_sees(alarm, name, cfn, resolver, invoked)]
        if missing:
            gaps["unguarded"].append(f"{name} (on {', '.join(missing)}, not created here)")
        elif blind:
            gaps["unguarded"].append(f"{name} (on {', '.join(blind)}, which never sees it)")
        elif resolver.conditions.get("FullMonitoring") and not any(_alarm_watches(made[w], "Errors", name) for w in watched):
            gaps["unguarded"].append(f"{name} (not on its own Errors alarm)")
        elif not watched and seeing:
            gaps["unguarded"].append(f"{name} (on no alarm, though {', '.join(sorted(seeing))} sees it)")
        elif not watched:
            gaps["unwatched"].append(name)
    return gaps


# ---------------------------------------------------------------------------------------------
# The push channel: the WebSocket API and the stream consumer (docs/decisions/0009-push-channel.md)

# Route key -> the crate (CodeUri folder) of the function it must invoke.
PUSH_ROUTES = {"$connect": "push-connect", "$disconnect": "push-disconnect", "$default": "push-message"}
PUSH_STAGE = "v1"
PUSH_ACCESS_LOG_FIELDS = {"requestId", "connectionId", "eventType", "routeKey", "status", "error"}
# Lambda retries a failing stream batch until the record expires (-1) unless bounded.
MAX_STREAM_RETRIES = 10


def _positive(value) -> bool:
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


def _integer(value) -> int | None:
    """An integer property, also when a parameter gave it as a string."""
    try:
        number = float(str(value))
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _json_fields(text) -> set[str]:
    try:
        return set(json.loads(re.sub(r"\$context\.[\w.]+", "x", text or "")))
    except (json.JSONDecodeError, TypeError):
        return set()


def stream_consumers(cfn: dict) -> dict[str, dict]:
    """Event source mapping -> its properties, for every mapping on a DynamoDB or Kinesis stream."""
    return {
        name: mapping["Properties"]
        for name, mapping in resources(cfn, "AWS::Lambda::EventSourceMapping").items()
        if "StartingPosition" in mapping["Properties"]
    }


def websocket_problems(sam: dict, cfn: dict, resolver: Resolver) -> dict[str, list[str]]:
    """What is wrong with the WebSocket API, by check ("stage", "routes", "permissions",
    "route response"): an empty list passes."""
    crates = function_names(sam)
    apis = [n for n, a in resources(cfn, "AWS::ApiGatewayV2::Api").items() if a["Properties"].get("ProtocolType") == "WEBSOCKET"]
    problems: dict[str, list[str]] = {"stage": [], "routes": [], "permissions": [], "route response": []}
    if len(apis) != 1:
        for kind in problems:
            problems[kind].append(f"{len(apis)} WebSocket APIs ({', '.join(apis)}), expected 1")
        return problems
    api = apis[0]

    def on_api(kind: str) -> dict[str, dict]:
        return {n: r for n, r in resources(cfn, kind).items() if r["Properties"].get("ApiId") == {"Ref": api}}

    stages = on_api("AWS::ApiGatewayV2::Stage")
    names = [resolver.value(s["Properties"].get("StageName")) for s in stages.values()]
    if names != [PUSH_STAGE]:
        problems["stage"].append(f"stages {names}, expected exactly [{PUSH_STAGE!r}]")
    for name, stage in stages.items():
        props = stage["Properties"]
        throttle = resolver.value(props.get("DefaultRouteSettings") or {})
        if not (_positive(throttle.get("ThrottlingRateLimit")) and _positive(throttle.get("ThrottlingBurstLimit"))):
            problems["stage"].append(f"{name}: DefaultRouteSettings without ThrottlingRateLimit and ThrottlingBurstLimit")
        log = props.get("AccessLogSettings") or {}
        lacking = sorted(PUSH_ACCESS_LOG_FIELDS - _json_fields(log.get("Format")))
        if not log.get("DestinationArn") or lacking:
            problems["stage"].append(f"{name}: no JSON access log with {', '.join(lacking) or 'a destination'}")

    routes = on_api("AWS::ApiGatewayV2::Route")
    integrations = on_api("AWS::ApiGatewayV2::Integration")
    permissions = resources(cfn, "AWS::Lambda::Permission")
    keys = sorted(r["Properties"].get("RouteKey") for r in routes.values())
    if keys != sorted(PUSH_ROUTES):
        problems["routes"].append(f"routes {keys}, expected {sorted(PUSH_ROUTES)}")
    api_ids = {resolver.ref(api), resolver.get_att(api, "ApiId")}
    for route in routes.values():
        key = route["Properties"].get("RouteKey")
        targets = [i for i in _referenced(route["Properties"].get("Target")) if i in integrations]
        if len(targets) != 1:
            problems["routes"].append(f"{key}: targets {targets or 'no integration'}")
            continue
        integration = integrations[targets[0]]["Properties"]
        invoked = [r for r in _referenced(integration.get("IntegrationUri")) if _function_behind(cfn, r)]
        function = _function_behind(cfn, invoked[0]) if len(invoked) == 1 else None
        crate = crates.get(function or "")
        if integration.get("IntegrationType") != "AWS_PROXY" or crate != PUSH_ROUTES.get(key):
            problems["routes"].append(f"{key}: invokes {crate or invoked} ({integration.get('IntegrationType')}), expected {PUSH_ROUTES.get(key)} (AWS_PROXY)")
            continue
        if cfn["Resources"][invoked[0]]["Type"] != "AWS::Lambda::Alias":
            problems["routes"].append(f"{key}: invokes {invoked[0]}, not the function's alias (deployments would not reach it)")
        # The permission must name what the integration invokes, for this API, stage and route.
        expected = {f"arn:{PARTITION}:execute-api:{REGION}:{ACCOUNT}:{i}/{PUSH_STAGE}/{key}" for i in api_ids}
        granted = [
            p
            for p in permissions.values()
            if _referenced(p["Properties"].get("FunctionName")) == {invoked[0]}
            and p["Properties"].get("Principal") == "apigateway.amazonaws.com"
            and p["Properties"].get("Action") == "lambda:InvokeFunction"
        ]
        arns = [resolver.value(p["Properties"].get("SourceArn")) for p in granted]
        if not arns or any(a not in expected for a in arns):
            problems["permissions"].append(f"{key}: API Gateway may invoke {invoked[0]} from {arns or 'nowhere'}, expected only this API's {PUSH_STAGE}/{key}")

    default = [n for n, r in routes.items() if r["Properties"].get("RouteKey") == "$default"]
    answers = [
        r["Properties"]
        for r in on_api("AWS::ApiGatewayV2::RouteResponse").values()
        if default and r["Properties"].get("RouteId") == {"Ref": default[0]}
    ]
    if not default or routes[default[0]]["Properties"].get("RouteResponseSelectionExpression") != "$default":
        problems["route response"].append("the $default route has no RouteResponseSelectionExpression $default")
    if [a.get("RouteResponseKey") for a in answers] != ["$default"]:
        problems["route response"].append(f"route responses on $default: {[a.get('RouteResponseKey') for a in answers]}, expected ['$default']")
    return problems


def stream_problems(cfn: dict, resolver: Resolver) -> dict[str, list[str]]:
    """What is wrong with the stream consumers, by check ("mappings", "iterator age alarm",
    "dead-letter alarm", "manage connections"): an empty list passes."""
    made = created(cfn, resolver, "AWS::CloudWatch::Alarm")
    consumers = stream_consumers(cfn)
    problems: dict[str, list[str]] = {"mappings": [], "iterator age alarm": [], "dead-letter alarm": [], "manage connections": []}
    streamed = [n for n, t in resources(cfn, "AWS::DynamoDB::Table").items() if t["Properties"].get("StreamSpecification")]
    for table in streamed:
        if not any(table in _referenced(m.get("EventSourceArn")) for m in consumers.values()):
            problems["mappings"].append(f"{table} has a stream that no function consumes")

    consumer_functions = set()
    for name, props in consumers.items():
        function = _function_behind(cfn, _function_of(props.get("FunctionName")) or "")
        consumer_functions.add(function)
        wrong = []
        if "ReportBatchItemFailures" not in (props.get("FunctionResponseTypes") or []):
            wrong.append("no FunctionResponseTypes ReportBatchItemFailures")
        if resolver.value(props.get("BisectBatchOnFunctionError")) not in (True, "true"):
            wrong.append("BisectBatchOnFunctionError not true")
        retries = _integer(resolver.value(props.get("MaximumRetryAttempts")))
        if retries is None or not 0 <= retries <= MAX_STREAM_RETRIES:
            wrong.append(f"MaximumRetryAttempts {retries}, expected 0 to {MAX_STREAM_RETRIES}")
        age = _integer(resolver.value(props.get("MaximumRecordAgeInSeconds")))
        if age is None or age <= 0:
            wrong.append(f"MaximumRecordAgeInSeconds {age}, expected a bound")
        destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        queues = [r for r in _referenced(destination) if cfn["Resources"].get(r, {}).get("Type") == "AWS::SQS::Queue"]
        if not destination:
            wrong.append("no OnFailure destination")
        if not (props.get("FilterCriteria") or {}).get("Filters"):
            wrong.append("no FilterCriteria")
        if wrong:
            problems["mappings"].append(f"{name}: {', '.join(wrong)}")

        if resolver.conditions.get("FullMonitoring") and not any(_alarm_watches(a, "IteratorAge", function) for a in made.values()):
            problems["iterator age alarm"].append(f"{function} has no IteratorAge alarm")
        for queue in queues:
            depth = [
                a["Properties"]
                for a in made.values()
                if any(
                    m.get("Namespace") == "AWS/SQS"
                    and m.get("MetricName") == "ApproximateNumberOfMessagesVisible"
                    and {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}} in m.get("Dimensions", [])
                    for m in _alarm_metrics(a)
                )
            ]
            fires_on_one = [
                p
                for p in depth
                if (p.get("ComparisonOperator"), _integer(resolver.value(p.get("Threshold"))))
                in (("GreaterThanThreshold", 0), ("GreaterThanOrEqualToThreshold", 1))
            ]
            if not fires_on_one:
                problems["dead-letter alarm"].append(f"{queue} (on-failure queue of {function}) has no alarm on ApproximateNumberOfMessagesVisible > 0")

    # execute-api:ManageConnections: only the stream consumers, only this API's stage.
    apis = [n for n, a in resources(cfn, "AWS::ApiGatewayV2::Api").items() if a["Properties"].get("ProtocolType") == "WEBSOCKET"]
    prefixes = tuple(f"arn:{PARTITION}:execute-api:{REGION}:{ACCOUNT}:{resolver.ref(a)}/{PUSH_STAGE}/" for a in apis)
    role_of = {}
    for name, function in resources(cfn, "AWS::Lambda::Function").items():
        for role in _referenced(function["Properties"].get("Role")):
            role_of[role] = name
    holders = set()
    for role_name, role in resources(cfn, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            statements = resolver.value(policy["PolicyDocument"].get("Statement", []))
            for statement in _list(statements):
                action = "execute-api:ManageConnections"
                if "NotAction" in statement:
                    grants = not _matches(statement["NotAction"], action, case_insensitive=True)
                else:
                    grants = _matches(statement.get("Action", []), action, case_insensitive=True)
                if statement.get("Effect") != "Allow" or not grants:
                    continue
                function = role_of.get(role_name, role_name)
                holders.add(function)
                if function not in consumer_functions:
                    problems["manage connections"].append(f"{function} may call {action} and consumes no stream")
                targets = _list(statement.get("Resource", []))
                outside = [str(r) for r in targets if not (isinstance(r, str) and r.startswith(prefixes))]
                if "NotResource" in statement or not targets or outside:
                    problems["manage connections"].append(
                        f"{function}: {action} on {', '.join(outside) or 'NotResource'}, expected only this API's stage {PUSH_STAGE}"
                    )
    for function in sorted(f for f in consumer_functions if f not in holders):
        problems["manage connections"].append(f"{function} consumes the stream and may not post to connections")
    return problems


def check_push_channel(report: Report, tag: str, sam: dict, cfn: dict, resolver: Resolver) -> None:
    what = {
        "stage": f"exactly one WebSocket stage {PUSH_STAGE}, throttled (DefaultRouteSettings), with a JSON access log",
        "routes": f"each WebSocket route invokes its own push-* crate through its alias ({', '.join(f'{k} {v}' for k, v in PUSH_ROUTES.items())})",
        "permissions": f"each route's Lambda permission names the invoked alias and only this API's {PUSH_STAGE}/<route>",
        "route response": "the $default route answers through a route response",
        "mappings": f"every stream mapping: ReportBatchItemFailures, bisect, at most {MAX_STREAM_RETRIES} retries, a record age bound, an on-failure destination, a filter",
        "iterator age alarm": "every stream consumer has an IteratorAge alarm",
        "dead-letter alarm": "every on-failure queue has an alarm on ApproximateNumberOfMessagesVisible > 0",
        "manage connections": f"execute-api:ManageConnections only for stream consumers, only on this API's stage {PUSH_STAGE}",
    }
    found = {**websocket_problems(sam, cfn, resolver), **stream_problems(cfn, resolver)}
    for kind, problems in found.items():
        if kind == "iterator age alarm" and not resolver.conditions.get("FullMonitoring"):
            report.note(f"{tag} essential monitoring: no IteratorAge alarm (the dead-letter alarm stays)")
            continue
        report.check(not problems, f"{tag} push: {what[kind]}", "; ".join(problems))


# ---------------------------------------------------------------------------------------------
# IAM: the DynamoDB calls recorded by the tests against each function's policy


def function_policies(cfn: dict, sam: dict) -> dict[str, list[dict]]:
    """Function name -> the statements of its execution role's inline policies."""
    by_logical = function_names(sam)
    policies = {}
    for logical, name in by_logical.items():
        function = cfn["Resources"][logical]
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = []
        for policy in cfn["Resources"][role]["Properties"].get("Policies", []):
            document = policy["PolicyDocument"]
            statement = document["Statement"]
            statements.extend(statement if isinstance(statement, list) else [statement])
        policies[name] = statements
    return policies


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def iam_wildcard(pattern: str, value: str, case_insensitive: bool = False) -> bool:
    """IAM's matching: `*` any run of characters (`/` and `:` included), `?` one character,
    everything else literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.IGNORECASE | re.DOTALL if case_insensitive else re.DOTALL
    return re.fullmatch(regex, value, flags) is not None


def _matches(patterns, value: str, case_insensitive: bool = False) -> bool:
    return any(iam_wildcard(pattern, value, case_insensitive) for pattern in _list(patterns))


def condition_holds(condition: dict, context: dict[str, list[str]]) -> tuple[bool, str]:
    """IAM condition evaluation for the operators our policies use. Unknown ones do not hold."""
    for operator, tests in condition.items():
        for key, expected in tests.items():
            values = context.get(key, [])
            if operator == "ForAllValues:StringLike":
                ok = all(_matches(expected, v) for v in values)
            elif operator == "ForAllValues:StringEquals":
                ok = all(v in _list(expected) for v in values)
            elif operator == "StringLike":
                ok = bool(values) and all(_matches(expected, v) for v in values)
            elif operator == "StringEquals":
                ok = bool(values) and all(v in _list(expected) for v in values)
            else:
                return False, f"unsupported condition operator {operator}"
            if not ok:
                return False, f"{operator} {key} {expected} does not allow {values}"
    return True, ""


def allowed(statements: list[dict], action: str, resource: str, context: dict[str, list[str]]) -> tuple[bool, str]:
    allow, why = False, "no statement allows it"
    for statement in statements:
        if "Action" in statement and not _matches(statement["Action"], action, case_insensitive=True):
            continue
        if "NotAction" in statement and _matches(statement["NotAction"], action, case_insensitive=True):
            continue
        if "Resource" in statement and not _matches(statement["Resource"], resource):
            continue
        if "NotResource" in statement and _matches(statement["NotResource"], resource):
            continue
        holds, reason = condition_holds(statement.get("Condition", {}), context)
        if not holds:
            why = reason
            continue
        if statement.get("Effect") == "Deny":
            return False, "denied explicitly"
        allow = True
    return allow, "" if allow else why


# The services whose calls the tests record (test_support::iam_calls), by IAM prefix.
RECORDED_SERVICES = {"dynamodb": "DynamoDB", "execute-api": "management API"}


def read_calls(calls_dir: Path) -> set[tuple]:
    """(function, action, index, leading key, resource) of every recorded call."""
    calls = set()
    for path in sorted(calls_dir.glob("*.json")):
        for call in json.loads(path.read_text()):
            calls.add((call["function"], call["action"], call.get("index"), call.get("leadingKey"), call.get("resource")))
    return calls


def full_action(action: str) -> str:
    """DynamoDB's actions are recorded without their prefix, the others in full."""
    return action if ":" in action else f"dynamodb:{action}"


def call_verdict(call: tuple, policies: dict[str, list[dict]], resolver: Resolver) -> tuple[bool, str, str]:
    """Whether the function's policy allows one recorded call: (allowed, what, why not)."""
    function, action, index, leading_key, resource = call
    action = full_action(action)
    if resource is not None:
        # `<api logical id>/<stage>/<METHOD>/@connections/<id>`: the id resolved as `${PushApi}` is.
        api, _, rest = resource.partition("/")
        physical = resolver.ref(api) if api in resolver.cfn["Resources"] else api
        service = action.split(":", 1)[0]
        arn = f"arn:{PARTITION}:{service}:{REGION}:{ACCOUNT}:{physical}/{rest}"
        ok, why = allowed(policies.get(function, []), action, arn, {})
        return ok, f"IAM {function}: {action} on {resource}", why
    arn = resolver.get_att("ChatTable", "Arn") + (f"/index/{index}" if index else "")
    context = {"dynamodb:LeadingKeys": [leading_key]} if leading_key else {}
    ok, why = allowed(policies.get(function, []), action, arn, context)
    target = f"index {index}" if index else "table"
    key = f" key {leading_key}" if leading_key else ""
    return ok, f"IAM {function}: {action} on {target}{key}", why


def check_iam_calls(report: Report, sam: dict, cfn: dict, params: dict[str, str], calls_dir: Path) -> None:
    resolver = Resolver(cfn, params)
    calls = read_calls(calls_dir)
    if not report.check(bool(calls), f"IAM: calls recorded by the tests in {calls_dir}", "no recordings: run the cargo tests first"):
        return
    policies = {n: resolver.value(s) for n, s in function_policies(cfn, sam).items()}

    for call in sorted(calls, key=lambda c: tuple(str(x) for x in c)):
        ok, what, why = call_verdict(call, policies, resolver)
        report.check(ok, what, why)

    for function, statements in sorted(policies.items()):
        for service, title in RECORDED_SERVICES.items():
            granted = sorted(
                {a for s in statements if s.get("Effect") == "Allow" for a in _list(s.get("Action", [])) if a.startswith(f"{service}:")}
            )
            used = {full_action(a) for f, a, *_ in calls if f == function and full_action(a).startswith(f"{service}:")}
            if granted:
                report.check(bool(used), f"IAM {function}: the tests exercised its {title} calls", f"granted {granted}, no call recorded (coverage gap)")
            unused = [a for a in granted if a not in used]
            if used and unused:
                report.note(f"IAM {function}: granted but not called in the tests: {', '.join(unused)}")

    secret_readers = [
        name
        for logical, name in function_names(sam).items()
        if "ADMIN_JWT_SECRET_ARN" in cfn["Resources"][logical]["Properties"].get("Environment", {}).get("Variables", {})
    ]
    secret_arn = resolver.ref("AdminJwtSecret")
    missing = [n for n in secret_readers if not allowed(policies[n], "secretsmanager:GetSecretValue", secret_arn, {})[0]]
    report.check(bool(secret_readers) and not missing, f"IAM: the {len(secret_readers)} functions given the signing secret may read it", ", ".join(missing))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iam-calls", type=Path, help="directory of recorded IAM calls")
    args = parser.parse_args()

    logging.disable(logging.WARNING)  # the translator's notes about its own feature toggles
    report = Report()
    raw = yaml_parse((ROOT / "template.yaml").read_text())
    sam = expand(raw)
    samconfig = tomllib.loads((ROOT / "samconfig.toml").read_text())
    environments = samconfig_environments(samconfig)
    if args.iam_calls is None:
        check_samconfig(report, samconfig)
        check_samconfig_expands(report, samconfig, raw)
        check_expansion(report, raw, sam)
        for name, env in environments.items():
            check_environment(report, name, sam, parameter_overrides(env))
        # What an environment may switch on: the per-IP WAF rules and a cross-origin dashboard.
        variant = {"EnablePerIpLimit": "true", "DashboardOrigin": "https://support.example.com"}
        check_environment(report, "default + WAF + DashboardOrigin", sam, {**parameter_overrides(environments["default"]), **variant})
        check_environment(report, "default + Monitoring full", sam, {**parameter_overrides(environments["default"]), "Monitoring": "full"})
        check_coverage_check_fails(report, raw, parameter_overrides(environments["default"]))
    else:
        params = parameter_overrides(environments["default"])
        check_iam_calls(report, sam, translate(sam, params), params, args.iam_calls)
    print(f"template checks: {report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
