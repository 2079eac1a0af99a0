"""`filterproxy model ...`: train and inspect the hostname model; review its automatic verdicts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from filterproxy.categorise.loader import model_path, trained_path
from filterproxy.categorise.modelfile import read_model
from filterproxy.categorise.queue import confirm, reject, review_queue
from filterproxy.categorise.training.sources import TrainingSources, load_training_sources
from filterproxy.config.loader import load_config
from filterproxy.config.model import Config
from filterproxy.model import Category


def register(sub: Any) -> None:
    model = sub.add_parser("model", help="the hostname model: train, info, review queue")
    verbs = model.add_subparsers(dest="verb", metavar="VERB", required=True)
    train = verbs.add_parser("train", help="train a model from declared sources (reproducible)")
    train.add_argument("--sources", type=Path, help="training-sources YAML (default: the enabled lists + --benign)")
    train.add_argument("--benign", type=Path, action="append", default=[],
                       help="extra benign list for training from the enabled lists (repeatable)")
    train.add_argument("--out", type=Path, help="model file to write (default: <data_dir>/model/hostnames.fphm)")
    train.set_defaults(handler=run_train)
    info = verbs.add_parser("info", help="print the active model's manifest")
    info.add_argument("--file", type=Path, help="a model file (default: the active model)")
    info.add_argument("--json", action="store_true", help="the whole manifest as JSON")
    info.set_defaults(handler=run_info)
    queue = verbs.add_parser("queue", help="sites with automatic verdicts waiting for a decision")
    queue.add_argument("--json", action="store_true", help="one JSON object per site per line")
    queue.set_defaults(handler=run_queue)
    for verb, text in (("confirm", "the verdict was right: add the site to the deny list"),
                       ("reject", "the verdict was wrong: add the site to the allow list")):
        cmd = verbs.add_parser(verb, help=text)
        cmd.add_argument("name", help="site (registrable domain) or host name")
        cmd.add_argument("--reason", required=True, help="why (audited, shown in the annual review)")
        if verb == "confirm":
            cmd.add_argument("--category", type=Category, help="category for the deny list (default: the verdict's)")
        cmd.set_defaults(handler=run_confirm if verb == "confirm" else run_reject)


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config, data_dir=args.data_dir)


def run_train(args: argparse.Namespace) -> int:
    from filterproxy.categorise.training.run import train
    from filterproxy.categorise.training.school import from_config

    config = _config(args)
    declared: TrainingSources = (load_training_sources(args.sources) if args.sources
                                 else from_config(config, args.benign))
    out = args.out or trained_path(config.data_dir)
    trained = train(declared, out)
    validation = trained.manifest["validation"]
    print(f"wrote {trained.path} (sha256 {trained.sha256}, version {trained.manifest['version']})")
    print(_metrics_table(validation))
    return 0


def run_info(args: argparse.Namespace) -> int:
    config = _config(args)
    path = args.file or model_path(config.categorise, config.data_dir)
    model = read_model(path)
    manifest = model.manifest
    if args.json:
        print(json.dumps({**manifest, "file": str(path), "features_kept": model.size}, indent=2, sort_keys=True))
        return 0
    print(f"model {model.version} ({path}, {model.size} features)")
    print(f"technique: {manifest.get('technique', '-')}")
    print(f"split: {manifest.get('split')}")
    for source in manifest.get("sources", []):
        print(f"  source {source['label']:<9} {source['path']} sha256={source['sha256'][:16]} bytes={source['bytes']}")
    blocked = [c for c, a in manifest.get("recommended_actions", {}).items() if a == "block"]
    print("validation split (thresholds chosen here):")
    print(_metrics_table(manifest.get("validation", {}), blocked))
    if manifest.get("test"):
        print("test split (reported, never tuned on):")
        print(_metrics_table(manifest["test"], blocked))
    print(f"recommended actions: {manifest.get('recommended_actions', {})}")
    return 0


def _metrics_table(measured: dict[str, Any], blocked: list[str] | None = None) -> str:
    lines = [f"  {'category':<9} {'threshold':>9} {'precision':>9} {'recall':>7} {'support':>7} {'benign_fp':>9}"]
    for category, m in measured.get("categories", {}).items():
        precision = f"{m['precision']:.3f}" if m["precision"] is not None else "-"
        recall = f"{m['recall']:.3f}" if m["recall"] is not None else "-"
        lines.append(f"  {category:<9} {m['threshold']:>9.2f} {precision:>9} {recall:>7} {m['support']:>7} "
                     f"{m['benign_false_positives']:>9}")
    lines.append(f"  benign names: {measured.get('benign')}, flagged share (all categories): "
                 f"{measured.get('benign_blocked_share')}, harmful recall (all categories): "
                 f"{measured.get('harmful_recall')}")
    if blocked and measured.get("benign"):
        per = measured["categories"]
        fp = sum(per[c]["benign_false_positives"] for c in blocked if c in per)
        caught = sum(per[c]["recall"] * per[c]["support"] for c in blocked if c in per and per[c]["recall"])
        harmful = sum(m["support"] for m in per.values())
        lines.append(f"  with the default policy (block {', '.join(blocked)}; log the rest): benign blocked "
                     f"{fp}/{measured['benign']} = {fp / measured['benign']:.3%}, harmful blocked "
                     f"{caught / harmful:.1%}" if harmful else "")
    return "\n".join(lines)


def run_queue(args: argparse.Namespace) -> int:
    items = review_queue(_config(args))
    for item in items:
        if args.json:
            print(json.dumps(item.as_dict()))
        else:
            print(f"{item.site}\t{item.verdict.upper()}\t{item.category or '-'}\treason={item.reason} "
                  f"events={item.events} last={item.last_seen:%Y-%m-%d %H:%M} evidence={item.evidence or '-'}")
    if not items and not args.json:
        print("the review queue is empty")
    return 0


def run_confirm(args: argparse.Namespace) -> int:
    changed = confirm(_config(args), args.name, args.reason, args.category)
    print(f"confirmed: {', '.join(changed) or args.name + ' (already on the deny list)'}")
    return 0


def run_reject(args: argparse.Namespace) -> int:
    changed = reject(_config(args), args.name, args.reason)
    print(f"rejected: {', '.join(changed) or args.name + ' (already on the allow list)'}")
    return 0
