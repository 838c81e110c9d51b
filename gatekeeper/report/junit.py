"""JUnit XML: each rule as a test case, for CI systems that display test reports.

One ``<testsuite name="gatekeeper">``; a rule is a ``<testcase>`` (classname the check,
name the rule id): ``fail`` is a ``<failure>``, ``error`` an ``<error>``, ``skipped`` a
``<skipped>``; ``warn`` and ``waived`` pass with the summary in ``<system-out>``. Text from the change
may hold characters XML 1.0 cannot carry; they are dropped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from gatekeeper.model import RuleResult, Status
from gatekeeper.report.model import Report

# Characters that are not allowed anywhere in an XML 1.0 document.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str | None) -> str:
    return _NOT_XML.sub("", text or "")


def _case(r: RuleResult) -> ET.Element:
    case = ET.Element("testcase", classname=_clean(r.check), name=_clean(r.id), time="0")
    detail = _clean(r.summary + (f"\nNext step: {r.remedy}" if r.remedy else ""))
    if r.status is Status.FAIL:
        ET.SubElement(case, "failure", message=_clean(r.summary), type="fail").text = detail
    elif r.status is Status.ERROR:
        ET.SubElement(case, "error", message=_clean(r.summary), type="error").text = detail
    elif r.status is Status.SKIPPED:
        ET.SubElement(case, "skipped", message=_clean(r.summary))
    elif r.status in (Status.WARN, Status.WAIVED):
        ET.SubElement(case, "system-out").text = f"{r.status.value}: {detail}"
    return case


def render(report: Report) -> str:
    counts = report.counts
    suite = ET.Element(
        "testsuite",
        name=_clean(f"gatekeeper: {report.policy_name}"),
        tests=str(len(report.results)),
        failures=str(counts["fail"]),
        errors=str(counts["error"]),
        skipped=str(counts["skipped"]),
        time="0",
        timestamp=report.generated_at.isoformat(timespec="seconds"),
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (("decision", report.decision.value), ("head", report.head or "")):
        ET.SubElement(properties, "property", name=name, value=_clean(value))
    suite.extend(_case(r) for r in report.results)
    root = ET.Element("testsuites", name="gatekeeper")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
