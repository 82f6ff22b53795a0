#!/usr/bin/env python3
"""The cost per 1,000 standard chats, and per month at 0, 1,000 and 100,000 chats a day.

Reads the request mix a loadgen run measured (`loadgen --report-json PATH`) and prices it for
three transports: the REST API as deployed, the same on an HTTP API, and a WebSocket push
channel with polling as fallback. No network: the prices are the constants below.

    python3 infra/cost/cost_model.py --report target/load-report.json [--chat-minutes 10]
    python3 infra/cost/cost_model.py --report polling.json --report push.json --by-party
    python3 infra/cost/cost_model.py --requests-per-chat mix.json   # a standard chat's requests, given
    python3 infra/cost/cost_model.py --idle     # what each samconfig.toml stack costs idle

A report from a push run (`loadgen --push-agents/--push-customers`) carries the WebSocket side
too (connects, frames received and sent, connection time): it is priced as measured, the REST
requests on the REST API (or an HTTP API) plus the WebSocket messages and connection minutes.
`--by-party` prints the requests per standard chat by who makes them (customers, agents) for
each report given, next to each other.

The idle cost is read from template.yaml itself: the resources CloudFormation creates for each
samconfig.toml environment (Fn::ForEach expanded, conditions evaluated with that environment's
parameter_overrides), priced per month: alarms per metric they read, dashboards, secrets, KMS
keys, WAF web ACLs and their rules. Log groups, an SNS topic, DynamoDB on demand and its stream,
Lambda, API Gateway (REST and WebSocket) and SQS queues cost nothing idle (FREE_IDLE_TYPES); a
resource type in neither list is refused. It needs PyYAML (in the project's .venv).

What is measured and what is assumed:
- Measured (from the report): requests per chat for every endpoint, the mean chat length the
  run had, the replies per chat, and (optionally, --lambda-ms-source report) each endpoint's
  median latency as a stand-in for Lambda's billed duration.
- Assumed, each an explicit parameter below: DynamoDB read/write units per request (loadgen
  does not measure consumed capacity yet; the defaults are derived from the requests per
  endpoint that tests/api/request_counts.rs and tests/api/admin_flow.rs assert, with the item
  sizes and index memberships stated next to them); Lambda billed ms per request; log bytes
  per request; the share of WebSocket clients that fall back to polling.
- A standard chat lasts --chat-minutes (default 10, docs/performance/cost.md). Requests driven
  by timers (the app's poll, the dashboard's lists and open-chat poll) are scaled from the
  run's mean chat length to that; the others (create, sends, leave, rating, sign-in, openings,
  replies, ends) are taken per chat as measured.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import shlex
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra" / "checks"))
import language_extensions  # noqa: E402

# ---- prices ---------------------------------------------------------------------------------

PRICES_NOTE = (
    "us-east-1 list prices as known to the author in mid-2025 (not fetched; check the AWS "
    "pricing pages before deciding); no free tier, no savings plans"
)
PRICES = {
    # API Gateway, first tier of each.
    "rest_api_per_million_requests": 3.50,
    "http_api_per_million_requests": 1.00,
    "websocket_per_million_messages": 1.00,  # 32 KB increments
    "websocket_per_million_connection_minutes": 0.25,
    # Lambda, arm64 (the template's architecture).
    "lambda_per_million_requests": 0.20,
    "lambda_per_gb_second_arm64": 0.0000133334,
    # DynamoDB on demand (after the November 2024 price cut).
    "dynamodb_per_million_read_units": 0.125,
    "dynamodb_per_million_write_units": 0.625,
    # CloudWatch Logs ingestion; X-Ray traces recorded.
    "logs_per_gb_ingested": 0.50,
    "xray_per_million_traces": 5.00,
}
# What a stack costs idle, per month (priced from template.yaml by idle_costs below).
IDLE_PRICES = {
    "alarm_metric": 0.10,  # standard resolution, per metric an alarm reads (metric math: each)
    "alarm_metric_high_resolution": 0.30,
    "composite_alarm": 0.50,
    "dashboard": 3.00,
    "secret": 0.40,
    "kms_key": 1.00,
    "waf_web_acl": 5.00,
    "waf_rule": 1.00,
}
# Resource types (as template.yaml writes them, before SAM's transform) that cost nothing while
# idle: billed per request, per GB or not at all. A type neither priced above nor listed here
# stops idle_cost_of, so that a new kind of resource is priced on purpose, not 0 by omission.
FREE_IDLE_TYPES = {
    "AWS::Serverless::Function": "Lambda: per request and GB-second",
    "AWS::Serverless::Api": "API Gateway REST: per request",
    "AWS::Serverless::WebSocketApi": "API Gateway WebSocket: per message and connection minute",
    "AWS::ApiGatewayV2::RouteResponse": "part of the WebSocket API",
    "AWS::DynamoDB::Table": "on demand: per request and GB stored; Lambda's reads of its stream are free",
    "AWS::SQS::Queue": "per request: the push dead-letter queue is written only on a failure, read by nobody",
    "AWS::SNS::Topic": "per notification",
    "AWS::SNS::Subscription": "per notification",
    "AWS::Logs::LogGroup": "per GB ingested and stored",
    "AWS::Logs::QueryDefinition": "free; a query is billed per GB it scans",
    "AWS::WAFv2::WebACLAssociation": "free; the web ACL is priced",
}
DAYS_PER_MONTH = 30
CHATS_PER_DAY = (0, 1_000, 100_000)

# ---- what each request costs beyond the gateway ----------------------------------------------

LAMBDA_MEMORY_MB = 128  # template.yaml Globals: MemorySize (sign-in, 512 MB, is not in a chat)
# Billed ms of one WebSocket route function ($connect, $disconnect, a ping) or one push post.
WEBSOCKET_LAMBDA_MS = 10


@dataclass(frozen=True)
class Endpoint:
    function: str
    # Scaled with the chat's length (a timer drives it) or counted per chat.
    time_driven: bool
    # DynamoDB units per request (estimates, see ASSUMPTIONS) and billed Lambda ms.
    read_units: float
    write_units: float
    lambda_ms: float
    # Who makes it (customer or agent) and how the gateway bills it: "rest" (a REST request),
    # "ticket" (a REST request, counted apart), "ws_connect" (a WebSocket upgrade: no request
    # charge; its $connect and $disconnect functions run once each).
    party: str = "customer"
    kind: str = "rest"


# Units: a strongly consistent read of up to 4 KB is 1 read unit, an index Query (eventually
# consistent) 0.5 per 4 KB; a write of up to 1 KB is 1 write unit, doubled inside a
# transaction, plus 1 per index the item is in (all four indexes project ALL). An active
# session item is in 3 sparse indexes (GSI1 active list, GSI3 presence, GSI4 waiting) and
# stays under 1 KB; an activity entry is in 2 (GSI1 per agent, GSI2 all). Every counted change
# (create, send, reply, end, rating) also adds to its day's analytics counter in the same
# transaction: an item under 1 KB in no index, 2 units.
ENDPOINTS = {
    # TransactWriteItems: session (2 + 2 indexes) + active count (2) + counter (2).
    "create_session": Endpoint("create-session", False, 0, 8, 12),
    # GetItem session + TransactWriteItems: message (2) + session (2 + 3 indexes) + counter (2).
    "send_message": Endpoint("send-message", False, 1, 9, 15),
    # GetItem session (the common, empty poll). Delivering polls are priced separately below.
    "poll": Endpoint("poll-messages", True, 1, 0, 6),
    # GetItem + TransactWriteItems: session end (2 + 3 index removals) + active count (2)
    # + counter (2).
    "leave": Endpoint("leave-session", False, 1, 9, 15),
    # TransactWriteItems: the ended session (2, in no index any more) + counter (2).
    "rating": Endpoint("submit-rating", False, 0, 4, 8),
    # 2 GetItem (email -> id, admin); argon2id dominates the time.
    "admin_login": Endpoint("admin-login", False, 2, 0, 250, party="agent"),
    # Index Query (about 25 sessions of ~0.6 KB, eventually consistent: 2) + count GetItem (1).
    "admin_list_waiting": Endpoint("admin-active-sessions", True, 3, 0, 10, party="agent"),
    "admin_list_active": Endpoint("admin-active-sessions", True, 3, 0, 10, party="agent"),
    # Query (transcript under 4 KB) + PutItem VIEWED_SESSION (1 + 2 indexes).
    "admin_open_transcript": Endpoint("admin-session-messages", False, 1, 3, 12, party="agent"),
    # Query.
    "admin_transcript_after": Endpoint("admin-session-messages", True, 1, 0, 8, party="agent"),
    # GetItem + TransactWriteItems: message (2) + session (2 + 3) + activity (2 + 2) + counter (2).
    "admin_reply": Endpoint("admin-send-message", False, 1, 13, 18, party="agent"),
    # GetItem + TransactWriteItems: session end (2 + 3) + count (2) + activity (2 + 2) + counter (2).
    "admin_end": Endpoint("admin-end-session", False, 1, 13, 18, party="agent"),
    # The push channel (docs/decisions/0009-push-channel.md). A ticket: the caller checked
    # (customer: GetItem session; agent: the JWT and GetItem admin) + a conditional PutItem.
    "customer_ticket": Endpoint("realtime-ticket", False, 1, 1, 10, kind="ticket"),
    "agent_ticket": Endpoint("admin-realtime-ticket", False, 1, 1, 10, party="agent", kind="ticket"),
    # $connect: DeleteItem of the ticket (1) + TransactWriteItems: Put connection (2, the agent's
    # in GSI2: +1) + ConditionCheck (1 read); $disconnect: DeleteItem (1, +1 for the index).
    "ws_connect_customer": Endpoint("push-connect", False, 1, 4, 2 * WEBSOCKET_LAMBDA_MS, kind="ws_connect"),
    "ws_connect_agent": Endpoint("push-connect", False, 1, 6, 2 * WEBSOCKET_LAMBDA_MS, party="agent", kind="ws_connect"),
    # A push client's REST reads: the customer's catch-up from the cursor on each (re)connect
    # (per connect, not a timer), its fallback poll (a timer, as the shipped app's); the
    # agent's lists re-read on a hint or a connect and the open chat read from its cursor.
    "poll_catch_up": Endpoint("poll-messages", False, 1, 0, 6),
    "poll_fallback": Endpoint("poll-messages", True, 1, 0, 6),
    "admin_list_waiting_on_hint": Endpoint("admin-active-sessions", False, 3, 0, 10, party="agent"),
    "admin_list_active_on_hint": Endpoint("admin-active-sessions", False, 3, 0, 10, party="agent"),
    "admin_transcript_catch_up": Endpoint("admin-session-messages", False, 1, 0, 8, party="agent"),
}
# A poll that returns replies adds a Query (1) and an UpdateItem recording how far polls got
# (session, 1 + 3 indexes): once per reply delivered.
DELIVERING_POLL = Endpoint("poll-messages", False, 1, 4, 6)

# API access log line (~600 bytes, 0.6 GB per million in docs/performance/cost.md) + Lambda's START/END/REPORT
# lines (~350) + the handler's one JSON line (~300).
LOG_BYTES_PER_REQUEST = 1250
XRAY_SAMPLE_RATE = 0.05
# WebSocket: clients whose connection fails and who poll as today.
WEBSOCKET_FALLBACK_SHARE = 0.10
# API Gateway closes idle WebSockets after 10 minutes: the app pings every 5.
WEBSOCKET_PING_EVERY_MINUTES = 5
# A connection item put on $connect and deleted on $disconnect (1 write each), read once per
# push to find the connection (1 read).
WEBSOCKET_CONNECT_WRITE_UNITS = 2


@dataclass
class WebSocketUse:
    """What a push run's sockets did per standard chat, both sides together."""

    messages: float  # frames received (the server's posts) and sent (pings)
    connection_minutes: float
    # By side, for the split: frames received, frames sent.
    received: dict[str, float] = field(default_factory=dict)
    sent: dict[str, float] = field(default_factory=dict)


