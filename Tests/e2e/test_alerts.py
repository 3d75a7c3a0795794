"""The Prometheus alert rules: valid, every alert covered by a unit test, and the tests pass (promtool from
Debian's prometheus package; scripts/setup-promtool.sh)."""
import os
import re
import subprocess

import pytest

RULES = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "prometheus")
PROMTOOL = os.environ.get("PROMTOOL")


@pytest.mark.skipif(not PROMTOOL, reason="set PROMTOOL (./sluice.sh test does)")
def test_alert_rules_are_valid_and_their_unit_tests_pass():
    check = subprocess.run([PROMTOOL, "check", "rules", "alerts.yml"], cwd=RULES, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    tested = subprocess.run([PROMTOOL, "test", "rules", "alerts.test.yml"], cwd=RULES, capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_test_that_expects_it_to_fire_and_not_to_fire():
    rules = open(os.path.join(RULES, "alerts.yml")).read()
    tests = open(os.path.join(RULES, "alerts.test.yml")).read()
    alerts = re.findall(r"- alert: (\w+)", rules)
    assert len(alerts) >= 8
    for alert in alerts:
        blocks = re.findall(rf"alertname: {alert}\n\s+exp_alerts:(.*?)(?=\n\s+- eval_time|\n  - interval|\Z)", tests, re.S)
        assert any(block.strip() == "[]" for block in blocks), f"{alert}: no moment where it must stay quiet"
        assert any("exp_labels" in block for block in blocks), f"{alert}: never expected to fire"
