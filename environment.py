"""Behave hooks. The work is in harness.hooks: servers, tenants, cleanup, report labels."""

from harness import hooks
from harness.step_types import register_step_types

register_step_types()


def before_all(context):
    hooks.before_all(context)


def before_scenario(context, scenario):
    hooks.before_scenario(context, scenario)


def before_step(context, step):
    hooks.before_step(context, step)


def after_scenario(context, scenario):
    hooks.after_scenario(context, scenario)


def after_all(context):
    hooks.after_all(context)