@dataclass
class ChatMix:
    """Requests per standard chat, by endpoint key, and what drives them."""

    requests: dict[str, float]
    replies: float
    chat_minutes: float
    lambda_ms: dict[str, float] = field(default_factory=dict)
    # Only for a run that used the push channel.
    websocket: WebSocketUse | None = None


def chat_mix(report: dict, chat_minutes: float, lambda_ms_source: str = "constants") -> ChatMix:
    """The standard chat's requests from a loadgen report."""
    per_chat = report["per_chat"]
    measured_minutes = report["mean_chat_s"] / 60
    if measured_minutes <= 0:
        raise ValueError("the report has no finished chat (mean_chat_s is 0)")
    scale = chat_minutes / measured_minutes
    requests = {}
    for key, endpoint in ENDPOINTS.items():
        count = float(per_chat.get(key, 0.0))
        requests[key] = count * scale if endpoint.time_driven else count
    unknown = sorted(set(per_chat) - set(ENDPOINTS))
    if unknown:
        raise ValueError(f"the report has endpoints this model does not price: {unknown}")
    started = max(report["counts"]["started"], 1)
    replies = report["delivery"]["replies"] / started
    lambda_ms = {key: endpoint.lambda_ms for key, endpoint in ENDPOINTS.items()}
    if lambda_ms_source == "report":
        for row in report["endpoints"]:
            if row["key"] in lambda_ms and ENDPOINTS[row["key"]].kind != "ws_connect":
                # Lambda bills whole milliseconds, at least 1.
                lambda_ms[row["key"]] = max(1.0, math.ceil(row["p50_ms"]))
    return ChatMix(requests, replies, chat_minutes, lambda_ms, websocket_use(report, scale, started))


