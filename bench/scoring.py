"""The rules engine in process: a 12-criterion agreement judging 1,000,000 synthetic leads.

    .venv/bin/python bench/scoring.py [--leads 1000000] [--seed 1] [--plain N] [--profile]

No database, no Django: the engine is plain Python. The leads are made first (not timed),
with the mess real forms send: blanks, placeholders, "1,200" and "2,5", Yes/true/1, upper
and lower case, free-mail and company addresses; every e-mail and message is unique, half the
sizes and budgets are random numbers, so the engine's memory of texts it has judged (4,096
per criterion) helps only where real forms repeat themselves (countries, Yes/No, choices).
Then, timed on one core:

1. the compiled agreement (`compile_agreement`, once) judging every lead: leads/s, the
   target being 100,000;
2. the same, reading every outcome's sentence afterwards for the first 100,000 (what storing
   the verdicts would cost);
3. the plain `evaluate` (rule by rule, each criterion's terms read afresh), then every
   sentence read, on `--plain` leads (default 100,000), for comparison with 2.

It checks that the compiled and the plain evaluation agree on those leads and prints how many
qualified. `--profile` runs cProfile on the compiled pass over 200,000 leads and prints the
top lines.
"""

import argparse
import cProfile
import os
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring.engine import MANDATORY, SCORING, Rule, compile_agreement, evaluate

BLANKS = ["Select", "N/A", "-"]
AGREEMENT = [
    Rule(1, MANDATORY, "email", "not_free_mail", None, 0, "Work e-mail"),
    Rule(
        2,
        MANDATORY,
        "country",
        "country_in",
        ["Brazil", "Portugal", "Mexico", "Spain"],
        0,
        "Territory",
    ),
    Rule(3, MANDATORY, "company_size", "at_least", 10, 0, "Not a micro company"),
    Rule(4, MANDATORY, "do_not_email", "not_equals", "Yes", 0, "May be e-mailed", True),
    Rule(5, SCORING, "company_size", "between", [50, 5000], 20, "Mid-size"),
    Rule(
        6, SCORING, "job_title", "matches", r"\b(ceo|cto|head|director|vp)\b", 15, "Decision maker"
    ),
    Rule(7, SCORING, "industry", "one_of", ["Software", "Retail", "Finance"], 10, "Industry"),
    Rule(8, SCORING, "segment", "not_one_of", ["student", "personal"], 5, "Not a student"),
    Rule(9, SCORING, "plan", "equals", "Enterprise", 15, "Enterprise plan"),
    Rule(10, SCORING, "budget", "at_least", 10000, 10, "Budget"),
    Rule(11, SCORING, "phone", "present", None, 5, "Phone given"),
    Rule(12, SCORING, "message", "contains", "demo", 5, "Asks for a demo"),
]
THRESHOLD = 30

POOLS = {
    "email": [
        "gmail.com",
        "acme.example",
        "corp.example",
        "outlook.com",
        "yahoo.com.br",
        "Shop.Example",
    ],
    "country": ["Brazil", "brazil", " Portugal", "Mexico", "France", "Select", "", "Chile"],
    "company_size": ["120", "1,200", "9", "2,5", "lots", "", "45", "5000", "12.000", "N/A"],
    "do_not_email": ["Yes", "no", "true", "", "0", None],
    "job_title": ["CEO", "Head of Sales", "buyer", "", "VP Marketing", "Intern", "-"],
    "industry": ["Software", "software", "Food", "Finance", "Select"],
    "segment": ["student", "Retail", "personal", "Enterprise"],
    "plan": ["enterprise", "Free", "Enterprise", "", "team"],
    "budget": ["20000", "500", "", "15,000", "1.000.000", "none"],
    "phone": ["+55 11 5555 0000", "", None, "N/A"],
    "message": ["I'd like a demo", "Pricing?", "", "DEMO please", "just browsing"],
}

LEVELS = ["CEO", "Head of", "VP", "junior", "Director,", "Intern", "", "Senior", "cto", "Lead"]
AREAS = ["Sales", "Marketing", "IT", "Operations", "Finance", "", "Growth", "People"]


def synthetic_leads(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    choice = rng.choice
    leads = []
    for i in range(count):
        lead = {key: choice(pool) for key, pool in POOLS.items()}
        # Values that are rarely the same twice: the engine cannot lean on having seen them.
        lead["email"] = f"lead{i}@{lead['email']}"
        if i % 2:
            lead["company_size"] = f"{rng.randint(1, 20_000):,}"
            lead["budget"] = str(rng.randint(0, 100_000))
        lead["job_title"] = f"{choice(LEVELS)} {choice(AREAS)}"
        lead["message"] = f"{lead['message']} (ref {rng.randint(1, 10**9)})"
        if i % 7 == 0:
            del lead["phone"]  # a field the form did not ask then
        leads.append(lead)
    return leads


def timed(label: str, count: int, run) -> float:
    """Runs `run` and prints leads/s by the wall clock and by this process's CPU time.

    On a shared machine the wall clock counts the time other processes held the core; the
    CPU time is what one core spent on the engine alone.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{label:<52} {count:>9,} leads: {count / cpu:>9,.0f} leads/s of CPU "
        f"({cpu:5.2f} s), {count / wall:>9,.0f} leads/s by the clock ({wall:5.2f} s)"
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--plain", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    print(f"Python {sys.version.split()[0]}; {len(AGREEMENT)} criteria, threshold {THRESHOLD}")
    print(f"load average at start: {', '.join(f'{n:.2f}' for n in os.getloadavg())}")
    started = time.perf_counter()
    leads = synthetic_leads(args.leads, args.seed)
    print(
        f"made {len(leads):,} synthetic leads in {time.perf_counter() - started:.1f} s (not timed)"
    )

    compiled = compile_agreement(AGREEMENT, THRESHOLD, blanks=BLANKS)
    # Like the what-if: each verdict is counted, then dropped.
    qualified = timed(
        "compiled, verdicts only (sentences on demand)",
        len(leads),
        lambda: sum(1 for lead in leads if compiled(lead).qualified),
    )
    print(f"qualified: {qualified:,} of {len(leads):,}")

    sample = leads[: min(args.plain, len(leads))]
    timed(
        "compiled, then every sentence read",
        len(sample),
        lambda: [[o.reason for o in compiled(lead).outcomes] for lead in sample],
    )

    def plain_with_sentences(lead):
        verdict = evaluate(lead, AGREEMENT, THRESHOLD, blanks=BLANKS)
        _ = [o.reason for o in verdict.outcomes]
        return verdict

    plain = timed(
        "plain evaluate, then every sentence read",
        len(sample),
        lambda: [plain_with_sentences(lead) for lead in sample],
    )
    disagree = sum(
        1
        for lead, verdict in zip(sample, plain, strict=True)
        if [o.reason for o in compiled(lead).outcomes] != [o.reason for o in verdict.outcomes]
        or compiled(lead).qualified != verdict.qualified
    )
    print(f"compiled and plain disagree on {disagree} of {len(sample):,} leads")

    if args.profile:
        profiled = leads[:200_000]
        profiler = cProfile.Profile()
        profiler.enable()
        for lead in profiled:
            compiled(lead)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(10)
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
