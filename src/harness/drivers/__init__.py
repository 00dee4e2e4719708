"""Drivers: what the steps call. Each drives the platform's public API and reports to Allure."""