def websocket_use(report: dict, scale: float, started: int) -> WebSocketUse | None:
    """A push run's frames and connection time per standard chat. Frames received follow the
    chat's messages and list changes (per chat, as measured); pings and connection time follow
    the clock (scaled with the chat, like the timers)."""
    push = report.get("push")
    if not push:
        return None
    received, sent, minutes = {}, {}, 0.0
    for side in ("customers", "agents"):
        counters = push[side]
        received[side] = counters["frames_received"] / started
        # A ping every 5 minutes of connection: what a standard chat's sockets send.
        connected = counters["connected_chat_s"] / 60 / started * scale
        sent[side] = connected / WEBSOCKET_PING_EVERY_MINUTES
        minutes += connected
    messages = sum(received.values()) + sum(sent.values())
    return WebSocketUse(messages, minutes, received, sent)


def mix_from_requests(given: dict) -> ChatMix:
    """A standard chat given directly (`--requests-per-chat`): `requests` by endpoint key (per
    standard chat, not scaled), `replies`, `chat_minutes` (default 10) and, for push, a
    `websocket` object with `messages` and `connection_minutes`."""
    requests = {key: 0.0 for key in ENDPOINTS}
    unknown = sorted(set(given["requests"]) - set(ENDPOINTS))
    if unknown:
        raise ValueError(f"requests per chat for endpoints this model does not price: {unknown}")
    requests.update({key: float(count) for key, count in given["requests"].items()})
    ws = given.get("websocket")
    websocket = WebSocketUse(float(ws["messages"]), float(ws["connection_minutes"])) if ws else None
    return ChatMix(
        requests,
        float(given.get("replies", 0.0)),
        float(given.get("chat_minutes", 10.0)),
        {key: endpoint.lambda_ms for key, endpoint in ENDPOINTS.items()},
        websocket,
    )


