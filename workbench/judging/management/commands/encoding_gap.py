from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.deliberation.management.arguments import workshop_named
from workbench.judging.models import JudgeRun
from workbench.judging.services.encoding_gap import encoding_gap_report

TABLE_FIGURES = (
    ("relevance", "rel"),
    ("order_consistency", "order"),
    ("human_ceiling", "H"),
    ("judge_agreement", "A"),
    ("gap", "gap"),
    ("normalized_agreement", "NA"),
    ("kappa", "kappa"),
    ("ac1", "AC1"),
    ("js_distance", "JS"),
)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


class Command(BaseCommand):
    help = (
        "Prints the encoding-gap report of a workshop's latest finished judge run "
        "(or --run ID): per principle and per group, how far the judge's reading is "
        "from the participants'. --json prints the object DESIGN.md defines."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", metavar="SLUG")
        parser.add_argument("--json", action="store_true", dest="as_json")
        parser.add_argument("--run", type=int, metavar="ID")
        parser.add_argument(
            "--seed", type=int, default=0, help="Seed of every random draw."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workshop = workshop_named(options["slug"])
        run = None
        if options["run"] is not None:
            run = (
                JudgeRun.objects.filter(
                    pk=options["run"], comparison_set__workshop=workshop
                )
                .select_related("config", "comparison_set")
                .first()
            )
            if run is None:
                raise CommandError(
                    f"Workshop “{workshop.slug}” has no judge run {options['run']}."
                )
        report = encoding_gap_report(
            workshop=workshop, run=run, rng_seed=options["seed"]
        )
        if options["as_json"]:
            self.stdout.write(json.dumps(report, indent=2, allow_nan=False))
            return
        self._table(report)

    def _table(self, report: dict[str, Any]) -> None:
        judge = report["judge"]
        if judge:
            self.stdout.write(
                f"Judge: {judge['provider']} {judge['model']} "
                f"(prompt {judge['prompt_version']}; {judge['kind']}), "
                f"run {report['run']['id']}"
            )
        if report.get("message"):
            self.stdout.write(report["message"])
        opinion = report["opinion_groups"]
        if opinion["analysis"] is not None:
            self.stdout.write(
                f"Opinion groups: analysis {opinion['analysis']} of "
                f"{opinion['computed_at']}"
            )
        else:
            self.stdout.write(opinion["note"])
        header = ["principle", "items", "labels", *(s for _, s in TABLE_FIGURES)]
        header += ["best group", "q"]
        rows = [header]
        for p in report["principles"]:
            name = f"{p['external_id']} v{p['version']}"
            rows.append(
                [
                    name,
                    str(p["n_items"]),
                    str(p["n_human_labels"]),
                    *(_fmt(p[k]) for k, _ in TABLE_FIGURES),
                    _fmt(p["best_matching_group"]),
                    _fmt(p["group_disparity_q"]),
                ]
            )
            groups = [(f"  {g}", f) for g, f in p["per_group"].items()]
            groups += [
                (f"  opinion group {g}", f) for g, f in p["per_opinion_group"].items()
            ]
            for name, figures in groups:
                rows.append(
                    [
                        name,
                        str(figures["n_items"]),
                        str(figures["n_human_labels"]),
                        *(_fmt(figures.get(k)) for k, _ in TABLE_FIGURES),
                        "",
                        "",
                    ]
                )
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        for row in rows:
            self.stdout.write(
                "  ".join(
                    cell.ljust(w) if i == 0 else cell.rjust(w)
                    for i, (cell, w) in enumerate(zip(row, widths, strict=True))
                ).rstrip()
            )
        controls = report["controls"]
        if controls["principles"]:
            self.stdout.write("No-principle control (judge agreement):")
            for c in controls["principles"]:
                self.stdout.write(
                    f"  {c['external_id']} v{c['version']}: "
                    f"{_fmt(c['judge_agreement'])} with the principle, "
                    f"{_fmt(c['no_principle_judge_agreement'])} without"
                )
        else:
            self.stdout.write(controls["note"])
        self.stdout.write("Flipped labels (judge agreement) and P(prefer longer):")
        lengths = {
            (c["external_id"], c["version"]): c
            for c in controls["prefer_longer"]["principles"]
        }
        for c in controls["flipped_labels"]["principles"]:
            length = lengths[(c["external_id"], c["version"])]
            self.stdout.write(
                f"  {c['external_id']} v{c['version']}: "
                f"{_fmt(c['judge_agreement'])} real, "
                f"{_fmt(c['judge_agreement_flipped'])} flipped; longer preferred by "
                f"the judge {_fmt(length['prefer_longer_judge'])}, "
                f"participants {_fmt(length['prefer_longer_humans'])}"
            )
