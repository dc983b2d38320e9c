"""How well drift tells fading relationships from steady ones, over simulated histories.

Simulates N contacts of each kind (cadence._simulate: steady, fading,
one-sided, seasonal, new, handed-over, ended; seeds from 1,000,000 on, apart
from the seeds below 1,000,000 that the model was tuned on) and asks the
drift model, at every moment that matters, whether each is at risk:

- recall on fading relationships: the share flagged at-risk between the
  onset of the fade and the end of the history (target: at least 0.9);
- false alarms on steady and seasonal relationships: the share flagged
  at-risk at any moment of their last year (target: at most 5%);
- lead: for each fading relationship flagged, how many days before the
  plain cadence's first overdue check-in after the onset it was flagged
  (median; target: at least 14 days), also by the cadence's period, with
  the share flagged at least 14 days before (the median reaches 14 days
  when that share reaches a half).

The other kinds are reported without a target. Prints the figures, each
target's ratio, and exits 1 when one is missed.

    python bench/drift.py             # 10,000 contacts, split over the kinds
    python bench/drift.py --quick     # 1,400 contacts
    python bench/drift.py --tune      # the tuning seeds instead of the evaluation seeds
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from datetime import timedelta

from cadence._simulate import KINDS, History, first_at_risk, simulate

EVALUATION_SEEDS = 1_000_000
RECALL, FALSE_ALARMS, LEAD = 0.9, 0.05, 14.0
# Steady and seasonal weigh more in the mix: false alarms are what users see most.
SHARE = {
    "steady": 3,
    "fading": 3,
    "one-sided": 1,
    "seasonal": 2,
    "new": 1,
    "handed-over": 1,
    "ended": 1,
}


def _window(history: History) -> tuple[float, float]:
    """The span in which an alarm counts, in days since the epoch."""
    end = history.end.timestamp() / 86400
    if history.onset is not None:
        return history.onset.timestamp() / 86400, end
    return max(history.start.timestamp() / 86400, end - 365), end


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,400 contacts")
    parser.add_argument("--contacts", type=int, help="how many contacts in all")
    parser.add_argument("--tune", action="store_true", help="use the tuning seeds")
    args = parser.parse_args()
    total = args.contacts or (1400 if args.quick else 10_000)
    base = 0 if args.tune else EVALUATION_SEEDS
    weight = sum(SHARE.values())
    flagged: dict[str, list[bool]] = defaultdict(list)
    leads: list[float] = []
    by_period: dict[float, list[float]] = defaultdict(list)
    began = time.perf_counter()
    for kind in KINDS:
        count = total * SHARE[kind] // weight
        for seed in range(base, base + count):
            history = simulate(kind, seed)
            start, end = _window(history)
            found = first_at_risk(history.touches, start, end)
            flagged[kind].append(found is not None)
            if kind == "fading" and found is not None and history.overdue is not None:
                overdue = history.overdue.timestamp() / 86400
                leads.append(overdue - found)
                by_period[history.period].append(overdue - found)
    took = time.perf_counter() - began
    contacts = sum(len(v) for v in flagged.values())
    print(f"{contacts:,} simulated contacts ({'tuning' if args.tune else 'evaluation'} seeds)")
    print(f"{'kind':<12} {'contacts':>8} {'flagged at-risk':>16}")
    for kind in KINDS:
        shown = flagged[kind]
        print(f"{kind:<12} {len(shown):>8} {sum(shown) / len(shown):>16.1%}")
    recall = sum(flagged["fading"]) / len(flagged["fading"])
    calm = flagged["steady"] + flagged["seasonal"]
    alarms = sum(calm) / len(calm)
    lead = statistics.median(leads) if leads else 0.0
    early = sum(1 for x in leads if x > 0) / len(leads) if leads else 0.0
    print(
        f"recall on fading:               {recall:.3f}  (target >= {RECALL}; "
        f"ratio {recall / RECALL:.2f})"
    )
    print(
        f"false alarms, steady+seasonal:  {alarms:.3%}  (target <= {FALSE_ALARMS:.0%}; "
        f"ratio {alarms / FALSE_ALARMS:.2f})"
    )
    print(
        f"median lead over the cadence:   {lead:.1f} days  (target >= {LEAD:.0f}; "
        f"ratio {lead / LEAD:.2f}); flagged before it in {early:.0%} of cases"
    )
    print(f"{'every (days)':<12} {'fades':>8} {'median lead':>12} {'>= 14 days':>11}")
    rows = [(f"{period:g}", shown) for period, shown in sorted(by_period.items())]
    for label, shown_leads in [*rows, ("all", leads)] if leads else []:
        ahead = sum(1 for x in shown_leads if x >= LEAD) / len(shown_leads)
        median = statistics.median(shown_leads)
        print(f"{label:<12} {len(shown_leads):>8} {median:>10.1f} d {ahead:>11.0%}")
    print(f"took {timedelta(seconds=round(took))}")
    missed = recall < RECALL or alarms > FALSE_ALARMS or lead < LEAD
    if missed:
        print("MISSED a target")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