@dataclass
class Cost:
    """USD per 1,000 standard chats, by item."""

    gateway: float = 0.0
    lambda_: float = 0.0
    dynamodb: float = 0.0
    logs: float = 0.0
    xray: float = 0.0

    @property
    def total(self) -> float:
        return self.gateway + self.lambda_ + self.dynamodb + self.logs + self.xray


def _per_million(count: float, price: float) -> float:
    return count * price / 1_000_000


def _backend(cost: Cost, requests: float, read_units: float, write_units: float, lambda_ms: float) -> None:
    """Lambda, DynamoDB, logs and traces for `requests` invocations (per chat, summed)."""
    gb_seconds = lambda_ms / 1000 * LAMBDA_MEMORY_MB / 1024
    cost.lambda_ += _per_million(requests, PRICES["lambda_per_million_requests"])
    cost.lambda_ += gb_seconds * PRICES["lambda_per_gb_second_arm64"]
    cost.dynamodb += _per_million(read_units, PRICES["dynamodb_per_million_read_units"])
    cost.dynamodb += _per_million(write_units, PRICES["dynamodb_per_million_write_units"])
    cost.logs += requests * LOG_BYTES_PER_REQUEST / 1e9 * PRICES["logs_per_gb_ingested"]
    cost.xray += _per_million(requests * XRAY_SAMPLE_RATE, PRICES["xray_per_million_traces"])


def request_cost(mix: ChatMix, gateway_price: float, poll_share: float = 1.0) -> Cost:
    """One chat's cost when every request goes through a gateway priced per million requests;
    `poll_share` of the app's polls (and of the delivering polls) still happen."""
    cost = Cost()
    total_requests = 0.0
    read_units = write_units = lambda_ms = 0.0
    invocations = 0.0
    for key, count in mix.requests.items():
        endpoint = ENDPOINTS[key]
        if key == "poll":
            count *= poll_share
        if endpoint.kind == "ws_connect":
            # No request charge: API Gateway bills the socket's minutes and messages; its
            # $connect and $disconnect functions run once each.
            invocations += 2 * count
        else:
            total_requests += count
            invocations += count
        read_units += count * endpoint.read_units
        write_units += count * endpoint.write_units
        lambda_ms += count * mix.lambda_ms[key]
    delivering = mix.replies * poll_share
    read_units += delivering * DELIVERING_POLL.read_units
    write_units += delivering * DELIVERING_POLL.write_units
    cost.gateway += _per_million(total_requests, gateway_price)
    _backend(cost, invocations, read_units, write_units, lambda_ms)
    return cost


