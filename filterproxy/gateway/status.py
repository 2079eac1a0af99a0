"""Summarising ``nft -j list table`` for `filterproxy gateway status`."""

from __future__ import annotations

from typing import Any


def set_sizes(items: list[dict[str, Any]]) -> dict[str, int]:
    """Elements per set (a permanent element and a timed one count the same)."""
    return {item["set"]["name"]: len(item["set"].get("elem", [])) for item in items if "set" in item}


def rule_counters(items: list[dict[str, Any]]) -> list[tuple[str, str, int, int]]:
    """(chain, comment, packets, bytes) of every rule carrying a counter."""
    found: list[tuple[str, str, int, int]] = []
    for item in items:
        rule = item.get("rule")
        if rule is None:
            continue
        for expr in rule.get("expr", []):
            counter = expr.get("counter") if isinstance(expr, dict) else None
            if counter is not None:
                found.append((rule["chain"], rule.get("comment", ""), counter["packets"], counter["bytes"]))
    return found


def describe(table: str, items: list[dict[str, Any]]) -> str:
    lines = [f"gateway: table inet {table} is loaded", "sets:"]
    lines += [f"  {name:<12} {count} elements" for name, count in sorted(set_sizes(items).items())]
    lines.append("rules (packets, bytes):")
    for chain, comment, packets, size in rule_counters(items):
        lines.append(f"  {chain:<7} {comment:<24} {packets:>10} {size:>14}")
    return "\n".join(lines) + "\n"
