from harness.reporting.allure import attach_json, attach_svg, attach_text, label_scenario, redact, register_secret

__all__ = ["attach_json", "attach_svg", "attach_text", "label_scenario", "redact", "register_secret"]