def measured_push_cost(mix: ChatMix, gateway_price: float) -> Cost:
    """What a push run did, priced: its requests through a gateway priced per million, plus the
    WebSocket messages and connection minutes it used, and the functions behind them (each
    ping runs the message route; each frame received is one post by the stream consumer)."""
    cost = request_cost(mix, gateway_price)
    ws = mix.websocket
    cost.gateway += _per_million(ws.messages, PRICES["websocket_per_million_messages"])
    cost.gateway += _per_million(ws.connection_minutes, PRICES["websocket_per_million_connection_minutes"])
    pings = sum(ws.sent.values())
    # A post adds its Management API call to the consumer's time; the consumer's invocations
    # are per batch, not per frame, and left out.
    _backend(cost, pings, read_units=0, write_units=0, lambda_ms=ws.messages * WEBSOCKET_LAMBDA_MS)
    return cost


def websocket_cost(mix: ChatMix, rest_price: float) -> Cost:
    """The REST API for everything but the app's poll; a WebSocket pushes each reply and the
    end instead, except for the fallback share of clients, who poll as today."""
    share = WEBSOCKET_FALLBACK_SHARE
    cost = request_cost(mix, rest_price, poll_share=share)
    connected = 1 - share
    # Pushes: each reply and the end notice; the app's keep-alive pings.
    messages = (mix.replies + 1 + mix.chat_minutes / WEBSOCKET_PING_EVERY_MINUTES) * connected
    cost.gateway += _per_million(messages, PRICES["websocket_per_million_messages"])
    cost.gateway += _per_million(
        mix.chat_minutes * connected, PRICES["websocket_per_million_connection_minutes"]
    )
    # $connect and $disconnect run a function each; every push reads the connection item and
    # adds a Management API call to the sending function's time.
    invocations = 2 * connected
    _backend(
        cost,
        invocations,
        read_units=(mix.replies + 1) * connected,
        write_units=WEBSOCKET_CONNECT_WRITE_UNITS * connected,
        lambda_ms=(invocations + (mix.replies + 1) * connected) * WEBSOCKET_LAMBDA_MS,
    )
    return cost


def per_thousand(cost: Cost) -> Cost:
    return Cost(*(1000 * value for value in (cost.gateway, cost.lambda_, cost.dynamodb, cost.logs, cost.xray)))


def transports(mix: ChatMix) -> dict[str, Cost]:
    """USD per 1,000 standard chats for each transport."""
    if mix.websocket is not None:
        return {
            "as measured: REST API + WebSocket": per_thousand(
                measured_push_cost(mix, PRICES["rest_api_per_million_requests"])
            ),
            "as measured: HTTP API + WebSocket": per_thousand(
                measured_push_cost(mix, PRICES["http_api_per_million_requests"])
            ),
        }
    return {
        "REST API (as deployed)": per_thousand(request_cost(mix, PRICES["rest_api_per_million_requests"])),
        "HTTP API": per_thousand(request_cost(mix, PRICES["http_api_per_million_requests"])),
        "WebSocket push + polling fallback": per_thousand(
            websocket_cost(mix, PRICES["rest_api_per_million_requests"])
        ),
    }


def fixed_monthly_usd() -> float:
    """A dev stack's idle cost (the samconfig.toml default environment), from the template."""
    return idle_costs()["default"].total


def monthly(cost_per_thousand: float, chats_per_day: int) -> float:
    return fixed_monthly_usd() + cost_per_thousand * chats_per_day * DAYS_PER_MONTH / 1000


# ---- idle cost per environment, from the template -------------------------------------------


@dataclass
class IdleCost:
    alarms: int = 0
    alarm_metrics: int = 0
    alarm_usd: float = 0.0
    dashboards: int = 0
    secrets: int = 0
    kms_keys: int = 0
    waf_acls: int = 0
    waf_rules: int = 0
    # Priced at 0 idle (FREE_IDLE_TYPES), counted so that the table says what it left out.
    queues: int = 0
    # Per alarmed function logical id: the Lambda metrics its alarms watch.
    function_alarms: dict = field(default_factory=dict)
    functions: list = field(default_factory=list)
    environment: str = ""

    @property
    def total(self) -> float:
        return round(
            self.alarm_usd
            + self.dashboards * IDLE_PRICES["dashboard"]
            + self.secrets * IDLE_PRICES["secret"]
            + self.kms_keys * IDLE_PRICES["kms_key"]
            + self.waf_acls * IDLE_PRICES["waf_web_acl"]
            + self.waf_rules * IDLE_PRICES["waf_rule"],
            2,
        )


