"""Offline mode's retrieval on the held-out paraphrase set, and search latency by corpus size.

::

    .venv/bin/python bench/offline_retrieval.py              # quality + latency at 100, 10,000, 100,000
    .venv/bin/python bench/offline_retrieval.py --sizes 100 10000 --queries 500

Quality: the demo's saved questions (agent/knowledge/demo_questions.py) are indexed and every paraphrase of the
held-out set (agent/tests/knowledge/paraphrases.py) is searched. Reported per set ("tuned": the set retrieval
was tuned on; "fresh": written after tuning): top-1 and top-3 (the right saved question ranked first / in the
first three), "answered" (ranked first and at or above the threshold: offline mode runs the right SQL), wrong
answers (another question's SQL would run), and on the unrelated questions the false matches (any saved SQL
would run) at ``agent/engine/offline.py MATCH_THRESHOLD``, with a sweep of other thresholds.

Latency: a synthetic corpus of N memories (the demo questions with extra words drawn from a 20,000-word
vocabulary, so common words have long postings), built cold (no question seen before), rebuilt (what a change
to the memories costs: the questions' words are remembered), its size measured (tracemalloc, the index alone),
then the paraphrases are searched (limit 5) round-robin for --queries searches: p50, p95, max in ms. Pure CPU,
no database (the chat path adds one aggregate query per question and reads the SQL of the few results).
Writes nothing.
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # write nothing to the repository, not even __pycache__
BASE_DIR = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BASE_DIR / "bench"]
sys.path.insert(0, str(BASE_DIR))

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "majed_vanna.settings.test")

from agent.engine.offline import MATCH_THRESHOLD  # noqa: E402
from agent.knowledge.demo_questions import DEMO_QUESTIONS  # noqa: E402
from agent.knowledge.retrieval import Index  # noqa: E402
from agent.knowledge.synonyms import DOMAIN_SYNONYMS, Synonyms  # noqa: E402
from agent.tests.knowledge.evaluate import SETS, demo_candidates, evaluate  # noqa: E402

SWEEP = (0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75)
GOAL_P50_MS_AT_10K = 20.0


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def pct(count: int, total: int) -> str:
    return f"{count}/{total} ({100 * count / total:.1f} %)"


def quality() -> None:
    index = Index(demo_candidates())
    print(f"Saved questions: {len(DEMO_QUESTIONS)}; threshold MATCH_THRESHOLD = {MATCH_THRESHOLD}")
    for name in SETS:
        r = evaluate(index, MATCH_THRESHOLD, name)
        print(f"\n[{name}] {r.paraphrases} paraphrases, {r.unrelated} unrelated questions")
        print(f"  top-1     {pct(r.top1, r.paraphrases)}")
        print(f"  top-3     {pct(r.top3, r.paraphrases)}")
        print(f"  answered  {pct(r.answered, r.paraphrases)}  (right SQL run at the threshold)")
        print(f"  wrong     {pct(len(r.wrong_answers), r.paraphrases)}  (another saved question's SQL run)")
        print(f"  false matches on unrelated: {len(r.false_matches)}/{r.unrelated}")
        print(f"  highest unrelated score {r.highest_unrelated:.3f}; lowest right top-1 score {r.lowest_right:.3f}")
        for paraphrase, question, score in r.wrong_answers:
            print(f"    wrong  {score:.2f}  {paraphrase!r} -> {question!r}")
        for paraphrase, question, score in r.false_matches:
            print(f"    FALSE  {score:.2f}  {paraphrase!r} -> {question!r}")
    print("\nThreshold sweep (tuned set): threshold, answered, wrong, false matches")
    for threshold in SWEEP:
        r = evaluate(index, threshold, "tuned")
        print(
            f"  {threshold:.2f}  {pct(r.answered, r.paraphrases):>16}  {len(r.wrong_answers):>3}  "
            f"{len(r.false_matches):>3}/{r.unrelated}"
        )


def synthetic_corpus(size: int, rng: random.Random) -> list[dict]:
    syllables = [a + b for a in "bcdfghklmnprstvz" for b in "aeiou"]
    vocabulary = sorted({"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(25_000)})[:20_000]
    corpus = []
    for number in range(size):
        question = DEMO_QUESTIONS[number % len(DEMO_QUESTIONS)][0].rstrip("?")
        extra = " ".join(rng.choices(vocabulary, k=rng.randint(1, 4)))
        corpus.append({"id": str(number), "question": f"{question} for {extra}?"})
    return corpus


def latency(sizes: list[int], queries: int) -> None:
    rng = random.Random(15)  # a reproducible benchmark corpus
    asked = [p for p, _q in SETS["tuned"][0]]
    where = f"Python {platform.python_version()} on {platform.machine()}"
    print(f"\nSearch latency (limit 5), {queries} searches per size; {where}")
    print("  memories   cold build s   rebuild s   index MiB   p50 ms   p95 ms   max ms")
    for size in sizes:
        corpus = synthetic_corpus(size, rng)
        synonyms = Synonyms(DOMAIN_SYNONYMS)  # its own memo of questions' words: a cold build
        start = time.perf_counter()
        Index(corpus, synonyms)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        index = Index(corpus, synonyms)  # after a change: the questions' words are remembered
        rebuild = time.perf_counter() - start
        tracemalloc.start()
        held = Index(corpus, synonyms)
        size_mib = tracemalloc.get_traced_memory()[0] / 2**20
        tracemalloc.stop()
        del held
        for question in asked[:20]:  # warm-up
            index.search(question, 5)
        samples = []
        for n in range(queries):
            start = time.perf_counter()
            index.search(asked[n % len(asked)], 5)
            samples.append((time.perf_counter() - start) * 1000)
        print(
            f"  {size:>8,}   {cold:>12.2f}   {rebuild:>9.2f}   {size_mib:>9.1f}   {percentile(samples, 0.5):>6.2f}   "
            f"{percentile(samples, 0.95):>6.2f}   {max(samples):>6.2f}"
        )
    print(f"Goal (issue 16): p50 under {GOAL_P50_MS_AT_10K:.0f} ms at 10,000 memories.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=1_000)
    args = parser.parse_args()
    import django

    django.setup()
    quality()
    latency(args.sizes, args.queries)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
