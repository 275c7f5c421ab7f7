"""The order-number flow module, in Python.

Asks for an order number, checks it (digits only, of a configured length), asks again
when it is wrong, stores it in a session variable and confirms it. Leaves by `next`
once it has a number, by `invalid` after too many wrong answers and by `timeout` when
the user says nothing. Every step runs in a fresh instance, so the number of attempts
so far travels in the step's `state`.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import host
from wit_world.imports.types import (
    Action_Send,
    Action_SetVariable,
    ConfigProblem,
    ExitInfo,
    LogLevel,
    ModuleError_Failed,
    ModuleError_InvalidConfig,
    ModuleInfo,
    Next_Exit,
    Next_Wait,
    NodeInfo,
    Outgoing_Text,
    StepOutput,
    Trigger_Entered,
    Trigger_Resumed,
    Trigger_UserMessage,
    Trigger_WaitTimedOut,
    Variable,
)

NAME = "order-number-py"
VERSION = "1.0.0"

EXITS = [
    ExitInfo("next", "The order number is stored in the variable."),
    ExitInfo("invalid", "The user gave no valid order number in the attempts allowed."),
    ExitInfo("timeout", "The user did not answer in time."),
]

DEFAULTS = {
    "prompt": "请输入您的订单号",
    "retry_prompt": "订单号应为 {min}–{max} 位数字，请重新输入",
    "confirmation": "好的，已记录订单号 {order}",
    "variable": "order_number",
    "min_digits": 6,
    "max_digits": 20,
    "max_attempts": 3,
    "timeout_ms": 120000,
}

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "prompt": {"type": "string", "minLength": 1},
        "retry_prompt": {"type": "string", "minLength": 1},
        "confirmation": {"type": "string", "minLength": 1},
        "variable": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
        "min_digits": {"type": "integer", "minimum": 1, "maximum": 64},
        "max_digits": {"type": "integer", "minimum": 1, "maximum": 64},
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 10},
        "timeout_ms": {"type": "integer", "minimum": 1000, "maximum": 86400000},
    },
}


def problems(raw):
    """Every problem with a configuration, with its JSON pointer, and the config."""
    try:
        given = json.loads(raw)
    except ValueError as e:
        return [ConfigProblem("", f"not JSON: {e}")], None
    if not isinstance(given, dict):
        return [ConfigProblem("", "expected an object")], None
    found = []
    config = dict(DEFAULTS)
    for key, value in given.items():
        if key not in DEFAULTS:
            found.append(ConfigProblem(f"/{key}", "unknown field"))
            continue
        rule = SCHEMA["properties"][key]
        if rule["type"] == "string":
            if not isinstance(value, str) or not value:
                found.append(ConfigProblem(f"/{key}", "expected a non-empty string"))
                continue
        elif not isinstance(value, int) or isinstance(value, bool):
            found.append(ConfigProblem(f"/{key}", "expected an integer"))
            continue
        elif not rule["minimum"] <= value <= rule["maximum"]:
            found.append(
                ConfigProblem(f"/{key}", f"must be {rule['minimum']} to {rule['maximum']}")
            )
            continue
        config[key] = value
    if not valid_variable(config["variable"]):
        found.append(
            ConfigProblem("/variable", "lower-case letters, digits and _, at most 64")
        )
    if config["min_digits"] > config["max_digits"]:
        found.append(ConfigProblem("/min_digits", "must not exceed max_digits"))
    return found, config


def valid_variable(name):
    return (
        0 < len(name) <= 64
        and name[0].isascii()
        and name[0].islower()
        and all(c.isascii() and (c.islower() or c.isdigit() or c == "_") for c in name)
    )


def load(raw):
    found, config = problems(raw)
    if found:
        raise Err(ModuleError_InvalidConfig(found))
    return config


def order_number(text, config):
    """The order number in what the user wrote (spaces and dashes ignored), if valid."""
    digits = "".join(c for c in text if not c.isspace() and c != "-")
    if digits.isascii() and digits.isdigit():
        if config["min_digits"] <= len(digits) <= config["max_digits"]:
            return digits
    return None


def ask(text, config, attempts):
    return StepOutput(
        [Action_Send(Outgoing_Text(text))],
        Next_Wait(config["timeout_ms"]),
        json.dumps({"attempts": attempts}).encode(),
    )


class Module(exports.Module):
    def describe(self):
        return ModuleInfo(
            NAME,
            VERSION,
            "Asks for an order number, checks it and stores it in a variable.",
            json.dumps(SCHEMA),
            EXITS,
        )

    def validate_config(self, config):
        load(config)
        return NodeInfo(EXITS, True)

    def prepare(self, config):
        load(config)
        return b""

    def step(self, input):
        config = load(input.config)
        attempts = json.loads(input.state)["attempts"] if input.state else 0
        trigger = input.trigger
        if isinstance(trigger, (Trigger_Entered, Trigger_Resumed)):
            return ask(config["prompt"], config, 0)
        if isinstance(trigger, Trigger_WaitTimedOut):
            return StepOutput([], Next_Exit("timeout"), None)
        if not isinstance(trigger, Trigger_UserMessage):
            raise Err(ModuleError_Failed("unknown trigger"))
        number = order_number(trigger.value.text, config)
        if number is not None:
            host.log(LogLevel.INFO, f"order number of {len(number)} digits")
            confirmation = config["confirmation"].replace("{order}", number)
            return StepOutput(
                [
                    Action_SetVariable(Variable(config["variable"], json.dumps(number))),
                    Action_Send(Outgoing_Text(confirmation)),
                ],
                Next_Exit("next"),
                None,
            )
        attempts += 1
        if attempts >= config["max_attempts"]:
            return StepOutput([], Next_Exit("invalid"), None)
        retry = (
            config["retry_prompt"]
            .replace("{min}", str(config["min_digits"]))
            .replace("{max}", str(config["max_digits"]))
        )
        return ask(retry, config, attempts)