def samconfig_parameters(samconfig: dict) -> dict[str, dict[str, str]]:
    """Environment -> its deploy parameter_overrides."""
    envs = {}
    for name, body in samconfig.items():
        if not isinstance(body, dict):
            continue
        text = body.get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
        text = " ".join(text) if isinstance(text, list) else text
        envs[name] = dict(pair.partition("=")[::2] for pair in shlex.split(text))
    return envs


class Conditions:
    """Template conditions evaluated for one environment's parameters."""

    def __init__(self, template: dict, params: dict[str, str]):
        self.template = template
        self.params = {n: str(p.get("Default", "")) for n, p in template.get("Parameters", {}).items()}
        self.params.update(params)
        self.cache: dict[str, bool] = {}

    def holds(self, name: str) -> bool:
        if name not in self.cache:
            self.cache[name] = bool(self.value(self.template["Conditions"][name]))
        return self.cache[name]

    def value(self, node):
        if isinstance(node, list):
            return [self.value(v) for v in node]
        if not isinstance(node, dict) or len(node) != 1:
            return node
        (key, arg), = node.items()
        if key == "Ref":
            return self.params.get(arg, arg)
        if key == "Condition":
            return self.holds(arg)
        if key == "Fn::Equals":
            return str(self.value(arg[0])) == str(self.value(arg[1]))
        if key == "Fn::Not":
            return not self.value(arg[0])
        if key == "Fn::And":
            return all(self.value(a) for a in arg)
        if key == "Fn::Or":
            return any(self.value(a) for a in arg)
        raise ValueError(f"condition uses {key}, which the idle cost model does not evaluate")


def _alarm_metrics(props: dict) -> list[dict]:
    if "MetricName" in props:
        return [{"Metric": props, "Period": props.get("Period", 60)}]
    return [m["MetricStat"] | {"Period": m["MetricStat"].get("Period", 60)} for m in props.get("Metrics", []) if "MetricStat" in m]


def _function_of(value) -> str | None:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return value["Ref"]
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        inner = value["Fn::Sub"]
        if inner.startswith("${") and inner.endswith("}") and inner.count("${") == 1:
            return inner[2:-1]
    return None


def idle_cost_of(template: dict, params: dict[str, str]) -> IdleCost:
    expanded = language_extensions.expand(template, params)
    conditions = Conditions(expanded, params)
    cost = IdleCost(environment=conditions.params.get("Environment", ""))
    for name, resource in expanded.get("Resources", {}).items():
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function":
            cost.functions.append(name)
        if "Condition" in resource and not conditions.holds(resource["Condition"]):
            continue
        props = resource.get("Properties", {})
        if kind == "AWS::CloudWatch::Alarm":
            cost.alarms += 1
            for stat in _alarm_metrics(props):
                cost.alarm_metrics += 1
                high = int(stat["Period"]) < 60
                cost.alarm_usd += IDLE_PRICES["alarm_metric_high_resolution" if high else "alarm_metric"]
                metric = stat["Metric"]
                for dimension in metric.get("Dimensions", []):
                    function = _function_of(dimension.get("Value"))
                    if metric.get("Namespace") == "AWS/Lambda" and dimension.get("Name") == "FunctionName" and function:
                        cost.function_alarms.setdefault(function, set()).add(metric.get("MetricName"))
        elif kind == "AWS::CloudWatch::CompositeAlarm":
            cost.alarms += 1
            cost.alarm_usd += IDLE_PRICES["composite_alarm"]
        elif kind == "AWS::CloudWatch::Dashboard":
            cost.dashboards += 1
        elif kind == "AWS::SecretsManager::Secret":
            cost.secrets += 1
        elif kind == "AWS::KMS::Key":
            cost.kms_keys += 1
        elif kind == "AWS::WAFv2::WebACL":
            cost.waf_acls += 1
            rules = props.get("Rules", [])
            cost.waf_rules += len(rules) if isinstance(rules, list) else 0
        elif kind == "AWS::SQS::Queue":
            cost.queues += 1
        elif kind not in FREE_IDLE_TYPES:
            raise ValueError(f"{name}: {kind} has no idle price in the cost model (IDLE_PRICES or FREE_IDLE_TYPES)")
    cost.alarm_usd = round(cost.alarm_usd, 2)
    return cost


@functools.cache
def idle_costs(template_path: Path = ROOT / "template.yaml", samconfig_path: Path = ROOT / "samconfig.toml") -> dict[str, IdleCost]:
    template = language_extensions.load(template_path)
    samconfig = tomllib.loads(Path(samconfig_path).read_text())
    return {env: idle_cost_of(template, params) for env, params in samconfig_parameters(samconfig).items()}


def render_idle(costs: dict[str, IdleCost]) -> str:
    lines = ["Idle cost per environment", ""]
    lines.append("| environment | alarms | alarm metrics | dashboards | secrets | WAF | total USD/month |")
    lines.append("|---|---:|---:|---:|---:|---|---:|")
    for env, cost in costs.items():
        waf = (
            f"{cost.waf_acls} web ACL, {cost.waf_rules} rules"
            if cost.waf_acls
            else "none"
        )
        lines.append(
            f"| {env} (Environment={cost.environment}) | {cost.alarms} | {cost.alarm_metrics} | {cost.dashboards} | {cost.secrets} | {waf} | {cost.total:.2f} |"
        )
    lines.append("")
    lines.append(
        "From template.yaml with each samconfig.toml environment's parameter_overrides. USD a month: "
        + ", ".join(f"{k.replace('_', ' ')} {v:.2f}" for k, v in IDLE_PRICES.items())
        + (f"; KMS keys: {sum(c.kms_keys for c in costs.values())}" if any(c.kms_keys for c in costs.values()) else "")
        + ". Nothing else in the stack is billed while idle (log groups, the SNS topic, DynamoDB on "
        "demand and its stream, Lambda, API Gateway REST and WebSocket, "
        + f"SQS queues ({max(c.queues for c in costs.values())}, billed per request)); X-Ray, logs and requests are billed per use."
    )
    return "\n".join(lines)


def by_party(mix: ChatMix) -> dict[str, dict[str, float]]:
    """Requests per standard chat by who makes them (customers, agents) and kind; WebSocket
    frames apart (billed as messages, not requests)."""
    split = {}
    for party, side in (("customer", "customers"), ("agent", "agents")):
        row = {"rest": 0.0, "ticket": 0.0, "ws_connect": 0.0}
        for key, count in mix.requests.items():
            endpoint = ENDPOINTS[key]
            if endpoint.party == party:
                row[endpoint.kind] += count
        row["requests"] = row["rest"] + row["ticket"] + row["ws_connect"]
        ws = mix.websocket
        row["frames_received"] = ws.received.get(side, 0.0) if ws else 0.0
        row["frames_sent"] = ws.sent.get(side, 0.0) if ws else 0.0
        split[side] = row
    return split


def render_by_party(named: list[tuple[str, ChatMix]]) -> str:
    """One column per run: requests per standard chat by who makes them."""
    lines = [
        "| per standard chat (" + f"{named[0][1].chat_minutes:g} min) | " + " | ".join(name for name, _ in named) + " |",
        "|---|" + "---:|" * len(named),
    ]
    splits = [by_party(mix) for _, mix in named]
    for side in ("agents", "customers"):
        for field_name, label in (
            ("rest", "REST requests"),
            ("ticket", "tickets"),
            ("ws_connect", "WebSocket connects"),
            ("requests", "**requests**"),
            ("frames_received", "frames received"),
            ("frames_sent", "frames sent (pings)"),
        ):
            lines.append(f"| {side}: {label} | " + " | ".join(f"{split[side][field_name]:.1f}" for split in splits) + " |")
    lines.append(
        "| **all requests** | "
        + " | ".join(f"{split['agents']['requests'] + split['customers']['requests']:.1f}" for split in splits)
        + " |"
    )
    lines.append(
        "| WebSocket messages (frames both ways) | "
        + " | ".join(f"{mix.websocket.messages if mix.websocket else 0:.1f}" for _, mix in named)
        + " |"
    )
    return "\n".join(lines)


def units_per_chat(mix: ChatMix) -> tuple[float, float]:
    reads = sum(count * ENDPOINTS[key].read_units for key, count in mix.requests.items())
    writes = sum(count * ENDPOINTS[key].write_units for key, count in mix.requests.items())
    reads += mix.replies * DELIVERING_POLL.read_units
    writes += mix.replies * DELIVERING_POLL.write_units
    return reads, writes


def render(report: dict | None, mix: ChatMix, costs: dict[str, Cost]) -> str:
    lines = []
    if report is None:
        lines.append(f"Standard chat: {mix.chat_minutes:g} minutes; requests per chat as given.")
    else:
        lines.append(
            f"Standard chat: {mix.chat_minutes:g} minutes; from a loadgen run of {report['counts']['started']} chats "
            f"against {report['base_url']} (mean chat {report['mean_chat_s'] / 60:.1f} min of chat time)"
            + (f"; {report['mode']}" if report.get("mode") else "")
            + "."
        )
    lines.append("")
    lines.append("| requests per standard chat | count | read units | write units | Lambda ms |")
    lines.append("|---|---:|---:|---:|---:|")
    for key, count in mix.requests.items():
        if count == 0:
            continue
        endpoint = ENDPOINTS[key]
        lines.append(
            f"| {key}{' (timer, scaled)' if endpoint.time_driven else ''} | {count:.2f} | "
            f"{endpoint.read_units:g} | {endpoint.write_units:g} | {mix.lambda_ms[key]:g} |"
        )
    lines.append(
        f"| poll that delivers replies (extra, one per reply) | {mix.replies:.2f} | "
        f"{DELIVERING_POLL.read_units:g} | {DELIVERING_POLL.write_units:g} | - |"
    )
    reads, writes = units_per_chat(mix)
    capacity = report.get("capacity") if report else None
    lines.append("")
    lines.append(
        f"Requests per chat: {sum(mix.requests.values()):.1f}; DynamoDB units per chat: "
        f"{reads:.1f} read, {writes:.1f} write "
        + (
            "(estimated from the requests per endpoint; the run did not measure consumed capacity)"
            if capacity is None
            else f"(the run measured {capacity['read_units']:.1f} read, {capacity['write_units']:.1f} write)"
        )
    )
    lines.append(
        f"Lambda {LAMBDA_MEMORY_MB} MB arm64; logs {LOG_BYTES_PER_REQUEST} bytes per request; X-Ray "
        f"{XRAY_SAMPLE_RATE:.0%} sampled; "
        + (
            f"WebSocket fallback to polling {WEBSOCKET_FALLBACK_SHARE:.0%}."
            if mix.websocket is None
            else f"WebSocket as measured: {mix.websocket.messages:.1f} messages and "
            f"{mix.websocket.connection_minutes:.1f} connection minutes per chat."
        )
    )
    lines.append("")
    header = "| transport | gateway | Lambda | DynamoDB | logs | X-Ray | per 1,000 chats |"
    header += "".join(f" month at {n:,}/day |" for n in CHATS_PER_DAY)
    lines.append(header)
    lines.append("|---|" + "---:|" * (6 + len(CHATS_PER_DAY)))
    for name, cost in costs.items():
        row = (
            f"| {name} | {cost.gateway:.3f} | {cost.lambda_:.3f} | {cost.dynamodb:.3f} | "
            f"{cost.logs:.3f} | {cost.xray:.3f} | {cost.total:.3f} |"
        )
        row += "".join(f" {monthly(cost.total, n):,.2f} |" for n in CHATS_PER_DAY)
        lines.append(row)
    lines.append("")
    lines.append(
        f"USD. Months of {DAYS_PER_MONTH} days include the fixed {fixed_monthly_usd():.2f} USD a dev stack costs idle "
        "(`cost_model.py --idle`, from template.yaml). Prices: " + PRICES_NOTE + "."
    )
    lines.append("Prices used: " + ", ".join(f"{k} {v:g}" for k, v in PRICES.items()) + ".")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--report", action="append", help="the JSON a loadgen run wrote (--report-json); several with --by-party"
    )
    parser.add_argument(
        "--requests-per-chat",
        help="a JSON file: {requests: {endpoint key: count per standard chat}, replies, chat_minutes, "
        "websocket: {messages, connection_minutes}}; priced as given, nothing scaled",
    )
    parser.add_argument("--by-party", action="store_true", help="requests per standard chat by who makes them, per report")
    parser.add_argument("--idle", action="store_true", help="print the idle cost per samconfig.toml environment")
    parser.add_argument("--chat-minutes", type=float, default=10.0, help="length of a standard chat")
    parser.add_argument(
        "--lambda-ms-source",
        choices=("constants", "report"),
        default="constants",
        help="billed ms per request: the estimates in this script, or the run's median latency",
    )
    args = parser.parse_args(argv)
    if args.idle:
        print(render_idle(idle_costs()))
        return 0
    if args.requests_per_chat:
        with open(args.requests_per_chat, encoding="utf-8") as file:
            mix = mix_from_requests(json.load(file))
        print(render(None, mix, transports(mix)))
        return 0
    if not args.report:
        parser.error("--report, --requests-per-chat or --idle is required")
    named = []
    for path in args.report:
        with open(path, encoding="utf-8") as file:
            report = json.load(file)
        named.append((report.get("mode", path), report, chat_mix(report, args.chat_minutes, args.lambda_ms_source)))
    if args.by_party:
        print(render_by_party([(name, mix) for name, _, mix in named]))
        return 0
    for index, (_, report, mix) in enumerate(named):
        if index:
            print()
        print(render(report, mix, transports(mix)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
